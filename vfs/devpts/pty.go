package devpts

import (
	"context"
	"encoding/binary"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// pty is one pseudo-terminal pair (Linux: a pair of tty_structs linked by
// tty->link, with the slave's n_tty line discipline).
type pty struct {
	// r is the owning registry, index the N of /dev/pts/N, inode the
	// slave's inode. Immutable once allocate made p visible.
	r     *Registry
	index uint32
	inode *slaveInode
	// term is the kernel's job control for the slave, or nil. Immutable
	// once allocate made p visible.
	term Terminal

	// masterQ and slaveQ notify the readiness of each end.
	masterQ, slaveQ waiter.Queue

	mu sync.Mutex
	// locked is the slave lock (TIOCSPTLCK): a locked slave cannot be
	// opened. Protected by mu.
	locked bool
	// hungUp is set once the master is closed. Protected by mu.
	hungUp bool
	// slaves counts the open slave file descriptions; otherClosed is set
	// when the last one closes, until another opens (Linux:
	// TTY_OTHER_CLOSED on the master). Protected by mu.
	slaves      int
	otherClosed bool
	// termios and winsize are the settings. Protected by mu.
	termios Termios
	winsize [8]byte
	// in is the input queue, master to slave: complete lines in
	// canonical mode (an empty one is an end of file), or chunks of
	// bytes; lastRaw says the last chunk may grow. inLen is the number of
	// bytes in it. Protected by mu.
	in      [][]byte
	inLen   int
	lastRaw bool
	// line is the canonical line being edited; lnext says the next
	// character is literal (VLNEXT). Protected by mu.
	line  []byte
	lnext bool
	// out is the output queue, slave to master, after output processing;
	// column is the output column (for ONOCR). echoed says an echo was
	// queued since the last notification. Protected by mu.
	out    []byte
	column int
	echoed bool
}

// newPty returns a pair of r, its master open and its slave locked, with
// no index yet (see Registry.allocate).
func newPty(r *Registry) *pty {
	return &pty{r: r, locked: true, termios: defaultTermios()}
}

var _ Slave = (*pty)(nil)

// Device implements Slave.Device.
func (p *pty) Device() uint64 { return unix.Mkdev(SlaveMajor, p.index) }

// OpenSlave implements Slave.OpenSlave.
func (p *pty) OpenSlave(ctx context.Context) (vfs.FileDescriptionImpl, error) {
	return p.openSlave()
}

// openSlave opens a slave end.
func (p *pty) openSlave() (vfs.FileDescriptionImpl, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.locked || p.hungUp {
		return nil, unix.EIO
	}
	p.slaves++
	p.otherClosed = false
	return &slaveFD{p: p}, nil
}

// inputReadableLocked reports whether a read of the slave would not
// block for lack of data.
//
// Preconditions: p.mu is held.
func (p *pty) inputReadableLocked() bool {
	if p.termios.canonical() {
		return len(p.in) > 0
	}
	return p.inLen > 0
}

// masterFD is the open master (from /dev/ptmx).
type masterFD struct {
	vfs.FileDescriptionDefaultImpl
	// p is the pair. Immutable.
	p *pty
}

var (
	_ vfs.FileDescriptionImpl = (*masterFD)(nil)
	_ vfs.FileDescriptionImpl = (*slaveFD)(nil)
)

// Stream implements vfs.FileDescriptionImpl.Stream.
func (*masterFD) Stream() bool { return true }

// Release implements vfs.FileDescriptionImpl.Release: the slave is hung
// up, its name disappears, and the foreground group gets SIGHUP.
func (fd *masterFD) Release(ctx context.Context) {
	p := fd.p
	p.r.remove(p)
	p.mu.Lock()
	p.hungUp = true
	p.flushInputLocked()
	p.out = nil
	p.mu.Unlock()
	p.slaveQ.Notify(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLERR | unix.EPOLLHUP)
	if p.term != nil {
		p.term.HangUp()
		p.term.Release()
	}
}

// Read implements vfs.FileDescriptionImpl.Read: the slave's output; EIO
// once every slave has closed and the output is drained.
func (fd *masterFD) Read(ctx context.Context, vfd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	p := fd.p
	if len(dst) == 0 {
		return 0, nil
	}
	var e *waiter.Entry
	defer func() {
		if e != nil {
			p.masterQ.EventUnregister(e)
		}
	}()
	for {
		p.mu.Lock()
		if len(p.out) > 0 {
			n := copy(dst, p.out)
			p.out = p.out[n:]
			if len(p.out) == 0 {
				p.out = nil
			}
			p.mu.Unlock()
			p.slaveQ.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
			return n, nil
		}
		if p.otherClosed {
			p.mu.Unlock()
			return 0, unix.EIO
		}
		p.mu.Unlock()
		if vfd.StatusFlags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		if e == nil {
			// Register, then re-check, so no notification is missed.
			e = p.masterQ.Register(unix.EPOLLIN | unix.EPOLLHUP)
			continue
		}
		if err := vfs.Block(ctx, e.C); err != nil {
			return 0, err
		}
	}
}

// Write implements vfs.FileDescriptionImpl.Write: input for the slave,
// through the line discipline.
func (fd *masterFD) Write(ctx context.Context, vfd *vfs.FileDescription, src []byte, _ int64) (int, int64, error) {
	p := fd.p
	if len(src) == 0 {
		return 0, 0, nil
	}
	var e *waiter.Entry
	defer func() {
		if e != nil {
			p.masterQ.EventUnregister(e)
		}
	}()
	done := 0
	for {
		var sigs []unix.Signal
		p.mu.Lock()
		start := done
		for done < len(src) {
			sig, ok := p.receiveLocked(src[done])
			if !ok {
				break
			}
			done++
			if sig != 0 {
				sigs = append(sigs, sig)
			}
		}
		echoed := p.echoed
		p.echoed = false
		readable := p.inputReadableLocked()
		p.mu.Unlock()
		if readable {
			p.slaveQ.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
		}
		if echoed {
			p.masterQ.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
		}
		if p.term != nil {
			for _, sig := range sigs {
				p.term.SignalForeground(sig)
			}
		}
		if done == len(src) {
			return done, 0, nil
		}
		if done > start {
			continue
		}
		if vfd.StatusFlags()&unix.O_NONBLOCK != 0 {
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, unix.EAGAIN
		}
		if e == nil {
			e = p.masterQ.Register(unix.EPOLLOUT)
			continue
		}
		if err := vfs.Block(ctx, e.C); err != nil {
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, err
		}
	}
}

// Readiness implements vfs.FileDescriptionImpl.Readiness.
func (fd *masterFD) Readiness(mask uint32) uint32 {
	p := fd.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ready uint32
	if len(p.out) > 0 {
		ready |= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	if p.otherClosed {
		ready |= unix.EPOLLHUP
	}
	if p.inLen < inputCap {
		ready |= unix.EPOLLOUT | unix.EPOLLWRNORM
	}
	return ready & (mask | unix.EPOLLERR | unix.EPOLLHUP)
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (fd *masterFD) EventRegister(e *waiter.Entry) { fd.p.masterQ.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (fd *masterFD) EventUnregister(e *waiter.Entry) { fd.p.masterQ.EventUnregister(e) }

// Ioctl implements vfs.FileDescriptionImpl.Ioctl: the pty ioctls
// (TIOCGPTN, TIOCSPTLCK, TIOCGPTLCK), and the terminal ioctls, which apply
// to the slave as in Linux.
func (fd *masterFD) Ioctl(ctx context.Context, vfd *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	p := fd.p
	switch cmd {
	case unix.TIOCGPTN:
		return 0, putUint32(mem, arg, p.index)
	case unix.TIOCSPTLCK:
		v, err := getUint32(mem, arg)
		if err != nil {
			return 0, err
		}
		p.mu.Lock()
		p.locked = v != 0
		p.mu.Unlock()
		return 0, nil
	case unix.TIOCGPTLCK:
		p.mu.Lock()
		locked := p.locked
		p.mu.Unlock()
		var v uint32
		if locked {
			v = 1
		}
		return 0, putUint32(mem, arg, v)
	case unix.TIOCGPGRP:
		var fg int32
		if p.term != nil {
			fg = p.term.ForegroundGroup()
		}
		return 0, putUint32(mem, arg, uint32(fg))
	case unix.TIOCSPGRP, unix.TIOCGSID, unix.TIOCSCTTY, unix.TIOCNOTTY:
		// A master is never a controlling terminal here.
		return 0, unix.ENOTTY
	}
	return p.ioctl(ctx, mem, cmd, arg, true)
}

// slaveFD is an open slave (/dev/pts/N).
type slaveFD struct {
	vfs.FileDescriptionDefaultImpl
	// p is the pair. Immutable.
	p *pty
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (*slaveFD) Stream() bool { return true }

// Release implements vfs.FileDescriptionImpl.Release.
func (fd *slaveFD) Release(ctx context.Context) {
	p := fd.p
	p.mu.Lock()
	p.slaves--
	last := p.slaves == 0
	if last {
		p.otherClosed = true
	}
	p.mu.Unlock()
	if last {
		p.masterQ.Notify(unix.EPOLLIN | unix.EPOLLHUP)
	}
}

// Read implements vfs.FileDescriptionImpl.Read: a line at a time in
// canonical mode, else as VMIN and VTIME say; end of file once the master
// is closed.
func (fd *slaveFD) Read(ctx context.Context, vfd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	p := fd.p
	if p.term != nil {
		if err := p.term.CheckRead(ctx); err != nil {
			return 0, err
		}
	}
	if len(dst) == 0 {
		return 0, nil
	}
	var e *waiter.Entry
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
		if e != nil {
			p.slaveQ.EventUnregister(e)
		}
	}()
	var deadline time.Time
	lastLen := -1
	for {
		p.mu.Lock()
		if p.hungUp {
			p.mu.Unlock()
			return 0, nil
		}
		var n int
		done := false
		var wait time.Duration
		if p.termios.canonical() {
			if len(p.in) > 0 {
				n, done = p.readLineLocked(dst), true
			}
		} else {
			vmin, vtime := int(p.termios.CC[unix.VMIN]), time.Duration(p.termios.CC[unix.VTIME])*100*time.Millisecond
			want := min(vmin, len(dst))
			switch {
			case p.inLen > 0 && p.inLen >= want:
				done = true
			case vmin == 0 && vtime == 0:
				done = true
			case vtime > 0 && (vmin == 0 || p.inLen > 0):
				// VMIN=0: one timer for the whole read; VMIN>0: an
				// inter-byte timer, restarted by every arrival.
				now := time.Now()
				if deadline.IsZero() || (vmin > 0 && p.inLen != lastLen) {
					deadline = now.Add(vtime)
				}
				lastLen = p.inLen
				if !now.Before(deadline) {
					done = true
				} else {
					wait = deadline.Sub(now)
				}
			}
			if done {
				n = p.readRawLocked(dst)
			}
		}
		p.mu.Unlock()
		if done {
			if n > 0 {
				p.masterQ.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
			}
			return n, nil
		}
		if vfd.StatusFlags()&unix.O_NONBLOCK != 0 {
			return 0, unix.EAGAIN
		}
		if e == nil {
			e = p.slaveQ.Register(unix.EPOLLIN | unix.EPOLLHUP)
			continue
		}
		if wait > 0 {
			if timer != nil {
				timer.Stop()
			}
			ch := e.C
			timer = time.AfterFunc(wait, func() {
				select {
				case ch <- struct{}{}:
				default:
				}
			})
		}
		if err := vfs.Block(ctx, e.C); err != nil {
			return 0, err
		}
	}
}

// readLineLocked reads from the first line of the input queue; what does
// not fit stays for the next read.
//
// Preconditions: p.mu is held; p.in is not empty.
func (p *pty) readLineLocked(dst []byte) int {
	n := copy(dst, p.in[0])
	p.in[0] = p.in[0][n:]
	p.inLen -= n
	if len(p.in[0]) == 0 {
		p.in = p.in[1:]
		if len(p.in) == 0 {
			p.in, p.lastRaw = nil, false
		}
	}
	return n
}

// readRawLocked reads as much of the input queue as fits in dst,
// ignoring line boundaries.
//
// Preconditions: p.mu is held.
func (p *pty) readRawLocked(dst []byte) int {
	n := 0
	for n < len(dst) && len(p.in) > 0 {
		n += p.readLineLocked(dst[n:])
	}
	return n
}

// Write implements vfs.FileDescriptionImpl.Write: output for the master,
// through output processing; EIO once the master is closed.
func (fd *slaveFD) Write(ctx context.Context, vfd *vfs.FileDescription, src []byte, _ int64) (int, int64, error) {
	p := fd.p
	if p.term != nil {
		tostop := func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return p.termios.Lflag&unix.TOSTOP != 0
		}
		if err := p.term.CheckWrite(ctx, tostop); err != nil {
			return 0, 0, err
		}
	}
	var e *waiter.Entry
	defer func() {
		if e != nil {
			p.slaveQ.EventUnregister(e)
		}
	}()
	done := 0
	for {
		p.mu.Lock()
		if p.hungUp {
			p.mu.Unlock()
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, unix.EIO
		}
		start := done
		for done < len(src) && len(p.out) < outputCap {
			p.outputLocked(src[done])
			done++
		}
		p.mu.Unlock()
		if done > start {
			p.masterQ.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
		}
		if done == len(src) {
			return done, 0, nil
		}
		if done > start {
			continue
		}
		if vfd.StatusFlags()&unix.O_NONBLOCK != 0 {
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, unix.EAGAIN
		}
		if e == nil {
			e = p.slaveQ.Register(unix.EPOLLOUT | unix.EPOLLHUP)
			continue
		}
		if err := vfs.Block(ctx, e.C); err != nil {
			if done > 0 {
				return done, 0, nil
			}
			return 0, 0, err
		}
	}
}

// Readiness implements vfs.FileDescriptionImpl.Readiness.
func (fd *slaveFD) Readiness(mask uint32) uint32 {
	p := fd.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ready uint32
	if p.hungUp {
		ready = unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLERR | unix.EPOLLHUP
	} else {
		if p.inputReadableLocked() {
			ready |= unix.EPOLLIN | unix.EPOLLRDNORM
		}
		if len(p.out) < outputCap {
			ready |= unix.EPOLLOUT | unix.EPOLLWRNORM
		}
	}
	return ready & (mask | unix.EPOLLERR | unix.EPOLLHUP)
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (fd *slaveFD) EventRegister(e *waiter.Entry) { fd.p.slaveQ.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (fd *slaveFD) EventUnregister(e *waiter.Entry) { fd.p.slaveQ.EventUnregister(e) }

// Ioctl implements vfs.FileDescriptionImpl.Ioctl. A hung-up slave fails
// every ioctl with EIO (ENOTTY for TIOCSPGRP), as Linux.
func (fd *slaveFD) Ioctl(ctx context.Context, vfd *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	p := fd.p
	p.mu.Lock()
	hungUp := p.hungUp
	p.mu.Unlock()
	if hungUp {
		if cmd == unix.TIOCSPGRP {
			return 0, unix.ENOTTY
		}
		return 0, unix.EIO
	}
	switch cmd {
	case unix.TIOCGPGRP, unix.TIOCSPGRP, unix.TIOCGSID, unix.TIOCSCTTY, unix.TIOCNOTTY:
		if p.term == nil {
			return 0, unix.ENOTTY
		}
		return p.term.JobControlIoctl(ctx, mem, cmd, arg, vfd.IsReadable())
	case unix.TIOCGPTN, unix.TIOCSPTLCK, unix.TIOCGPTLCK:
		return 0, unix.ENOTTY
	}
	return p.ioctl(ctx, mem, cmd, arg, false)
}

// ioctl serves the terminal ioctls shared by both ends; master says which
// end the caller holds (queues are named from its point of view).
func (p *pty) ioctl(ctx context.Context, mem vfs.UserMemory, cmd uint32, arg uintptr, master bool) (uintptr, error) {
	switch cmd {
	case unix.TCGETS:
		p.mu.Lock()
		b := p.termios.encode()
		p.mu.Unlock()
		return 0, copyOut(mem, arg, b[:])
	case unix.TCSETS, unix.TCSETSW, unix.TCSETSF:
		if !master && p.term != nil {
			if err := p.term.CheckChange(ctx); err != nil {
				return 0, err
			}
		}
		var b [TermiosSize]byte
		if err := copyIn(mem, arg, b[:]); err != nil {
			return 0, err
		}
		p.mu.Lock()
		if cmd == unix.TCSETSF {
			p.flushInputLocked()
		}
		p.setTermiosLocked(decodeTermios(b[:]))
		p.mu.Unlock()
		// VMIN, VTIME or ICANON may have made a waiting read complete.
		p.slaveQ.Notify(unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLOUT)
		p.masterQ.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
		return 0, nil
	case unix.TIOCGWINSZ:
		p.mu.Lock()
		b := p.winsize
		p.mu.Unlock()
		return 0, copyOut(mem, arg, b[:])
	case unix.TIOCSWINSZ:
		var b [8]byte
		if err := copyIn(mem, arg, b[:]); err != nil {
			return 0, err
		}
		p.mu.Lock()
		changed := p.winsize != b
		p.winsize = b
		p.mu.Unlock()
		if changed && p.term != nil {
			p.term.SignalForeground(unix.SIGWINCH)
		}
		return 0, nil
	case unix.TIOCINQ, unix.TIOCOUTQ:
		p.mu.Lock()
		in, out := p.inLen, len(p.out)
		if p.termios.canonical() {
			in = 0
			for _, l := range p.in {
				in += len(l)
			}
		}
		p.mu.Unlock()
		if master {
			in, out = out, 0
		}
		v := in
		if cmd == unix.TIOCOUTQ {
			v = out
		}
		return 0, putUint32(mem, arg, uint32(v))
	case unix.TCFLSH:
		if arg > unix.TCIOFLUSH {
			return 0, unix.EINVAL
		}
		flushIn := arg == unix.TCIFLUSH || arg == unix.TCIOFLUSH
		flushOut := arg == unix.TCOFLUSH || arg == unix.TCIOFLUSH
		if master {
			flushIn, flushOut = flushOut, flushIn
		}
		p.mu.Lock()
		if flushIn {
			p.flushInputLocked()
		}
		if flushOut {
			p.out = nil
		}
		p.mu.Unlock()
		p.slaveQ.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
		p.masterQ.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
		return 0, nil
	case unix.TCSBRK, unix.TCSBRKP, unix.TCXONC, unix.TIOCEXCL, unix.TIOCNXCL:
		// Output is never delayed (tcdrain returns at once), breaks mean
		// nothing on a pty, and exclusive mode is not enforced.
		return 0, nil
	case unix.TIOCGETD:
		return 0, putUint32(mem, arg, 0) // N_TTY
	case unix.TIOCSETD:
		v, err := getUint32(mem, arg)
		if err != nil {
			return 0, err
		}
		if v != 0 {
			return 0, unix.EINVAL
		}
		return 0, nil
	}
	return 0, unix.ENOTTY
}

// copyIn reads len(b) bytes of guest memory at addr, or fails with EFAULT.
func copyIn(mem vfs.UserMemory, addr uintptr, b []byte) error {
	if mem == nil {
		return unix.EFAULT
	}
	if n, err := mem.CopyIn(addr, b); err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}

// copyOut writes b to guest memory at addr, or fails with EFAULT.
func copyOut(mem vfs.UserMemory, addr uintptr, b []byte) error {
	if mem == nil {
		return unix.EFAULT
	}
	if n, err := mem.CopyOut(addr, b); err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}

// getUint32 reads an int argument.
func getUint32(mem vfs.UserMemory, addr uintptr) (uint32, error) {
	var b [4]byte
	if err := copyIn(mem, addr, b[:]); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b[:]), nil
}

// putUint32 writes an int result.
func putUint32(mem vfs.UserMemory, addr uintptr, v uint32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], v)
	return copyOut(mem, addr, b[:])
}
