package pipe

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// This file holds what splice(2), tee(2) and vmsplice(2) need beyond
// read and write: moving or copying data between two pipes, waiting for
// room, and handing back data that could not be delivered.

// Unread puts b back at the front of the pipe's data: a caller that read
// it (splice to a file) could not deliver it. The pipe may hold more than
// its capacity until readers drain it.
func (p *Pipe) Unread(b []byte) {
	if len(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	buf := make([]byte, 0, len(b)+len(p.buf))
	p.buf = append(append(buf, b...), p.buf...)
	// The bytes put back are plain stream data: packets already consumed
	// are gone from the packet list.
	p.consumed -= uint64(len(b))
	p.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
}

// WaitWritable waits until the pipe has room and returns how many bytes
// fit now: EPIPE with no reader left (the caller raises SIGPIPE), EAGAIN
// if it is full and nonblock is set.
func (p *Pipe) WaitWritable(ctx context.Context, nonblock bool) (int, error) {
	var e *waiter.Entry
	defer func() {
		if e != nil {
			p.queue.EventUnregister(e)
		}
	}()
	for {
		p.mu.Lock()
		if p.readers == 0 {
			p.mu.Unlock()
			return 0, unix.EPIPE
		}
		if free := p.capacity - len(p.buf); free > 0 {
			p.mu.Unlock()
			return free, nil
		}
		if nonblock {
			p.mu.Unlock()
			return 0, unix.EAGAIN
		}
		if e == nil {
			e = p.queue.Register(unix.EPOLLOUT | unix.EPOLLERR)
		}
		p.mu.Unlock()
		if err := vfs.Block(ctx, e.C); err != nil {
			return 0, err
		}
	}
}

// PeekInto implements tee(2): it copies up to n bytes from the front of
// p into dst without consuming them. It waits (unless nonblock: EAGAIN)
// for data in p and then for room in dst, and copies what is there
// without waiting again. It returns 0 if p is empty and has no writers,
// EPIPE if dst has no readers, EINVAL if dst is p.
func (p *Pipe) PeekInto(ctx context.Context, dst *Pipe, n int, nonblock bool) (int, error) {
	return p.transfer(ctx, dst, n, nonblock, false)
}

// MoveInto implements splice(2) between two pipes: as PeekInto, but the
// bytes copied leave p.
func (p *Pipe) MoveInto(ctx context.Context, dst *Pipe, n int, nonblock bool) (int, error) {
	return p.transfer(ctx, dst, n, nonblock, true)
}

// transfer copies (and, if consume, removes) up to n bytes of p into dst.
func (p *Pipe) transfer(ctx context.Context, dst *Pipe, n int, nonblock, consume bool) (int, error) {
	if p == dst {
		return 0, unix.EINVAL
	}
	if n <= 0 {
		return 0, nil
	}
	var in, out *waiter.Entry
	defer func() {
		if in != nil {
			p.queue.EventUnregister(in)
		}
		if out != nil {
			dst.queue.EventUnregister(out)
		}
	}()
	for {
		// Wait for data in p.
		p.mu.Lock()
		if len(p.buf) == 0 {
			if p.writers == 0 {
				p.mu.Unlock()
				return 0, nil
			}
			if nonblock {
				p.mu.Unlock()
				return 0, unix.EAGAIN
			}
			if in == nil {
				in = p.queue.Register(unix.EPOLLIN | unix.EPOLLHUP)
			}
			p.mu.Unlock()
			if err := vfs.Block(ctx, in.C); err != nil {
				return 0, err
			}
			continue
		}
		p.mu.Unlock()
		// Wait for room in dst.
		if _, err := dst.WaitWritable(ctx, nonblock); err != nil {
			return 0, err
		}
		// Copy with both locked, lower inode number first.
		first, second := p, dst
		if dst.ino < p.ino {
			first, second = dst, p
		}
		first.mu.Lock()
		second.mu.Lock()
		m := min(n, len(p.buf), dst.capacity-len(dst.buf))
		if m > 0 && dst.readers > 0 {
			dst.buf = append(dst.buf, p.buf[:m]...)
			dst.queue.Notify(unix.EPOLLIN | unix.EPOLLRDNORM)
			if consume {
				p.dropLocked(m)
				p.queue.Notify(unix.EPOLLOUT | unix.EPOLLWRNORM)
			}
		} else {
			m = 0
		}
		second.mu.Unlock()
		first.mu.Unlock()
		if m > 0 {
			return m, nil
		}
		// Someone else took the data or the room: start over.
	}
}
