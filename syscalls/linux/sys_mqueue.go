package linux

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/mqueue"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// POSIX message queues (mq_overview(7)): the queues live in
// sentry/kernel/mqueue; these handlers decode and copy.

func init() {
	full(unix.SYS_MQ_OPEN, MqOpen)
	full(unix.SYS_MQ_UNLINK, MqUnlink)
	full(unix.SYS_MQ_TIMEDSEND, MqTimedsend)
	full(unix.SYS_MQ_TIMEDRECEIVE, MqTimedreceive)
	partial(unix.SYS_MQ_NOTIFY, "SIGEV_THREAD needs a netlink socket, which the Sentry has not: it fails as Linux does for a descriptor that is not one (EBADF, ENOTSOCK or ECONNREFUSED)", MqNotify)
	full(unix.SYS_MQ_GETSETATTR, MqGetsetattr)
}

// mqAttrSize is sizeof(struct mq_attr).
const mqAttrSize = 64

// mqCaller returns t's identity for mq_open and mq_unlink.
func mqCaller(t *kernel.Task) *mqueue.Caller {
	c := t.Credentials()
	return &mqueue.Caller{
		UID: c.EffectiveUID, GID: c.EffectiveGID, Groups: c.Groups,
		Resource:       c.HasCap(unix.CAP_SYS_RESOURCE),
		DACOverride:    c.HasCap(unix.CAP_DAC_OVERRIDE),
		FOwner:         c.HasCap(unix.CAP_FOWNER),
		RlimitMsgQueue: t.ThreadGroup().Limit(unix.RLIMIT_MSGQUEUE).Cur,
	}
}

// mqName reads and checks a queue name.
func mqName(t *kernel.Task, addr uint64) (string, error) {
	name, err := copyInPath(t, addr)
	if err != nil {
		return "", err
	}
	return name, mqueue.CheckName(name)
}

// MqOpen implements mq_open(2).
func MqOpen(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	nameAddr, flags, mode, attrAddr := args[0], intArg(args[1]), uint32(args[2]), args[3]
	var attr *mqueue.Attr
	if attrAddr != 0 {
		var b [mqAttrSize]byte
		if err := copyIn(t, attrAddr, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		attr = &mqueue.Attr{MaxMsg: int64(le.Uint64(b[8:])), MsgSize: int64(le.Uint64(b[16:]))}
	}
	name, err := mqName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	if flags&unix.O_CREAT == 0 {
		attr = nil
	}
	mode &^= t.FSContext().Umask()
	f, err := mqueue.For(t.Kernel()).Open(mqCaller(t), name, flags, mode, attr)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: flags&unix.O_CLOEXEC != 0})
	return uint64(fd), err
}

// MqUnlink implements mq_unlink(2).
func MqUnlink(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	nameAddr := args[0]
	name, err := mqName(t, nameAddr)
	if err != nil {
		return 0, err
	}
	return 0, mqueue.For(t.Kernel()).Unlink(mqCaller(t), name)
}

// mqDeadline reads an absolute CLOCK_REALTIME timeout (0: none).
func mqDeadline(t *kernel.Task, addr uint64) (time.Time, error) {
	if addr == 0 {
		return time.Time{}, nil
	}
	d, err := copyInTimespec(t, addr)
	if err != nil {
		return time.Time{}, err
	}
	if d == 0 {
		// The epoch: long passed.
		return time.Unix(0, 1), nil
	}
	return time.Unix(0, int64(d)), nil
}

// mqFile returns the queue descriptor fd: EBADF if it is not one or lacks
// the access asked for.
func mqFile(t *kernel.Task, fd int32, read, write bool) (*vfs.FileDescription, error) {
	f, err := getFile(t, fd)
	if err != nil {
		return nil, err
	}
	if mqueue.QueueOf(f) == nil || (read && !f.IsReadable()) || (write && !f.IsWritable()) {
		f.DecRef(t.Context())
		return nil, unix.EBADF
	}
	return f, nil
}

