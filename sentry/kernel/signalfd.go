package kernel

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// This file implements signalfd(2) files, which read pending signals as
// struct signalfd_siginfo records instead of having them delivered.
//
// Linux checks the signals of the task that reads or polls (current).
// Reads here do too, but Readiness has no caller, so a signalfd's
// readiness (poll, epoll) looks at the task that created it and its
// process. Every signal queued in the kernel notifies every signalfd
// (Kernel.notifySignalFDsLocked, called from sendLocked); waiters re-check.
//
// Lock order: Kernel.mu, then signalFDsMu, then waiter.Queue.mu.

// signalfd flags. Linux: include/uapi/linux/signalfd.h.
const (
	SFD_CLOEXEC  = unix.O_CLOEXEC
	SFD_NONBLOCK = unix.O_NONBLOCK
)

// SignalfdSiginfoSize is sizeof(struct signalfd_siginfo).
const SignalfdSiginfoSize = 128

var (
	signalFDsMu sync.Mutex
	// signalFDs are the open signalfds. Protected by signalFDsMu.
	signalFDs = map[*signalFD]struct{}{}
)

// signalFD is the implementation of a signalfd file. Linux: struct
// signalfd_ctx.
type signalFD struct {
	vfs.FileDescriptionDefaultImpl

	// queue holds pollers and blocked readers.
	queue waiter.Queue
	// owner created the file; its signals decide readiness. Immutable.
	owner *Task
	// mask are the signals read through the file (never SIGKILL or
	// SIGSTOP). Accessed atomically.
	mask atomic.Uint64
}

var _ vfs.FileDescriptionImpl = (*signalFD)(nil)

// NewSignalFD returns a new signalfd file with one reference that reads
// t's signals in mask. nonblock sets O_NONBLOCK.
func NewSignalFD(t *Task, mask linux.SignalSet, nonblock bool) *vfs.FileDescription {
	s := &signalFD{owner: t}
	s.mask.Store(uint64(mask &^ unblockable))
	signalFDsMu.Lock()
	signalFDs[s] = struct{}{}
	signalFDsMu.Unlock()
	flags := uint32(unix.O_RDWR)
	if nonblock {
		flags |= unix.O_NONBLOCK
	}
	return vfs.NewFileDescription(s, flags, vfs.VirtualDentry{})
}

// IsSignalFD reports whether file is a signalfd.
func IsSignalFD(file *vfs.FileDescription) bool {
	_, ok := file.Impl().(*signalFD)
	return ok
}

// SetSignalFDMask replaces the mask of a signalfd (signalfd4 with an
// existing descriptor): EINVAL if file is not a signalfd.
func SetSignalFDMask(file *vfs.FileDescription, mask linux.SignalSet) error {
	s, ok := file.Impl().(*signalFD)
	if !ok {
		return unix.EINVAL
	}
	s.mask.Store(uint64(mask &^ unblockable))
	s.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
	return nil
}

// notifySignalFDsLocked wakes the waiters of every signalfd: a signal is
// being queued.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) notifySignalFDsLocked() {
	signalFDsMu.Lock()
	defer signalFDsMu.Unlock()
	for s := range signalFDs {
		s.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
	}
}

// SignalPending reports whether t has a signal to handle, or is exiting:
// what makes a blocking call end with EINTR rather than wait on after a
// wake-up.
func (t *Task) SignalPending() bool { return t.interrupted() }

// Killed reports whether t is exiting (SIGKILL, exit_group, execve by
// another thread): long copies stop early, as Linux's do on a fatal
// signal.
func (t *Task) Killed() bool {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.exiting
}

