// Package pipe implements pipes: the objects behind pipe(2)/pipe2(2) and
// named pipes (FIFOs), with Linux's semantics: a bounded buffer (64 KiB by
// default), writes of at most PIPE_BUF bytes are atomic, reads block while
// the pipe is empty and has writers, end of file once every writer is
// gone, EPIPE for writes with no reader left (the syscall layer raises
// SIGPIPE), O_NONBLOCK (EAGAIN), readiness for poll/epoll, and FIONREAD.
//
// Lock order: Pipe.mu, then waiter.Queue.mu. Moving data between two
// pipes (splice, tee) holds both Pipe.mu, the lower inode number first.
package pipe

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// Capacities.
const (
	// DefaultCapacity is a new pipe's capacity in bytes.
	DefaultCapacity = 64 << 10
	// MaxCapacity is the largest capacity SetCapacity accepts without
	// privilege (Linux: /proc/sys/fs/pipe-max-size default).
	MaxCapacity = 1 << 20
	// AtomicIOBytes is PIPE_BUF: writes up to this size are atomic.
	AtomicIOBytes = 4096
)

// pipefsDev is the st_dev of every pipe, as Linux's pipefs.
var pipefsDev = vfs.AnonDevice()

var lastIno atomic.Uint64

// Pipe is one pipe: a buffer with read and write ends.
type Pipe struct {
	// ino is the inode number reported by fstat. Immutable.
	ino uint64
	// uid, gid, ctime are the owner and creation time, for fstat.
	// Immutable.
	uid, gid uint32
	ctime    unix.StatxTimestamp

	// queue notifies readiness changes.
	queue waiter.Queue

	mu sync.Mutex
	// buf holds the unread data, oldest first. Protected by mu.
	buf []byte
	// capacity is the maximum len(buf). Protected by mu.
	capacity int
	// readers and writers count open file descriptions of each end.
	// Protected by mu.
	readers, writers int
	// rOpens and wOpens count every open of each end, ever (Linux:
	// r_counter, w_counter). Protected by mu.
	rOpens, wOpens uint64
	// openCh is closed (and replaced) whenever an end is opened, to wake
	// FIFO opens waiting for the other end. Protected by mu.
	openCh chan struct{}
	// consumed counts the bytes ever removed from the front of buf: buf[0]
	// is byte number consumed of the stream. Protected by mu.
	consumed uint64
	// packets lists, oldest first, the stream ranges written in packet mode
	// (O_DIRECT) still (partly) in buf. Protected by mu.
	packets []packet
}

// packet is the stream range [start, end) of one packet-mode write.
type packet struct{ start, end uint64 }

// dropLocked removes the first n bytes of buf.
//
// Preconditions: p.mu is held; n <= len(p.buf).
func (p *Pipe) dropLocked(n int) {
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	p.consumed += uint64(n)
	i := 0
	for i < len(p.packets) && p.packets[i].end <= p.consumed {
		i++
	}
	if i > 0 {
		p.packets = append(p.packets[:0], p.packets[i:]...)
	}
}

// readLenLocked returns how many bytes a read of at most n bytes takes
// from buf and how many of them it returns: a read that takes part of a
// packet takes all of it but returns only what fits (Linux discards the
// rest of a packet read short).
//
// Preconditions: p.mu is held; buf is not empty.
func (p *Pipe) readLenLocked(n int) (take, ret int) {
	ret = min(n, len(p.buf))
	if len(p.packets) == 0 {
		return ret, ret
	}
	pk := p.packets[0]
	// A read never goes past the end of the first packet.
	if end := int(pk.end - p.consumed); ret > end {
		ret = end
	}
	take = ret
	if p.consumed+uint64(ret) > pk.start {
		take = int(pk.end - p.consumed)
	}
	return take, ret
}

// New returns a pipe with no ends open, owned by the caller's credentials.
func New(ctx context.Context) *Pipe {
	t := time.Now()
	p := &Pipe{ino: lastIno.Add(1), capacity: DefaultCapacity, openCh: make(chan struct{}),
		ctime: unix.StatxTimestamp{Sec: t.Unix(), Nsec: uint32(t.Nanosecond())}}
	c := vfs.MustCredentials(ctx, "pipe")
	p.uid, p.gid = c.UID, c.GID
	return p
}

