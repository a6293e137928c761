package linux

import (
	"encoding/binary"
	"sync/atomic"
	"time"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_POLL, Poll)
	full(unix.SYS_PPOLL, Ppoll)
	full(unix.SYS_SELECT, Select)
	full(unix.SYS_PSELECT6, Pselect6)
}

// pollEntry is one file being polled.
type pollEntry struct {
	fd      int32
	events  uint32
	revents uint32
	file    *vfs.FileDescription
}

// alwaysPolled are reported whether asked for or not.
const alwaysPolled = unix.POLLERR | unix.POLLHUP

// doPoll waits until one of the files is ready, the deadline passes (zero
// deadline with block=false: don't wait; block with zero deadline: wait
// forever), or a signal arrives. It fills revents and returns how many
// entries have events.
func doPoll(t *kernel.Task, entries []pollEntry, block bool, deadline time.Time) (int, error) {
	ch := make(chan struct{}, 1)
	regs := make([]*waiter.Entry, len(entries))
	defer func() {
		for i, e := range regs {
			if e != nil {
				entries[i].file.EventUnregister(e)
			}
		}
		for i := range entries {
			if entries[i].file != nil {
				entries[i].file.DecRef(t.Context())
			}
		}
	}()
	for i := range entries {
		if entries[i].file != nil {
			regs[i] = waiter.NewEntryOn(entries[i].events|alwaysPolled, ch)
			entries[i].file.EventRegister(regs[i])
		}
	}
	// The deadline pokes the same channel the files do, so one Block
	// waits for both (no helper goroutine that could outlive the call).
	var expired atomic.Bool
	if block && !deadline.IsZero() {
		timer := time.AfterFunc(time.Until(deadline), func() {
			expired.Store(true)
			select {
			case ch <- struct{}{}:
			default:
			}
		})
		defer timer.Stop()
	}
	for {
		n := 0
		for i := range entries {
			e := &entries[i]
			if e.fd < 0 {
				continue
			}
			if e.file == nil {
				e.revents = unix.POLLNVAL
			} else {
				e.revents = e.file.Readiness(e.events|alwaysPolled) & (e.events | alwaysPolled)
			}
			if e.revents != 0 {
				n++
			}
		}
		if n > 0 || !block {
			return n, nil
		}
		if expired.Load() {
			return 0, nil
		}
		if err := t.Block(ch); err != nil {
			return 0, err
		}
	}
}

// pollFiles reads a pollfd array and looks up its files (nil for a bad
// descriptor, reported as POLLNVAL).
func pollFiles(t *kernel.Task, addr uint64, nfds uint64) ([]pollEntry, error) {
	if nfds > uint64(t.ThreadGroup().Limit(unix.RLIMIT_NOFILE).Cur) && nfds > 1024 {
		return nil, unix.EINVAL
	}
	b := make([]byte, 8*nfds)
	if err := copyIn(t, addr, b); err != nil {
		return nil, err
	}
	entries := make([]pollEntry, nfds)
	for i := range entries {
		fd := int32(binary.LittleEndian.Uint32(b[8*i:]))
		entries[i] = pollEntry{fd: fd, events: uint32(binary.LittleEndian.Uint16(b[8*i+4:]))}
		if fd >= 0 {
			entries[i].file, _ = t.FDTable().Get(fd)
		}
	}
	return entries, nil
}

func pollResult(t *kernel.Task, addr uint64, entries []pollEntry) error {
	b := make([]byte, 8*len(entries))
	if err := copyIn(t, addr, b); err != nil {
		return err
	}
	for i, e := range entries {
		binary.LittleEndian.PutUint16(b[8*i+6:], uint16(e.revents))
	}
	return copyOut(t, addr, b)
}

func pollCommon(t *kernel.Task, addr, nfds uint64, block bool, deadline time.Time) (uint64, error) {
	entries, err := pollFiles(t, addr, nfds)
	if err != nil {
		return 0, err
	}
	n, err := doPoll(t, entries, block, deadline)
	if err != nil {
		return 0, abi.ERESTARTNOHAND
	}
	return uint64(n), pollResult(t, addr, entries)
}

// Poll implements poll(2).
func Poll(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fdsAddr, nfds, timeout := args[0], args[1], intArg(args[2])
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(time.Duration(timeout) * time.Millisecond)
	}
	return pollCommon(t, fdsAddr, nfds, timeout != 0, deadline)
}

// timeoutArg reads a timespec timeout: block is false for a zero timeout,
// deadline zero for none.
func timeoutArg(t *kernel.Task, addr uint64) (bool, time.Time, error) {
	if addr == 0 {
		return true, time.Time{}, nil
	}
	d, err := copyInTimespec(t, addr)
	if err != nil {
		return false, time.Time{}, err
	}
	if d == 0 {
		return false, time.Time{}, nil
	}
	return true, time.Now().Add(d), nil
}

// writeBackTimeLeft stores the time left until deadline (zero if none or
// passed) in the timespec at addr, as Linux's ppoll and pselect6 do
// (glibc's select is pselect6, and converts it back for the caller). A
// failed store is ignored, as Linux ignores it.
func writeBackTimeLeft(t *kernel.Task, addr uint64, deadline time.Time) {
	if addr == 0 {
		return
	}
	var left time.Duration
	if !deadline.IsZero() {
		left = max(time.Until(deadline), 0)
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(left/time.Second))
	binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second))
	t.CopyOut(addr, b[:])
}