// Release implements vfs.FileDescriptionImpl.Release.
func (s *signalFD) Release(context.Context) {
	signalFDsMu.Lock()
	delete(signalFDs, s)
	signalFDsMu.Unlock()
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (s *signalFD) Stream() bool { return true }

// Stat implements vfs.FileDescriptionImpl.Stat: an anonymous inode.
func (s *signalFD) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (s *signalFD) EventRegister(e *waiter.Entry) { s.queue.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (s *signalFD) EventUnregister(e *waiter.Entry) { s.queue.EventUnregister(e) }

// Readiness implements vfs.FileDescriptionImpl.Readiness: readable when a
// signal in the mask is pending for the owner or its process.
func (s *signalFD) Readiness(mask uint32) uint32 {
	t := s.owner
	k := t.k
	k.mu.Lock()
	pending := (t.pending.set | t.tg.pending.set) & linux.SignalSet(s.mask.Load())
	k.mu.Unlock()
	if pending != 0 {
		return mask & (unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	return 0
}

// Read implements vfs.FileDescriptionImpl.Read: it dequeues as many
// pending signals in the mask as dst holds records for, waiting for the
// first unless the file is non-blocking.
func (s *signalFD) Read(ctx context.Context, fd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	max := len(dst) / SignalfdSiginfoSize
	if max == 0 {
		return 0, unix.EINVAL
	}
	t := TaskFromContext(ctx)
	if t == nil {
		t = s.owner
	}
	var w *waiter.Entry
	defer func() {
		if w != nil {
			s.queue.EventUnregister(w)
		}
	}()
	for {
		n := 0
		set := linux.SignalSet(s.mask.Load())
		t.k.mu.Lock()
		for n < max {
			info, ok := t.dequeueLocked(set)
			if !ok {
				break
			}
			putSignalfdSiginfo(dst[n*SignalfdSiginfoSize:(n+1)*SignalfdSiginfoSize], &info)
			n++
		}
		t.k.mu.Unlock()
		if n > 0 {
			return n * SignalfdSiginfoSize, nil
		}
		if fd.StatusFlags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		if w == nil {
			w = s.queue.Register(unix.EPOLLIN)
			continue
		}
		if err := vfs.Block(ctx, w.C); err != nil {
			return 0, err
		}
	}
}

// putSignalfdSiginfo fills b (128 bytes) with info as struct
// signalfd_siginfo, copying the fields that info's layout defines (Linux:
// signalfd_copyinfo and siginfo_layout).
func putSignalfdSiginfo(b []byte, info *linux.SignalInfo) {
	clear(b)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(info.Signo))
	le.PutUint32(b[4:], uint32(info.Errno))
	le.PutUint32(b[8:], uint32(info.Code))
	kill := func() {
		le.PutUint32(b[12:], uint32(info.PID()))
		le.PutUint32(b[16:], info.UID())
	}
	value := func() {
		le.PutUint64(b[48:], info.Value())         // ssi_ptr
		le.PutUint32(b[44:], uint32(info.Value())) // ssi_int
	}
	sig := unix.Signal(info.Signo)
	switch code := info.Code; {
	case code == linux.SI_TIMER:
		le.PutUint32(b[24:], uint32(info.TimerID()))
		le.PutUint32(b[32:], uint32(info.Overrun()))
		value()
	case code == linux.SI_USER || code == linux.SI_KERNEL:
		kill()
	case code < 0:
		kill()
		value()
	case sig == unix.SIGCHLD:
		kill()
		le.PutUint32(b[40:], uint32(info.Status()))
		le.PutUint64(b[56:], uint64(info.Utime()))
		le.PutUint64(b[64:], uint64(info.Stime()))
	case sig == unix.SIGSEGV || sig == unix.SIGBUS || sig == unix.SIGILL || sig == unix.SIGFPE || sig == unix.SIGTRAP:
		le.PutUint64(b[72:], info.Addr())
	case sig == unix.SIGIO:
		le.PutUint32(b[28:], uint32(info.Band()))
		le.PutUint32(b[20:], uint32(info.FD()))
	case sig == unix.SIGSYS:
		le.PutUint64(b[88:], info.Addr())
		le.PutUint32(b[84:], uint32(info.Syscall()))
		le.PutUint32(b[96:], info.Arch())
	default:
		kill()
	}
}
