package kernel

import (
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// Signal-driven I/O (fcntl(2) F_SETOWN, F_SETOWN_EX, F_SETSIG, O_ASYNC).
//
// Each open file description with an owner, a signal or O_ASYNC has a
// fileAsync in asyncFiles (Linux keeps it in struct file: dup'd
// descriptors share it). While O_ASYNC is set a goroutine per file waits
// on readiness entries registered on the file (one for input if the file
// is readable, one for output if writable) and, on each notification,
// sends the signal to the owner. The notifier (a write to a pipe, say)
// only wakes a channel (vfs/waiter), so the signal is sent from that
// goroutine with no lock of the file held: a SIGIO arrives shortly after
// the event rather than before the notifying call returns.
//
// Lock order: asyncMu is a leaf; it is never held with Kernel.mu, a
// waiter.Queue's lock or across a DecRef (the release watch takes it).
// A TCP socket with an owner also has a watcher for EPOLLPRI, which sends
// SIGURG when urgent data arrives, O_ASYNC or not.

// Owner types of F_SETOWN_EX (Linux's F_OWNER_*).
const (
	OwnerTID  = 0
	OwnerPID  = 1
	OwnerPGRP = 2
)

// poll reasons (si_code of a F_SETSIG signal) and their bands (si_band).
const (
	pollIn  = 1 // POLL_IN
	pollOut = 2 // POLL_OUT
	bandIn  = unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLMSG
	bandOut = unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLWRBAND
)

var (
	// asyncMu protects asyncFiles and every fileAsync's fields.
	asyncMu sync.Mutex
	// asyncFiles is the signal-driven I/O state of open files, dropped
	// when the file is released.
	asyncFiles = map[*vfs.FileDescription]*fileAsync{}
)

// fileAsync is one open file's signal-driven I/O state. Protected by
// asyncMu.
type fileAsync struct {
	k *Kernel
	// ownerType and ownerID are the owner (ID 0: none).
	ownerType, ownerID int32
	// uid and euid are the real and effective UIDs of whoever set the
	// owner, for the permission check of each signal (fcntl(2)).
	uid, euid uint32
	// sig is F_SETSIG's signal (0: SIGIO without details).
	sig int32
	// fd is the descriptor through which O_ASYNC was last set (si_fd).
	fd int32
	// stop, while O_ASYNC is set, is closed to end the watcher.
	stop chan struct{}
	// urgStop, once an owner is set on a file with urgent data (TCP), is
	// closed at release to end the SIGURG watcher.
	urgStop chan struct{}
}

// asyncOfLocked returns f's state, made if need be (nil if f is already
// released).
//
// Preconditions: asyncMu is held.
func (k *Kernel) asyncOfLocked(f *vfs.FileDescription) *fileAsync {
	if a := asyncFiles[f]; a != nil {
		return a
	}
	a := &fileAsync{k: k}
	if !f.WatchRelease(a, func() {
		asyncMu.Lock()
		delete(asyncFiles, f)
		if a.stop != nil {
			close(a.stop)
			a.stop = nil
		}
		if a.urgStop != nil {
			close(a.urgStop)
			a.urgStop = nil
		}
		asyncMu.Unlock()
	}) {
		return nil
	}
	asyncFiles[f] = a
	return a
}

// SetFileOwner implements F_SETOWN and F_SETOWN_EX: signals for f go to
// thread, process or process group id (0: nobody). EINVAL for a bad
// type, ESRCH if no such target exists. urgent says f has urgent data
// (a TCP socket): its arrival (EPOLLPRI) sends the owner SIGURG, with or
// without O_ASYNC (socket(7)).
func (t *Task) SetFileOwner(f *vfs.FileDescription, typ, id int32, urgent bool) error {
	if typ != OwnerTID && typ != OwnerPID && typ != OwnerPGRP {
		return unix.EINVAL
	}
	if id < 0 {
		// No such PID (Linux's find_vpid finds none).
		return unix.ESRCH
	}
	k := t.k
	if id != 0 {
		k.mu.Lock()
		found := false
		switch typ {
		case OwnerTID:
			found = k.tasks[id] != nil
		case OwnerPID:
			found = k.groups[id] != nil
		case OwnerPGRP:
			for _, tg := range k.groups {
				if tg.pgid == id {
					found = true
					break
				}
			}
		}
		k.mu.Unlock()
		if !found {
			return unix.ESRCH
		}
	}
	c := t.Credentials()
	asyncMu.Lock()
	a := k.asyncOfLocked(f)
	if a == nil {
		asyncMu.Unlock()
		return unix.EBADF
	}
	a.ownerType, a.ownerID, a.uid, a.euid = typ, id, c.RealUID, c.EffectiveUID
	var stop chan struct{}
	if urgent && id != 0 && a.urgStop == nil {
		stop = make(chan struct{})
		a.urgStop = stop
	}
	asyncMu.Unlock()
	if stop != nil {
		// Registered outside asyncMu, as the file's locks may be taken;
		// a release meanwhile has closed stop and the watcher just ends.
		pri := waiter.NewEntry(unix.EPOLLPRI)
		f.EventRegister(pri)
		go func() {
			defer f.EventUnregister(pri)
			for {
				select {
				case <-stop:
					return
				case <-pri.C:
					a.sendInfo(&linux.SignalInfo{Signo: int32(unix.SIGURG), Code: linux.SI_KERNEL})
				}
			}
		}()
	}
	return nil
}

// FileOwner implements F_GETOWN_EX: f's owner type and ID (0, 0 if none
// was set).
func FileOwner(f *vfs.FileDescription) (typ, id int32) {
	asyncMu.Lock()
	defer asyncMu.Unlock()
	if a := asyncFiles[f]; a != nil {
		return a.ownerType, a.ownerID
	}
	return OwnerTID, 0
}

// SetFileSignal implements F_SETSIG: EINVAL unless 0 <= sig <= 64.
func (t *Task) SetFileSignal(f *vfs.FileDescription, sig int32) error {
	if sig < 0 || sig > 64 {
		return unix.EINVAL
	}
	asyncMu.Lock()
	defer asyncMu.Unlock()
	a := t.k.asyncOfLocked(f)
	if a == nil {
		return unix.EBADF
	}
	a.sig = sig
	return nil
}

// FileSignal implements F_GETSIG.
func FileSignal(f *vfs.FileDescription) int32 {
	asyncMu.Lock()
	defer asyncMu.Unlock()
	if a := asyncFiles[f]; a != nil {
		return a.sig
	}
	return 0
}

// SetFileAsync starts (on) or stops signal-driven I/O for f, whose
// O_ASYNC flag changed through descriptor fd.
func (t *Task) SetFileAsync(f *vfs.FileDescription, fd int32, on bool) {
	asyncMu.Lock()
	if !on {
		if a := asyncFiles[f]; a != nil && a.stop != nil {
			close(a.stop)
			a.stop = nil
		}
		asyncMu.Unlock()
		return
	}
	a := t.k.asyncOfLocked(f)
	if a == nil {
		asyncMu.Unlock()
		return
	}
	a.fd = fd
	if a.stop != nil {
		asyncMu.Unlock()
		return
	}
	stop := make(chan struct{})
	a.stop = stop
	asyncMu.Unlock()

	// Registered before fcntl returns, so that an event right after it is
	// seen.
	var in, out *waiter.Entry
	never := make(chan struct{})
	inC, outC := (<-chan struct{})(never), (<-chan struct{})(never)
	if f.IsReadable() {
		in = waiter.NewEntry(unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLHUP)
		f.EventRegister(in)
		inC = in.C
	}
	if f.IsWritable() {
		out = waiter.NewEntry(unix.EPOLLOUT)
		f.EventRegister(out)
		outC = out.C
	}
	go func() {
		defer func() {
			if in != nil {
				f.EventUnregister(in)
			}
			if out != nil {
				f.EventUnregister(out)
			}
		}()
		for {
			select {
			case <-stop:
				return
			case <-inC:
				a.send(pollIn, bandIn)
			case <-outC:
				a.send(pollOut, bandOut)
			}
		}
	}()
}

// send sends the owner the file's signal for reason (POLL_IN, ...).
func (a *fileAsync) send(reason int32, band int64) {
	asyncMu.Lock()
	sig, fd := a.sig, a.fd
	asyncMu.Unlock()
	var info linux.SignalInfo
	if sig == 0 {
		info.Signo, info.Code = int32(unix.SIGIO), linux.SI_KERNEL
	} else {
		info.Signo, info.Code = sig, reason
		info.SetBand(band)
		info.SetFD(fd)
	}
	a.sendInfo(&info)
}

// sendInfo sends info to the owner, if any, and if allowed.
func (a *fileAsync) sendInfo(info *linux.SignalInfo) {
	asyncMu.Lock()
	typ, id, uid, euid := a.ownerType, a.ownerID, a.uid, a.euid
	asyncMu.Unlock()
	if id == 0 {
		return
	}
	k := a.k
	k.mu.Lock()
	defer k.mu.Unlock()
	// fcntl(2): the sender's credentials when the owner was set must
	// match the target's real or saved UID, or be root's.
	allowed := func(t *Task) bool {
		c := t.Credentials()
		return euid == 0 || euid == c.SavedUID || euid == c.RealUID || uid == c.SavedUID || uid == c.RealUID
	}
	sendTo := func(t *Task, group bool) {
		if t != nil && (group || !t.exiting) && allowed(t) {
			k.sendLocked(t, info, group)
		}
	}
	switch typ {
	case OwnerTID:
		sendTo(k.tasks[id], false)
	case OwnerPID:
		if tg := k.groups[id]; tg != nil && !tg.zombie {
			sendTo(tg.leader, true)
		}
	case OwnerPGRP:
		for _, tg := range k.groups {
			if tg.pgid == id && !tg.zombie {
				sendTo(tg.leader, true)
			}
		}
	}
}