// withSigmask runs fn with the temporary signal mask at maskAddr (if any).
func withSigmask(t *kernel.Task, maskAddr, size uint64, fn func() (uint64, error)) (uint64, error) {
	if maskAddr != 0 {
		mask, err := sigsetArg(t, maskAddr, size)
		if err != nil {
			return 0, err
		}
		t.SetTemporarySignalMask(mask)
		defer t.RestoreSignalMask()
	}
	return fn()
}

// Ppoll implements ppoll(2).
func Ppoll(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fdsAddr, nfds, timeoutAddr, maskAddr, maskSize := args[0], args[1], args[2], args[3], args[4]
	block, deadline, err := timeoutArg(t, timeoutAddr)
	if err != nil {
		return 0, err
	}
	defer writeBackTimeLeft(t, timeoutAddr, deadline)
	return withSigmask(t, maskAddr, maskSize, func() (uint64, error) {
		return pollCommon(t, fdsAddr, nfds, block, deadline)
	})
}

// Select sets (Linux: POLLIN_SET, POLLOUT_SET, POLLEX_SET).
const (
	selectIn  = unix.POLLIN | unix.EPOLLRDNORM | unix.EPOLLRDBAND | unix.POLLHUP | unix.POLLERR
	selectOut = unix.POLLOUT | unix.EPOLLWRNORM | unix.EPOLLWRBAND | unix.POLLERR
	selectEx  = unix.POLLPRI
)

// doSelect implements select's bitmap handling over doPoll.
func doSelect(t *kernel.Task, nfds int32, sets [3]uint64, block bool, deadline time.Time) (uint64, error) {
	if nfds < 0 || nfds > 1<<20 {
		return 0, unix.EINVAL
	}
	n := (int(nfds) + 63) / 64 * 8
	var bits [3][]byte
	for i, addr := range sets {
		if addr == 0 {
			continue
		}
		bits[i] = make([]byte, n)
		if err := copyIn(t, addr, bits[i]); err != nil {
			return 0, err
		}
	}
	masks := [3]uint32{selectIn, selectOut, selectEx}
	var entries []pollEntry
	for fd := int32(0); fd < nfds; fd++ {
		var ev uint32
		for i := range bits {
			if bits[i] != nil && bits[i][fd/8]&(1<<(fd%8)) != 0 {
				ev |= masks[i]
			}
		}
		if ev == 0 {
			continue
		}
		f, _ := t.FDTable().Get(fd)
		if f == nil {
			for _, e := range entries {
				e.file.DecRef(t.Context())
			}
			return 0, unix.EBADF
		}
		entries = append(entries, pollEntry{fd: fd, events: ev, file: f})
	}
	if _, err := doPoll(t, entries, block, deadline); err != nil {
		return 0, abi.ERESTARTNOHAND
	}
	for i := range bits {
		clear(bits[i])
	}
	count := 0
	for _, e := range entries {
		for i := range bits {
			if bits[i] != nil && e.events&masks[i] != 0 && e.revents&masks[i] != 0 {
				bits[i][e.fd/8] |= 1 << (e.fd % 8)
				count++
			}
		}
	}
	for i, addr := range sets {
		if addr != 0 {
			if err := copyOut(t, addr, bits[i]); err != nil {
				return 0, err
			}
		}
	}
	return uint64(count), nil
}

// Select implements select(2).
func Select(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	nfds, readAddr, writeAddr, exceptAddr, timeoutAddr := intArg(args[0]), args[1], args[2], args[3], args[4]
	block, deadline := true, time.Time{}
	if timeoutAddr != 0 {
		var b [16]byte
		if err := copyIn(t, timeoutAddr, b[:]); err != nil {
			return 0, err
		}
		sec, usec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || usec < 0 || usec >= 1e6 {
			return 0, unix.EINVAL
		}
		d := time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
		block = d != 0
		deadline = time.Now().Add(d)
		defer func() {
			// Linux reports the time not slept.
			left := max(time.Until(deadline), 0)
			binary.LittleEndian.PutUint64(b[:], uint64(left/time.Second))
			binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second/time.Microsecond))
			t.CopyOut(timeoutAddr, b[:])
		}()
	}
	return doSelect(t, nfds, [3]uint64{readAddr, writeAddr, exceptAddr}, block, deadline)
}

// Pselect6 implements pselect6(2); its sixth argument points to a
// {sigset pointer, size} pair.
func Pselect6(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	nfds, readAddr, writeAddr, exceptAddr, timeoutAddr, sigAddr := intArg(args[0]), args[1], args[2], args[3], args[4], args[5]
	block, deadline, err := timeoutArg(t, timeoutAddr)
	if err != nil {
		return 0, err
	}
	var maskAddr, size uint64
	defer writeBackTimeLeft(t, timeoutAddr, deadline)
	if sigAddr != 0 {
		var b [16]byte
		if err := copyIn(t, sigAddr, b[:]); err != nil {
			return 0, err
		}
		maskAddr, size = binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])
	}
	return withSigmask(t, maskAddr, size, func() (uint64, error) {
		return doSelect(t, nfds, [3]uint64{readAddr, writeAddr, exceptAddr}, block, deadline)
	})
}