// NewPipe2 implements pipe2(2): it returns the read and write ends of a new
// pipe, each with one reference. flags may contain O_NONBLOCK and O_DIRECT
// ("packet mode", which as Linux only the write end gets: each write made
// with O_DIRECT is stored as packets of at most PIPE_BUF bytes, and a read
// returns at most one packet, discarding what did not fit); O_CLOEXEC is
// the syscall layer's business.
func NewPipe2(ctx context.Context, flags uint32) (r, w *vfs.FileDescription, err error) {
	if flags&^(unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_DIRECT) != 0 {
		return nil, nil, unix.EINVAL
	}
	p := New(ctx)
	p.mu.Lock()
	rimpl := p.openLocked(readEnd)
	wimpl := p.openLocked(writeEnd)
	p.mu.Unlock()
	nb := flags & unix.O_NONBLOCK
	// The pipe lives on pipefs, so /proc/PID/fd/N can reopen it.
	loc := vfs.NewAnonymousLocation("pipefs", fmt.Sprintf("pipe:[%d]", p.ino), &pipeInode{pipe: p})
	defer loc.DecRef(ctx)
	return vfs.NewFileDescription(rimpl, unix.O_RDONLY|nb, loc),
		vfs.NewFileDescription(wimpl, unix.O_WRONLY|nb|flags&unix.O_DIRECT, loc), nil
}

// Capacity returns the capacity in bytes (F_GETPIPE_SZ).
func (p *Pipe) Capacity() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.capacity
}

