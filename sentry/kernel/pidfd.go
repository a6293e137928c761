package kernel

import (
	"context"
	"fmt"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
	"golang.org/x/sys/unix"
)

// PIDFD is a file that refers to a process: pidfd_open(2), CLONE_PIDFD.
// It is readable (poll, epoll) once the process has exited, and
// additionally hung up once it has been reaped. Linux: a pidfs file.
type PIDFD struct {
	vfs.FileDescriptionDefaultImpl
	k *Kernel
	// tg is the process; nil until a CLONE_PIDFD clone binds it.
	// Protected by Kernel.mu.
	tg *ThreadGroup
}

var _ vfs.FileDescriptionImpl = (*PIDFD)(nil)

// NewPIDFD returns a pidfd file with one reference, not yet bound to a
// process (clone binds it through CloneOptions.PIDFD).
func (k *Kernel) NewPIDFD(nonblock bool) (*vfs.FileDescription, *PIDFD) {
	p := &PIDFD{k: k}
	flags := uint32(unix.O_RDWR)
	if nonblock {
		flags |= unix.O_NONBLOCK
	}
	return vfs.NewFileDescription(p, flags, vfs.VirtualDentry{}), p
}

// PIDFDOpen implements pidfd_open(2)'s lookup: pid must name a process
// (a thread-group leader; EINVAL for another thread), live or a zombie
// not yet reaped (ESRCH otherwise).
func (t *Task) PIDFDOpen(pid int32, nonblock bool) (*vfs.FileDescription, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := k.groups[pid]
	if tg == nil {
		if k.tasks[pid] != nil {
			return nil, unix.EINVAL
		}
		return nil, unix.ESRCH
	}
	f, p := k.NewPIDFD(nonblock)
	p.tg = tg
	return f, nil
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (p *PIDFD) Stream() bool { return true }

// Stat implements vfs.FileDescriptionImpl.Stat: an anonymous inode.
func (p *PIDFD) Stat(context.Context) (unix.Statx_t, error) {
	return unix.Statx_t{Mask: unix.STATX_BASIC_STATS, Mode: 0o600, Nlink: 1, Blksize: 4096}, nil
}

// Read implements vfs.FileDescriptionImpl.Read: pidfds are not readable
// (Linux: EINVAL).
func (p *PIDFD) Read(context.Context, *vfs.FileDescription, []byte, int64) (int, error) {
	return 0, unix.EINVAL
}

// Write implements vfs.FileDescriptionImpl.Write: EINVAL, as Linux.
func (p *PIDFD) Write(_ context.Context, _ *vfs.FileDescription, _ []byte, off int64) (int, int64, error) {
	return 0, off, unix.EINVAL
}

// Readiness implements vfs.FileDescriptionImpl.Readiness: EPOLLIN once
// every thread has exited, EPOLLHUP as well once the process is reaped.
func (p *PIDFD) Readiness(mask uint32) uint32 {
	p.k.mu.Lock()
	defer p.k.mu.Unlock()
	tg := p.tg
	if tg == nil {
		return 0
	}
	var r uint32
	if tg.zombie {
		r = unix.EPOLLIN | unix.EPOLLRDNORM
		if p.k.groups[tg.id] != tg {
			r |= unix.EPOLLHUP
		}
	}
	return r & mask
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (p *PIDFD) EventRegister(w *waiter.Entry) {
	if tg := p.group(); tg != nil {
		tg.pidfdQueue.EventRegister(w)
	}
}

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (p *PIDFD) EventUnregister(w *waiter.Entry) {
	if tg := p.group(); tg != nil {
		tg.pidfdQueue.EventUnregister(w)
	}
}

func (p *PIDFD) group() *ThreadGroup {
	p.k.mu.Lock()
	defer p.k.mu.Unlock()
	return p.tg
}

// PIDFDGroup returns the process f refers to, or EBADF if f is not a
// pidfd.
func PIDFDGroup(f *vfs.FileDescription) (*ThreadGroup, error) {
	p, ok := f.Impl().(*PIDFD)
	if !ok {
		return nil, unix.EBADF
	}
	if tg := p.group(); tg != nil {
		return tg, nil
	}
	return nil, unix.ESRCH
}

// PIDFD signal scopes (pidfd_send_signal's flags, Linux 6.9).
const (
	PIDFDSignalThread       = 1
	PIDFDSignalThreadGroup  = 2
	PIDFDSignalProcessGroup = 4
)

// PIDFDSendSignal implements pidfd_send_signal(2) once the pidfd and
// siginfo are decoded, in Linux's order: a caller-made siginfo may carry a
// kernel or kill code only for the caller's own process (EPERM); ESRCH if
// the process has been reaped; EINVAL for a bad signal number; then the
// signal goes as kill(2)'s would (a zombie drops it), if t may send it
// (EPERM otherwise). Signal 0 only checks.
func (t *Task) PIDFDSendSignal(tg *ThreadGroup, info *linux.SignalInfo, userInfo bool, scope int) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if userInfo && (tg != t.tg || scope == PIDFDSignalThread || scope == PIDFDSignalProcessGroup) &&
		(info.Code >= 0 || info.Code == linux.SI_TKILL) {
		return unix.EPERM
	}
	if k.groups[tg.id] != tg {
		return unix.ESRCH
	}
	if info.Signo < 0 || info.Signo > linux.NumSignals {
		return unix.EINVAL
	}
	if target := tg.leader; target != nil && !tg.zombie && !t.mayKillLocked(target, int(info.Signo)) {
		return unix.EPERM
	}
	if info.Signo == 0 {
		return nil
	}
	switch scope {
	case PIDFDSignalProcessGroup:
		for _, g := range k.groups {
			if g.pgid == tg.pgid && !g.zombie && g.leader != nil {
				k.sendLocked(g.leader, info, true)
			}
		}
	case PIDFDSignalThread:
		if tg.leader != nil && !tg.zombie {
			k.sendLocked(tg.leader, info, false)
		}
	default:
		if tg.leader != nil && !tg.zombie {
			k.sendLocked(tg.leader, info, true)
		}
	}
	return nil
}

// PIDFDGetFD implements pidfd_getfd(2)'s lookup: it returns, with a
// reference, the file at fd in tg's table. ESRCH once tg has exited,
// EPERM unless t may attach to it (same user or CAP_SYS_PTRACE, as
// PTRACE_MODE_ATTACH_REALCREDS), EBADF if fd is not open.
func (t *Task) PIDFDGetFD(tg *ThreadGroup, fd int32) (*vfs.FileDescription, error) {
	k := t.k
	k.mu.Lock()
	if k.groups[tg.id] != tg {
		k.mu.Unlock()
		return nil, unix.ESRCH
	}
	leader := tg.leader
	if tg.zombie || leader == nil || leader.exiting || leader.fdTable == nil {
		// Exited: as Linux, even before it is reaped.
		k.mu.Unlock()
		return nil, unix.ESRCH
	}
	if !t.mayAttachRealCredsLocked(leader) {
		k.mu.Unlock()
		return nil, unix.EPERM
	}
	table := leader.fdTable
	table.IncRef()
	k.mu.Unlock()
	f, _ := table.Get(fd)
	table.DecRef(t)
	if f == nil {
		return nil, unix.EBADF
	}
	return f, nil
}

// AnonInodeName names the file in /proc/PID/fd links: anon_inode:[pidfd].
func (p *PIDFD) AnonInodeName() string { return "[pidfd]" }

// FDInfo adds the process's PID to /proc/PID/fdinfo/N, as Linux: "Pid:"
// and "NSpid:", -1 once the process has been reaped.
func (p *PIDFD) FDInfo() string {
	p.k.mu.Lock()
	defer p.k.mu.Unlock()
	pid := int32(-1)
	if tg := p.tg; tg != nil && p.k.groups[tg.id] == tg {
		pid = tg.id
	}
	return fmt.Sprintf("Pid:\t%d\nNSpid:\t%d\n", pid, pid)
}

// capKill is CAP_KILL.
const capKill = 5

// mayKillLocked is Linux's check_kill_permission for a signal from user
// space: the caller's process, or a real or effective UID of the caller
// matching the target's real or saved UID, or CAP_KILL; SIGCONT may also
// go anywhere in the caller's session.
//
// Preconditions: Kernel.mu is held.
func (t *Task) mayKillLocked(target *Task, sig int) bool {
	if target.tg == t.tg {
		return true
	}
	c, tc := t.Credentials(), target.Credentials()
	if c.EffectiveUID == tc.SavedUID || c.EffectiveUID == tc.RealUID ||
		c.RealUID == tc.SavedUID || c.RealUID == tc.RealUID || c.HasCap(capKill) {
		return true
	}
	return sig == int(unix.SIGCONT) && target.tg.sid == t.tg.sid
}