// MqTimedsend implements mq_timedsend(2).
func MqTimedsend(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, ptr, size, prio, timeout := fdArg(args[0]), args[1], args[2], args[3], args[4]
	deadline, err := mqDeadline(t, timeout)
	if err != nil {
		return 0, err
	}
	if prio >= mqueue.PrioMax {
		return 0, unix.EINVAL
	}
	f, err := mqFile(t, fd, false, true)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if size > uint64(mqueue.MaxMsgSize(f)) {
		return 0, unix.EMSGSIZE
	}
	// size is bounded by the queue's message size (at most 16 MiB).
	data := make([]byte, size)
	if err := copyIn(t, ptr, data); err != nil {
		return 0, err
	}
	sender := mqueue.Sender{PID: t.ThreadGroup().ID(), UID: t.Credentials().RealUID}
	return 0, mqueue.Send(t.Context(), f, data, uint32(prio), deadline, sender)
}

// MqTimedreceive implements mq_timedreceive(2).
func MqTimedreceive(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, ptr, size, prioAddr, timeout := fdArg(args[0]), args[1], args[2], args[3], args[4]
	deadline, err := mqDeadline(t, timeout)
	if err != nil {
		return 0, err
	}
	f, err := mqFile(t, fd, true, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	data, prio, err := mqueue.Receive(t.Context(), f, int64(min(size, 1<<62)), deadline)
	if err != nil {
		return 0, err
	}
	if err := copyOut(t, ptr, data); err != nil {
		return 0, err
	}
	if prioAddr != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], prio)
		if err := copyOut(t, prioAddr, b[:]); err != nil {
			return 0, err
		}
	}
	return uint64(len(data)), nil
}

// MqNotify implements mq_notify(2).
func MqNotify(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, sevp := fdArg(args[0]), args[1]
	var ev *mqueue.Event
	if sevp != 0 {
		var b [sigeventSize]byte
		if err := copyIn(t, sevp, b[:]); err != nil {
			return 0, err
		}
		le := binary.LittleEndian
		ev = &mqueue.Event{Value: le.Uint64(b[0:]), Signo: int32(le.Uint32(b[8:])), Notify: int32(le.Uint32(b[12:]))}
		switch ev.Notify {
		case kernel.SIGEV_NONE:
		case kernel.SIGEV_SIGNAL:
			if ev.Signo < 0 || ev.Signo > 64 {
				return 0, unix.EINVAL
			}
		case kernel.SIGEV_THREAD:
			// glibc passes a netlink socket in sigev_signo and a
			// cookie at sigev_value; the Sentry has no netlink.
			var cookie [32]byte
			if err := copyIn(t, ev.Value, cookie[:]); err != nil {
				return 0, err
			}
			sock, err := getFile(t, ev.Signo)
			if err != nil {
				return 0, err
			}
			defer sock.DecRef(t.Context())
			st, err := sock.Stat(t.Context())
			if err == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK {
				return 0, unix.ECONNREFUSED
			}
			return 0, unix.ENOTSOCK
		default:
			return 0, unix.EINVAL
		}
	}
	f, err := mqFile(t, fd, false, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	return 0, mqueue.Notify(f, t.ThreadGroup(), ev)
}

// MqGetsetattr implements mq_getsetattr(2).
func MqGetsetattr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, newAddr, oldAddr := fdArg(args[0]), args[1], args[2]
	le := binary.LittleEndian
	var newFlags int64
	if newAddr != 0 {
		var b [mqAttrSize]byte
		if err := copyIn(t, newAddr, b[:]); err != nil {
			return 0, err
		}
		newFlags = int64(le.Uint64(b[0:]))
		if newFlags&^unix.O_NONBLOCK != 0 {
			return 0, unix.EINVAL
		}
	}
	f, err := mqFile(t, fd, false, false)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	old := mqueue.GetAttr(f)
	if newAddr != 0 {
		if err := f.SetStatusFlags(t.Context(), f.StatusFlags()&^unix.O_NONBLOCK|uint32(newFlags)); err != nil {
			return 0, err
		}
	}
	if oldAddr != 0 {
		var b [mqAttrSize]byte
		le.PutUint64(b[0:], uint64(old.Flags))
		le.PutUint64(b[8:], uint64(old.MaxMsg))
		le.PutUint64(b[16:], uint64(old.MsgSize))
		le.PutUint64(b[24:], uint64(old.CurMsgs))
		if err := copyOut(t, oldAddr, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}
