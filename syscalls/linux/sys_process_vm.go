package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_PROCESS_VM_READV, ProcessVMReadv)
	full(unix.SYS_PROCESS_VM_WRITEV, ProcessVMWritev)
}

// ProcessVMReadv implements process_vm_readv(2).
func ProcessVMReadv(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return processVM(t, args, transferRead)
}

// ProcessVMWritev implements process_vm_writev(2).
func ProcessVMWritev(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return processVM(t, args, transferWrite)
}

// processVMChunk bounds the bounce buffer of one step of a transfer.
const processVMChunk = 64 << 10

// processVM copies between the caller's local iovecs and the remote
// iovecs of process pid's address space, in the order of the iovecs. It
// stops at the first fault on either side and returns the bytes moved so
// far, or EFAULT if none were. Argument checks come in Linux's order:
// flags, local iovecs (an empty local transfer returns 0 without looking
// at pid), remote iovecs, then the target and the permission check.
func processVM(t *kernel.Task, args arch.SyscallArgs, dir transfer) (uint64, error) {
	pid, lvec, lcnt, rvec, rcnt, flags := intArg(args[0]), args[1], args[2], args[3], args[4], args[5]
	if flags != 0 {
		return 0, unix.EINVAL
	}
	if lcnt > uioMaxIOV || rcnt > uioMaxIOV {
		return 0, unix.EINVAL
	}
	local, err := copyInIovecs(t, lvec, int32(lcnt))
	if err != nil {
		return 0, err
	}
	// As Linux's import_iovec, the local lengths are cut so the whole
	// transfer is at most MAX_RW_COUNT.
	var want uint64
	for i := range local {
		local[i].len = min(local[i].len, maxRW-want)
		want += local[i].len
	}
	if want == 0 {
		return 0, nil
	}
	remote, err := copyInIovecs(t, rvec, int32(rcnt))
	if err != nil {
		return 0, err
	}
	rmm, err := t.ProcessVMTarget(pid)
	if err != nil {
		return 0, err
	}

	buf := make([]byte, min(want, processVMChunk))
	li, loff := 0, uint64(0) // the local cursor: iovec index, offset in it
	var done uint64
	faulted := false
	for _, r := range remote {
		for roff := uint64(0); roff < r.len && !faulted; {
			if done > 0 && t.Killed() {
				return done, nil
			}
			for li < len(local) && loff == local[li].len {
				li, loff = li+1, 0
			}
			if li == len(local) {
				return done, nil
			}
			n := min(r.len-roff, local[li].len-loff, uint64(len(buf)))
			laddr, raddr := local[li].base+loff, r.base+roff
			var got, put int
			if dir == transferWrite {
				got, _ = t.CopyIn(laddr, buf[:n])
				put, _ = rmm.CopyOut(raddr, buf[:got])
			} else {
				got, _ = rmm.CopyIn(raddr, buf[:n])
				put, _ = t.CopyOut(laddr, buf[:got])
			}
			done += uint64(put)
			roff += uint64(put)
			loff += uint64(put)
			faulted = put < int(n)
		}
		if faulted {
			break
		}
	}
	if faulted && done == 0 {
		return 0, unix.EFAULT
	}
	return done, nil
}
