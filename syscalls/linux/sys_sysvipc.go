package linux

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/ipc"
	"golang.org/x/sys/unix"
)

// System V IPC (svipc(7)): the objects live in sentry/kernel/ipc; these
// handlers decode arguments and copy messages and operations in and out.

func init() {
	partial(unix.SYS_SHMGET, "no SHM_HUGETLB (EINVAL); one IPC namespace per sandbox", Shmget)
	full(unix.SYS_SHMAT, Shmat)
	full(unix.SYS_SHMDT, Shmdt)
	partial(unix.SYS_SHMCTL, "SHM_LOCK and SHM_UNLOCK only set the mode bit", Shmctl)
	full(unix.SYS_SEMGET, Semget)
	full(unix.SYS_SEMOP, Semop)
	full(unix.SYS_SEMTIMEDOP, Semtimedop)
	full(unix.SYS_SEMCTL, Semctl)
	full(unix.SYS_MSGGET, Msgget)
	full(unix.SYS_MSGSND, Msgsnd)
	full(unix.SYS_MSGRCV, Msgrcv)
	full(unix.SYS_MSGCTL, Msgctl)
}

// Shmget implements shmget(2).
func Shmget(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	key, size, flags := intArg(args[0]), args[1], intArg(args[2])
	id, err := t.Kernel().IPCNamespace().Shmget(t.Context(), t.IPCCreds(), key, size, flags)
	return uint64(id), err
}

// Shmat implements shmat(2).
func Shmat(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, addr, flags := intArg(args[0]), args[1], intArg(args[2])
	return t.Kernel().IPCNamespace().Shmat(t.IPCCreds(), t.MemoryManager(), id, addr, flags)
}

// Shmdt implements shmdt(2).
func Shmdt(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr := args[0]
	return 0, t.Kernel().IPCNamespace().Shmdt(t.IPCCreds(), t.MemoryManager(), addr)
}

// Shmctl implements shmctl(2).
func Shmctl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, cmd, buf := intArg(args[0]), intArg(args[1]), args[2]
	r, err := t.Kernel().IPCNamespace().Shmctl(t.IPCCreds(), t, id, cmd, buf)
	return uint64(r), err
}

// Semget implements semget(2).
func Semget(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	key, nsems, flags := intArg(args[0]), intArg(args[1]), intArg(args[2])
	id, err := t.Kernel().IPCNamespace().Semget(t.IPCCreds(), key, nsems, flags)
	return uint64(id), err
}

// Semop implements semop(2).
func Semop(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, sops, nsops := intArg(args[0]), args[1], uint32(args[2])
	return semtimedop(t, id, sops, nsops, 0)
}

// Semtimedop implements semtimedop(2).
func Semtimedop(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, sops, nsops, timeout := intArg(args[0]), args[1], uint32(args[2]), args[3]
	return semtimedop(t, id, sops, nsops, timeout)
}

func semtimedop(t *kernel.Task, id int32, sops uint64, nsops uint32, timeout uint64) (uint64, error) {
	ns := t.Kernel().IPCNamespace()
	if nsops < 1 || id < 0 {
		return 0, unix.EINVAL
	}
	if int64(nsops) > int64(ns.SemOPM()) {
		return 0, unix.E2BIG
	}
	// nsops is bounded by semopm (at most ipc.MaxSemOPM).
	b := make([]byte, int(nsops)*ipc.SemBufSize)
	if err := copyIn(t, sops, b); err != nil {
		return 0, err
	}
	var deadline time.Time
	if timeout != 0 {
		d, err := copyInTimespec(t, timeout)
		if err != nil {
			return 0, err
		}
		deadline = time.Now().Add(d)
		if d == 0 {
			// Already passed: the wait, if any, ends at once.
			deadline = time.Now().Add(-1)
		}
	}
	return 0, ns.Semop(t, t.IPCCreds(), id, ipc.ParseSemBufs(b), deadline)
}

// Semctl implements semctl(2).
func Semctl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, num, cmd, arg := intArg(args[0]), intArg(args[1]), intArg(args[2]), args[3]
	r, err := t.Kernel().IPCNamespace().Semctl(t.IPCCreds(), t, id, num, cmd, arg)
	return uint64(r), err
}

// Msgget implements msgget(2).
func Msgget(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	key, flags := intArg(args[0]), intArg(args[1])
	id, err := t.Kernel().IPCNamespace().Msgget(t.IPCCreds(), key, flags)
	return uint64(id), err
}

// Msgsnd implements msgsnd(2).
func Msgsnd(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, msgp, size, flags := intArg(args[0]), args[1], args[2], intArg(args[3])
	var mt [8]byte
	if err := copyIn(t, msgp, mt[:]); err != nil {
		return 0, err
	}
	ns := t.Kernel().IPCNamespace()
	if int64(size) < 0 || size > uint64(ns.MsgMax()) || id < 0 {
		return 0, unix.EINVAL
	}
	mtype := int64(binary.LittleEndian.Uint64(mt[:]))
	if mtype < 1 {
		return 0, unix.EINVAL
	}
	// size is bounded by msgmax (at most ipc.MaxMsgMax).
	text := make([]byte, size)
	if err := copyIn(t, msgp+8, text); err != nil {
		return 0, err
	}
	return 0, ns.Msgsnd(t, t.IPCCreds(), id, mtype, text, flags)
}

// Msgrcv implements msgrcv(2).
func Msgrcv(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, msgp, size, typ, flags := intArg(args[0]), args[1], int64(args[2]), int64(args[3]), intArg(args[4])
	if id < 0 || size < 0 {
		return 0, unix.EINVAL
	}
	mtype, text, err := t.Kernel().IPCNamespace().Msgrcv(t, t.IPCCreds(), id, int(min(size, 1<<31)), typ, flags)
	if err != nil {
		return 0, err
	}
	var mt [8]byte
	binary.LittleEndian.PutUint64(mt[:], uint64(mtype))
	if err := copyOut(t, msgp, mt[:]); err != nil {
		return 0, err
	}
	if err := copyOut(t, msgp+8, text); err != nil {
		return 0, err
	}
	return uint64(len(text)), nil
}

// Msgctl implements msgctl(2).
func Msgctl(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	id, cmd, buf := intArg(args[0]), intArg(args[1]), args[2]
	r, err := t.Kernel().IPCNamespace().Msgctl(t.IPCCreds(), t, id, cmd, buf)
	return uint64(r), err
}
