package linux

import (
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/epoll"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_EPOLL_CREATE, EpollCreate)
	full(unix.SYS_EPOLL_CREATE1, EpollCreate1)
	partial(unix.SYS_EPOLL_CTL, "EPOLLEXCLUSIVE wakes every waiter; EPOLLWAKEUP is ignored", EpollCtl)
	full(unix.SYS_EPOLL_WAIT, EpollWait)
	full(unix.SYS_EPOLL_PWAIT, EpollPwait)
	full(unix.SYS_EPOLL_PWAIT2, EpollPwait2)
}

// epollMaxEvents is the most events one epoll_wait may ask for. Linux:
// EP_MAX_EVENTS.
const epollMaxEvents = (1<<31 - 1) / epoll.EventSize

// taskSize is the end of the user address range (Linux: TASK_SIZE_MAX on
// x86-64 with 4-level page tables), for access_ok.
const taskSize = 0x7ffffffff000

// epollCreate makes an epoll instance and installs it with fdFlags.
func epollCreate(t *kernel.Task, fdFlags kernel.FDFlags) (uint64, error) {
	f := epoll.New()
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, fdFlags)
	return uint64(fd), err
}

// EpollCreate implements epoll_create(2): size must be positive and is
// otherwise ignored.
func EpollCreate(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	size := intArg(args[0])
	if size <= 0 {
		return 0, unix.EINVAL
	}
	return epollCreate(t, kernel.FDFlags{})
}

// EpollCreate1 implements epoll_create1(2).
func EpollCreate1(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	flags := intArg(args[0])
	if flags&^unix.EPOLL_CLOEXEC != 0 {
		return 0, unix.EINVAL
	}
	return epollCreate(t, kernel.FDFlags{CloseOnExec: flags&unix.EPOLL_CLOEXEC != 0})
}

// EpollCtl implements epoll_ctl(2).
func EpollCtl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	epfd, op, fd, addr := fdArg(args[0]), intArg(args[1]), fdArg(args[2]), args[3]
	var ev epoll.Event
	if op != epoll.CtlDel {
		var b [epoll.EventSize]byte
		if err := copyIn(t, addr, b[:]); err != nil {
			return 0, err
		}
		ev = epoll.UnmarshalEvent(b[:])
	}
	epFile, err := getOpenFile(t, epfd)
	if err != nil {
		return 0, err
	}
	defer epFile.DecRef(t.Context())
	file, err := getOpenFile(t, fd)
	if err != nil {
		return 0, err
	}
	defer file.DecRef(t.Context())
	if !epoll.Pollable(t.Context(), file) {
		return 0, unix.EPERM
	}
	ep := epoll.FromFile(epFile)
	if ep == nil || epFile == file {
		return 0, unix.EINVAL
	}
	return 0, ep.Control(op, file, fd, ev)
}

// epollWait implements the epoll_wait family once the timeout and signal
// mask are settled.
func epollWait(t *kernel.Task, epfd int32, addr uint64, maxEvents int32, block bool, deadline time.Time) (uint64, error) {
	if maxEvents <= 0 || maxEvents > epollMaxEvents {
		return 0, unix.EINVAL
	}
	if end := addr + uint64(maxEvents)*epoll.EventSize; end < addr || end > taskSize {
		return 0, unix.EFAULT
	}
	f, err := getOpenFile(t, epfd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	ep := epoll.FromFile(f)
	if ep == nil {
		return 0, unix.EINVAL
	}
	ctx := t.Context()
	n, err := ep.Wait(ctx, epoll.WaitOptions{
		Max:      int(maxEvents),
		Block:    block,
		Deadline: deadline,
		Emit: func(evs []epoll.Event) (int, error) {
			b := make([]byte, len(evs)*epoll.EventSize)
			for i, ev := range evs {
				ev.Marshal(b[i*epoll.EventSize:])
			}
			n, err := t.CopyOut(addr, b)
			if err != nil {
				return n / epoll.EventSize, unix.EFAULT
			}
			return len(evs), nil
		},
		Wait: func(ch <-chan struct{}) error {
			// epoll_wait is never restarted: a signal to handle ends
			// it with EINTR. A wake-up for a signal that stays
			// blocked is spurious.
			if err := t.Block(ch); err != nil && t.SignalPending() {
				return unix.EINTR
			}
			return nil
		},
	})
	return uint64(n), err
}

// msTimeout converts a timeout in milliseconds (negative: none).
func msTimeout(ms int32) (bool, time.Time) {
	switch {
	case ms < 0:
		return true, time.Time{}
	case ms == 0:
		return false, time.Time{}
	}
	return true, time.Now().Add(time.Duration(ms) * time.Millisecond)
}

// EpollWait implements epoll_wait(2).
func EpollWait(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	epfd, addr, maxEvents, timeout := fdArg(args[0]), args[1], intArg(args[2]), intArg(args[3])
	block, deadline := msTimeout(timeout)
	return epollWait(t, epfd, addr, maxEvents, block, deadline)
}

// EpollPwait implements epoll_pwait(2).
func EpollPwait(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	epfd, addr, maxEvents, timeout, maskAddr, maskSize := fdArg(args[0]), args[1], intArg(args[2]), intArg(args[3]), args[4], args[5]
	block, deadline := msTimeout(timeout)
	return withSigmask(t, maskAddr, maskSize, func() (uint64, error) {
		return epollWait(t, epfd, addr, maxEvents, block, deadline)
	})
}

// EpollPwait2 implements epoll_pwait2(2): epoll_pwait with a timespec
// timeout (NULL: none).
func EpollPwait2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	epfd, addr, maxEvents, timeoutAddr, maskAddr, maskSize := fdArg(args[0]), args[1], intArg(args[2]), args[3], args[4], args[5]
	block, deadline, err := timeoutArg(t, timeoutAddr)
	if err != nil {
		return 0, err
	}
	return withSigmask(t, maskAddr, maskSize, func() (uint64, error) {
		return epollWait(t, epfd, addr, maxEvents, block, deadline)
	})
}