// SetCapacity implements F_SETPIPE_SZ: the capacity becomes size rounded
// up to a power of two pages; EBUSY if more data is buffered.
func (p *Pipe) SetCapacity(size int64) (int, error) {
	if size <= 0 || size > MaxCapacity {
		if size > MaxCapacity {
			return 0, unix.EPERM
		}
		return 0, unix.EINVAL
	}
	c := AtomicIOBytes
	for int64(c) < size {
		c <<= 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > c {
		return 0, unix.EBUSY
	}
	p.capacity = c
	p.queue.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
	return c, nil
}

// pipeEnds names the ends an open description holds.
type pipeEnds int

const (
	// readEnd is the read end.
	readEnd pipeEnds = 1 << iota
	// writeEnd is the write end.
	writeEnd
)

// openLocked opens the given ends and returns their implementation.
//
// Preconditions: p.mu is held.
func (p *Pipe) openLocked(ends pipeEnds) *pipeFD {
	read, write := ends&readEnd != 0, ends&writeEnd != 0
	fd := &pipeFD{pipe: p, read: read, write: write}
	if read {
		p.readers++
		p.rOpens++
	}
	if write {
		p.writers++
		p.wOpens++
	}
	fd.wOpensAtOpen = p.wOpens
	close(p.openCh)
	p.openCh = make(chan struct{})
	p.queue.Notify(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDNORM | unix.EPOLLWRNORM)
	return fd
}

// Open opens the pipe as a FIFO with open flags flags, with FIFO
// semantics: O_RDONLY waits for a writer and O_WRONLY for a reader unless
// O_NONBLOCK; O_WRONLY|O_NONBLOCK without a reader fails with ENXIO;
// O_RDWR never waits. A filesystem's FIFO inode calls it from Open.
func (p *Pipe) Open(ctx context.Context, flags uint32) (vfs.FileDescriptionImpl, error) {
	nonblock := flags&unix.O_NONBLOCK != 0
	p.mu.Lock()
	defer p.mu.Unlock()
	switch flags & unix.O_ACCMODE {
	case unix.O_RDONLY:
		fd := p.openLocked(readEnd)
		if nonblock {
			return fd, nil
		}
		start := p.wOpens
		for p.writers == 0 && p.wOpens == start {
			if err := p.waitOpenLocked(ctx); err != nil {
				p.releaseLocked(fd)
				return nil, err
			}
		}
		return fd, nil
	case unix.O_WRONLY:
		if nonblock && p.readers == 0 {
			return nil, unix.ENXIO
		}
		fd := p.openLocked(writeEnd)
		start := p.rOpens
		for p.readers == 0 && p.rOpens == start {
			if err := p.waitOpenLocked(ctx); err != nil {
				p.releaseLocked(fd)
				return nil, err
			}
		}
		return fd, nil
	case unix.O_RDWR:
		return p.openLocked(readEnd | writeEnd), nil
	}
	return nil, unix.EINVAL
}

// waitOpenLocked waits for the next open of either end.
//
// Preconditions: p.mu is held; it is released while waiting.
func (p *Pipe) waitOpenLocked(ctx context.Context) error {
	ch := p.openCh
	p.mu.Unlock()
	err := vfs.Block(ctx, ch)
	p.mu.Lock()
	return err
}

// releaseLocked closes fd's ends.
//
// Preconditions: p.mu is held.
func (p *Pipe) releaseLocked(fd *pipeFD) {
	var events uint32
	if fd.read {
		p.readers--
		if p.readers == 0 {
			events |= unix.EPOLLOUT | unix.EPOLLERR
		}
	}
	if fd.write {
		p.writers--
		if p.writers == 0 {
			events |= unix.EPOLLIN | unix.EPOLLHUP | unix.EPOLLRDHUP
		}
	}
	if events != 0 {
		p.queue.Notify(events)
	}
}

// pipeFD is an open end (or both ends, for O_RDWR FIFOs) of a pipe.
type pipeFD struct {
	vfs.FileDescriptionDefaultImpl
	// pipe is the pipe. Immutable.
	pipe *Pipe
	// read and write say which ends this is. Immutable.
	read, write bool
	// wOpensAtOpen is the pipe's wOpens when this end was opened: a reader
	// sees EPOLLHUP only once a writer came after it and left. Immutable.
	wOpensAtOpen uint64
}

var _ vfs.FileDescriptionImpl = (*pipeFD)(nil)

// FromImpl returns the pipe behind an open pipe end, or nil if impl is not
// one (for F_GETPIPE_SZ / F_SETPIPE_SZ).
func FromImpl(impl vfs.FileDescriptionImpl) *Pipe {
	if fd, ok := impl.(*pipeFD); ok {
		return fd.pipe
	}
	return nil
}

// Stream implements vfs.FileDescriptionImpl.Stream.
func (fd *pipeFD) Stream() bool { return true }

// Release implements vfs.FileDescriptionImpl.Release.
func (fd *pipeFD) Release(ctx context.Context) {
	fd.pipe.mu.Lock()
	defer fd.pipe.mu.Unlock()
	fd.pipe.releaseLocked(fd)
}

// Read implements vfs.FileDescriptionImpl.Read.
func (fd *pipeFD) Read(ctx context.Context, vfd *vfs.FileDescription, dst []byte, _ int64) (int, error) {
	return fd.pipe.Read(ctx, dst, vfd.StatusFlags()&unix.O_NONBLOCK != 0)
}

// Read reads from the pipe as read(2) on its read end does, except that
// nonblock replaces the file's O_NONBLOCK (splice(2)'s SPLICE_F_NONBLOCK).
func (p *Pipe) Read(ctx context.Context, dst []byte, nonblock bool) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	var e *waiter.Entry
	defer func() {
		if e != nil {
			p.queue.EventUnregister(e)
		}
	}()
	for {
		p.mu.Lock()
		if len(p.buf) > 0 {
			take, n := p.readLenLocked(len(dst))
			copy(dst, p.buf[:n])
			p.dropLocked(take)
			p.queue.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
			p.mu.Unlock()
			return n, nil
		}
		if p.writers == 0 {
			p.mu.Unlock()
			return 0, nil
		}
		if nonblock {
			p.mu.Unlock()
			return 0, unix.EAGAIN
		}
		if e == nil {
			e = p.queue.Register(unix.EPOLLIN | unix.EPOLLHUP)
		}
		p.mu.Unlock()
		if err := vfs.Block(ctx, e.C); err != nil {
			return 0, err
		}
	}
}

// Write implements vfs.FileDescriptionImpl.Write.
func (fd *pipeFD) Write(ctx context.Context, vfd *vfs.FileDescription, src []byte, _ int64) (int, int64, error) {
	flags := vfd.StatusFlags()
	n, err := fd.pipe.write(ctx, src, flags&unix.O_NONBLOCK != 0, flags&unix.O_DIRECT != 0)
	return n, 0, err
}

// Write writes to the pipe as write(2) on its write end does, except that
// nonblock replaces the file's O_NONBLOCK (splice(2)'s SPLICE_F_NONBLOCK).
// EPIPE means the caller must raise SIGPIPE.
func (p *Pipe) Write(ctx context.Context, src []byte, nonblock bool) (int, error) {
	return p.write(ctx, src, nonblock, false)
}

