package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs/pipe"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_PIPE, Pipe)
	partial(unix.SYS_PIPE2, "O_DIRECT packet mode supported (packets of at most PIPE_BUF bytes; capacity counted in bytes, not slots); O_NOTIFICATION_PIPE fails with EINVAL", Pipe2)
}

// pipe2 makes a pipe and writes its two descriptors to addr.
func pipe2(t *kernel.Task, addr uint64, flags uint32) (uint64, error) {
	if flags&^(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT) != 0 {
		return 0, unix.EINVAL
	}
	ctx := t.Context()
	r, w, err := pipe.NewPipe2(ctx, flags&(unix.O_CLOEXEC|unix.O_NONBLOCK|unix.O_DIRECT))
	if err != nil {
		return 0, err
	}
	defer r.DecRef(ctx)
	defer w.DecRef(ctx)
	fdFlags := kernel.FDFlags{CloseOnExec: flags&unix.O_CLOEXEC != 0}
	rfd, err := newFD(t, r, fdFlags)
	if err != nil {
		return 0, err
	}
	table := t.FDTable()
	wfd, err := newFD(t, w, fdFlags)
	if err != nil {
		if f := table.Remove(rfd); f != nil {
			f.DecRef(ctx)
		}
		return 0, err
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[0:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if err := copyOut(t, addr, b[:]); err != nil {
		for _, fd := range []int32{rfd, wfd} {
			if f := table.Remove(fd); f != nil {
				f.DecRef(ctx)
			}
		}
		return 0, err
	}
	return 0, nil
}

// Pipe implements pipe(2).
func Pipe(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fdsAddr := args[0]
	return pipe2(t, fdsAddr, 0)
}

// Pipe2 implements pipe2(2).
func Pipe2(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fdsAddr, flags := args[0], uint32(args[1])
	return pipe2(t, fdsAddr, flags)
}
