package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/seccomp"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_SECCOMP, "SET_MODE_STRICT, SET_MODE_FILTER (flags TSYNC, TSYNC_ESRCH, LOG (recorded), SPEC_ALLOW), GET_ACTION_AVAIL, GET_NOTIF_SIZES; no user notification: NEW_LISTENER fails with EINVAL, USER_NOTIF is not available", Seccomp)
}

// seccomp(2) operations and filter flags.
const (
	seccompSetModeStrict  = 0
	seccompSetModeFilter  = 1
	seccompGetActionAvail = 2
	seccompGetNotifSizes  = 3

	seccompFlagTSync            = 1 << 0
	seccompFlagLog              = 1 << 1
	seccompFlagSpecAllow        = 1 << 2
	seccompFlagNewListener      = 1 << 3
	seccompFlagTSyncESRCH       = 1 << 4
	seccompFlagWaitKillableRecv = 1 << 5
	seccompFlagsKnown           = 1<<6 - 1

	// sockFprogSize is sizeof(struct sock_fprog): a u16 length, padding,
	// and the pointer to the instructions.
	sockFprogSize = 16
)

// Seccomp implements seccomp(2).
func Seccomp(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	op, flags, addr := uint32(args[0]), uint32(args[1]), args[2]
	return seccompOp(t, op, flags, addr)
}

// seccompOp serves seccomp(2) and prctl(PR_SET_SECCOMP), checking in
// Linux's order (do_seccomp).
func seccompOp(t *kernel.Task, op, flags uint32, addr uint64) (uint64, error) {
	switch op {
	case seccompSetModeStrict:
		if flags != 0 || addr != 0 {
			return 0, unix.EINVAL
		}
		return 0, t.SetSeccompStrict()
	case seccompSetModeFilter:
		return seccompSetFilter(t, flags, addr)
	case seccompGetActionAvail:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		var b [4]byte
		if err := copyIn(t, addr, b[:]); err != nil {
			return 0, err
		}
		action := binary.LittleEndian.Uint32(b[:])
		if !seccomp.Known(action) || action == seccomp.ActionUserNotif {
			return 0, unix.EOPNOTSUPP
		}
		return 0, nil
	case seccompGetNotifSizes:
		if flags != 0 {
			return 0, unix.EINVAL
		}
		// struct seccomp_notif_sizes: the sizes of seccomp_notif,
		// seccomp_notif_resp and seccomp_data.
		var b [6]byte
		binary.LittleEndian.PutUint16(b[0:], 80)
		binary.LittleEndian.PutUint16(b[2:], 24)
		binary.LittleEndian.PutUint16(b[4:], seccomp.DataSize)
		return 0, copyOut(t, addr, b[:])
	}
	return 0, unix.EINVAL
}

// seccompSetFilter implements SECCOMP_SET_MODE_FILTER.
func seccompSetFilter(t *kernel.Task, flags uint32, addr uint64) (uint64, error) {
	if flags&^seccompFlagsKnown != 0 {
		return 0, unix.EINVAL
	}
	if flags&seccompFlagTSync != 0 && flags&seccompFlagNewListener != 0 && flags&seccompFlagTSyncESRCH == 0 {
		return 0, unix.EINVAL
	}
	if flags&seccompFlagWaitKillableRecv != 0 && flags&seccompFlagNewListener == 0 {
		return 0, unix.EINVAL
	}
	if flags&seccompFlagNewListener != 0 {
		// As a kernel without user notification (before 5.0).
		t.Kernel().Warnf("task %d: seccomp: SECCOMP_FILTER_FLAG_NEW_LISTENER (user notification) is not supported: returning EINVAL", t.ThreadID())
		return 0, unix.EINVAL
	}
	var hdr [sockFprogSize]byte
	if err := copyIn(t, addr, hdr[:]); err != nil {
		return 0, err
	}
	n := int(binary.LittleEndian.Uint16(hdr[0:]))
	insnsAddr := binary.LittleEndian.Uint64(hdr[8:])
	if n == 0 || n > seccomp.MaxInstructions {
		return 0, unix.EINVAL
	}
	if c := t.Credentials(); !c.NoNewPrivs && !c.HasCap(unix.CAP_SYS_ADMIN) {
		return 0, unix.EACCES
	}
	// At most 4096 instructions: 32 KiB.
	raw := make([]byte, n*seccomp.InstructionSize)
	if err := copyIn(t, insnsAddr, raw); err != nil {
		return 0, err
	}
	prog, err := seccomp.Compile(seccomp.DecodeInstructions(raw))
	if err != nil {
		return 0, unix.EINVAL
	}
	tid, err := t.AddSeccompFilter(prog, kernel.SeccompFilterOptions{
		TSync: flags&seccompFlagTSync != 0,
		Log:   flags&seccompFlagLog != 0,
	})
	if err != nil {
		return 0, err
	}
	if tid != 0 {
		if flags&seccompFlagTSyncESRCH != 0 {
			return 0, unix.ESRCH
		}
		return uint64(tid), nil
	}
	return 0, nil
}