// write is Write; packet says the writer is in packet mode (O_DIRECT):
// src is stored as packets of at most PIPE_BUF bytes, each whole.
func (p *Pipe) write(ctx context.Context, src []byte, nonblock, pkt bool) (int, error) {
	if len(src) == 0 {
		return 0, nil
	}
	var e *waiter.Entry
	defer func() {
		if e != nil {
			p.queue.EventUnregister(e)
		}
	}()
	done := 0
	for {
		p.mu.Lock()
		if p.readers == 0 {
			p.mu.Unlock()
			if done > 0 {
				return done, nil
			}
			return 0, unix.EPIPE
		}
		avail := p.capacity - len(p.buf)
		rest := src[done:]
		if pkt {
			// Whole packets of at most PIPE_BUF bytes, as many as fit.
			before := done
			for len(rest) > 0 {
				n := min(len(rest), AtomicIOBytes)
				if avail < n {
					break
				}
				start := p.consumed + uint64(len(p.buf))
				p.buf = append(p.buf, rest[:n]...)
				p.packets = append(p.packets, packet{start, start + uint64(n)})
				done += n
				avail -= n
				rest = rest[n:]
			}
			if done > before {
				p.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
			}
			if done == len(src) {
				p.mu.Unlock()
				return done, nil
			}
		} else if avail > 0 && (len(src) > AtomicIOBytes || avail >= len(rest)) {
			// Writes of at most PIPE_BUF bytes go in whole or not at all.
			n := min(avail, len(rest))
			p.buf = append(p.buf, rest[:n]...)
			done += n
			p.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
			if done == len(src) {
				p.mu.Unlock()
				return done, nil
			}
		}
		if nonblock {
			p.mu.Unlock()
			if done > 0 {
				return done, nil
			}
			return 0, unix.EAGAIN
		}
		if e == nil {
			e = p.queue.Register(unix.EPOLLOUT | unix.EPOLLERR)
		}
		p.mu.Unlock()
		if err := vfs.Block(ctx, e.C); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
	}
}

// Readiness implements vfs.FileDescriptionImpl.Readiness.
func (fd *pipeFD) Readiness(mask uint32) uint32 {
	p := fd.pipe
	p.mu.Lock()
	defer p.mu.Unlock()
	var ready uint32
	if fd.read {
		if len(p.buf) > 0 {
			ready |= unix.EPOLLIN | unix.EPOLLRDNORM
		}
		if p.writers == 0 && p.wOpens != fd.wOpensAtOpen {
			ready |= unix.EPOLLHUP
		}
	}
	if fd.write {
		if p.capacity-len(p.buf) >= AtomicIOBytes {
			ready |= unix.EPOLLOUT | unix.EPOLLWRNORM
		}
		if p.readers == 0 {
			ready |= unix.EPOLLERR
		}
	}
	// EPOLLERR and EPOLLHUP are reported whether asked for or not.
	return ready & (mask | unix.EPOLLERR | unix.EPOLLHUP)
}

// EventRegister implements vfs.FileDescriptionImpl.EventRegister.
func (fd *pipeFD) EventRegister(e *waiter.Entry) { fd.pipe.queue.EventRegister(e) }

// EventUnregister implements vfs.FileDescriptionImpl.EventUnregister.
func (fd *pipeFD) EventUnregister(e *waiter.Entry) { fd.pipe.queue.EventUnregister(e) }

// Ioctl implements vfs.FileDescriptionImpl.Ioctl: FIONREAD.
func (fd *pipeFD) Ioctl(ctx context.Context, vfd *vfs.FileDescription, mem vfs.UserMemory, cmd uint32, arg uintptr) (uintptr, error) {
	if cmd != unix.TIOCINQ {
		return 0, unix.ENOTTY
	}
	fd.pipe.mu.Lock()
	n := len(fd.pipe.buf)
	fd.pipe.mu.Unlock()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(n))
	if _, err := mem.CopyOut(arg, b[:]); err != nil {
		return 0, unix.EFAULT
	}
	return 0, nil
}

// Stat implements vfs.FileDescriptionImpl.Stat (for pipes from pipe2).
func (fd *pipeFD) Stat(ctx context.Context) (unix.Statx_t, error) {
	return fd.pipe.stat(), nil
}

// stat returns the attributes of a pipe made by pipe2.
func (p *Pipe) stat() unix.Statx_t {
	return unix.Statx_t{
		Mask:      unix.STATX_BASIC_STATS,
		Blksize:   4096,
		Nlink:     1,
		Uid:       p.uid,
		Gid:       p.gid,
		Mode:      unix.S_IFIFO | 0o600,
		Ino:       p.ino,
		Atime:     p.ctime,
		Ctime:     p.ctime,
		Mtime:     p.ctime,
		Dev_major: unix.Major(pipefsDev),
		Dev_minor: unix.Minor(pipefsDev),
	}
}
