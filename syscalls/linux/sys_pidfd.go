package linux

import (
	"encoding/binary"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_PIDFD_OPEN, "process pidfds only: PIDFD_THREAD (Linux 6.9) is EINVAL", PidfdOpen)
	full(unix.SYS_PIDFD_SEND_SIGNAL, PidfdSendSignal)
	full(unix.SYS_PIDFD_GETFD, PidfdGetfd)
}

// PidfdOpen implements pidfd_open(2). PIDFD_THREAD (O_EXCL, Linux 6.9)
// is not supported: EINVAL, as on earlier kernels.
func PidfdOpen(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, flags := intArg(args[0]), uint32(args[1])
	if flags&^uint32(unix.O_NONBLOCK) != 0 || pid <= 0 {
		return 0, unix.EINVAL
	}
	f, err := t.PIDFDOpen(pid, flags&unix.O_NONBLOCK != 0)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: true})
	return uint64(fd), err
}

// pidfdArg returns the process of pidfd fd: EBADF if fd is not open or
// not a pidfd.
func pidfdArg(t *kernel.Task, fd int32) (*kernel.ThreadGroup, error) {
	f, err := getOpenFile(t, fd)
	if err != nil {
		return nil, err
	}
	defer f.DecRef(t.Context())
	return kernel.PIDFDGroup(f)
}

// PidfdSendSignal implements pidfd_send_signal(2).
func PidfdSendSignal(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, sig, infoAddr, flags := fdArg(args[0]), intArg(args[1]), args[2], uint32(args[3])
	const scopes = kernel.PIDFDSignalThread | kernel.PIDFDSignalThreadGroup | kernel.PIDFDSignalProcessGroup
	if flags&^scopes != 0 || flags&(flags-1) != 0 {
		return 0, unix.EINVAL
	}
	tg, err := pidfdArg(t, fd)
	if err != nil {
		return 0, err
	}
	var info *abi.SignalInfo
	if infoAddr != 0 {
		info = new(abi.SignalInfo)
		if err := copyIn(t, infoAddr, abi.AsBytes(info)); err != nil {
			return 0, err
		}
		if info.Signo != sig {
			return 0, unix.EINVAL
		}
	} else {
		code := int32(abi.SI_USER)
		if flags == kernel.PIDFDSignalThread {
			code = abi.SI_TKILL
		}
		info = &abi.SignalInfo{Signo: sig, Code: code}
		info.SetPID(t.ThreadGroup().ID())
		info.SetUID(t.Credentials().RealUID)
	}
	return 0, t.PIDFDSendSignal(tg, info, infoAddr != 0, int(flags))
}

// PidfdGetfd implements pidfd_getfd(2): a duplicate of another process's
// descriptor, close-on-exec.
func PidfdGetfd(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pidfd, targetFD, flags := fdArg(args[0]), fdArg(args[1]), uint32(args[2])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	tg, err := pidfdArg(t, pidfd)
	if err != nil {
		return 0, err
	}
	f, err := t.PIDFDGetFD(tg, targetFD)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: true})
	return uint64(fd), err
}

// clonePIDFD makes the pidfd of a CLONE_PIDFD clone: it is installed and
// its number written to addr before the child exists, as Linux does.
// undo removes it again if the clone fails.
func clonePIDFD(t *kernel.Task, addr uint64) (p *kernel.PIDFD, undo func(), err error) {
	f, p := t.Kernel().NewPIDFD(false)
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: true})
	if err != nil {
		return nil, nil, err
	}
	undo = func() {
		// Another thread may have closed or replaced fd meanwhile.
		cur, _ := t.FDTable().Get(fd)
		if cur == nil {
			return
		}
		same := cur.Impl() == vfs.FileDescriptionImpl(p)
		cur.DecRef(t.Context())
		if same {
			if old := t.FDTable().Remove(fd); old != nil {
				old.DecRef(t.Context())
			}
		}
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(fd))
	if err := copyOut(t, addr, b[:]); err != nil {
		undo()
		return nil, nil, err
	}
	return p, undo, nil
}
