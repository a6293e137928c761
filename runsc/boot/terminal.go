package boot

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/waiter"
)

// A container process whose spec asks for a terminal gets a
// pseudo-terminal of the Sentry's own devpts, as runc gives it one of
// the container's devpts: its stdio is /dev/pts/N inside (so ttyname(3),
// job control and the line discipline are the Sentry's), and a console
// copies bytes between that pair's master and the host terminal runsc
// made (whose master docker's shim holds). The host terminal is put in
// raw mode so that only the Sentry's line discipline acts on the bytes.
//
// Window sizes go one way, host to guest: the console reads the host
// terminal's size when it starts and on every resize (boot's SIGWINCH
// for the first process's terminal, which is boot's controlling
// terminal; a control request from runsc exec for an exec'd process's)
// and sets it on the Sentry's master, which signals the guest's
// foreground group itself.
//
// Ends: when every guest descriptor of the replica is closed, the
// console closes its host descriptor, so the host master sees the
// hang-up once runsc's own copies are gone; when the host master is
// closed, the console closes the Sentry's master, and the guest's
// session leader gets SIGHUP, as on Linux.
type console struct {
	// ctx carries the kernel and root credentials for operations on
	// master. Immutable.
	ctx context.Context
	// host is the host terminal (a replica), non-blocking so that
	// closing it ends a pending read. Immutable.
	host *os.File
	// master is the Sentry pty's master, opened non-blocking: the
	// console waits for it through its waiter queue. Immutable.
	master *vfs.FileDescription

	// stop is closed, and host closed, once either direction ends.
	stop     chan struct{}
	stopOnce sync.Once
	// done is closed once both directions have ended and master is
	// released.
	done chan struct{}

	mu   sync.Mutex
	cond sync.Cond
	// busy is set while output read from master has not all been
	// written to host; outDone once the output copy has ended.
	// Protected by mu; master's output is read with mu held, so that
	// flush sees a consistent state.
	busy    bool
	outDone bool
}

// openConsole opens a pseudo-terminal pair through k's VFS (/dev/ptmx,
// then /dev/pts/N, as the process with creds would) and returns the
// console copying between it and the host terminal hostFD, which it
// takes over (also on failure), and the replica for the process's stdio.
// The caller owns the replica's reference. The console runs until one
// side ends.
func openConsole(k *kernel.Kernel, creds *kernel.Credentials, hostFD int) (*console, *vfs.FileDescription, error) {
	ctx := kernel.ContextWithKernel(vfs.WithCredentials(context.Background(), creds.VFS()), k)
	root := k.Mounts.Root()
	defer root.DecRef(ctx)
	fail := func(what string, err error) (*console, *vfs.FileDescription, error) {
		unix.Close(hostFD)
		return nil, nil, fmt.Errorf("process.terminal: %s: %w", what, err)
	}
	master, err := k.VFS.OpenAt(ctx, pathOp(root, "/dev/ptmx", true), vfs.OpenOptions{Flags: unix.O_RDWR | unix.O_NOCTTY | unix.O_NONBLOCK})
	if err != nil {
		return fail("opening /dev/ptmx", err)
	}
	var m scratchMemory
	if _, err := master.Ioctl(ctx, &m, unix.TIOCSPTLCK, 0); err != nil {
		master.DecRef(ctx)
		return fail("unlocking the pseudo-terminal", err)
	}
	if _, err := master.Ioctl(ctx, &m, unix.TIOCGPTN, 0); err != nil {
		master.DecRef(ctx)
		return fail("naming the pseudo-terminal", err)
	}
	name := fmt.Sprintf("/dev/pts/%d", binary.LittleEndian.Uint32(m.b[:4]))
	replica, err := k.VFS.OpenAt(ctx, pathOp(root, name, true), vfs.OpenOptions{Flags: unix.O_RDWR | unix.O_NOCTTY})
	if err != nil {
		master.DecRef(ctx)
		if errors.Is(err, unix.ENOENT) {
			err = fmt.Errorf("%w (the spec needs a devpts mount at /dev/pts)", err)
		}
		return fail("opening "+name, err)
	}
	// Raw mode: no echo, no signals, no newline translation on the
	// host; the container's terminal settings are the Sentry's.
	if t, err := unix.IoctlGetTermios(hostFD, unix.TCGETS); err == nil {
		t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
		t.Oflag &^= unix.OPOST
		t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
		t.Cflag &^= unix.CSIZE | unix.PARENB
		t.Cflag |= unix.CS8
		t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
		unix.IoctlSetTermios(hostFD, unix.TCSETS, t)
	}
	// A non-blocking descriptor goes to Go's poller: closing the
	// os.File then ends a read pending on it.
	if err := unix.SetNonblock(hostFD, true); err != nil {
		replica.DecRef(ctx)
		master.DecRef(ctx)
		return fail("the host terminal", err)
	}
	c := &console{ctx: ctx, host: os.NewFile(uintptr(hostFD), "console"), master: master, stop: make(chan struct{}), done: make(chan struct{})}
	c.cond.L = &c.mu
	c.resize()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.copyOut() }()
	go func() { defer wg.Done(); c.copyIn() }()
	go func() {
		wg.Wait()
		// The master is the console's alone: releasing it hangs the
		// replica up.
		c.master.DecRef(c.ctx)
		close(c.done)
	}()
	return c, replica, nil
}

// end stops both directions: the host descriptor is closed (ending a
// pending read of it) and the goroutines return.
func (c *console) end() {
	c.stopOnce.Do(func() {
		close(c.stop)
		c.host.Close()
	})
}

// copyOut copies the guest's output, from the Sentry's master to the
// host terminal, until every replica is closed (the master reads EIO)
// or the host terminal is gone.
func (c *console) copyOut() {
	defer func() {
		c.mu.Lock()
		c.outDone = true
		c.cond.Broadcast()
		c.mu.Unlock()
		c.end()
	}()
	e := waiter.NewEntry(unix.EPOLLIN | unix.EPOLLHUP)
	c.master.EventRegister(e)
	defer c.master.EventUnregister(e)
	buf := make([]byte, 4096)
	for {
		c.mu.Lock()
		n, err := c.master.Read(c.ctx, buf)
		c.busy = n > 0
		if n == 0 {
			c.cond.Broadcast() // nothing left to copy: flush may return
		}
		c.mu.Unlock()
		if n > 0 {
			_, werr := c.host.Write(buf[:n])
			c.mu.Lock()
			c.busy = false
			c.cond.Broadcast()
			c.mu.Unlock()
			if werr != nil {
				return
			}
			continue
		}
		if err != unix.EAGAIN {
			return // EIO: the guest has closed every replica
		}
		select {
		case <-e.C:
		case <-c.stop:
			return
		}
	}
}

// copyIn copies input, from the host terminal to the Sentry's master
// (through its line discipline), until the host master is closed (the
// read fails with EIO) or the console ends.
func (c *console) copyIn() {
	defer c.end()
	e := waiter.NewEntry(unix.EPOLLOUT | unix.EPOLLHUP)
	c.master.EventRegister(e)
	defer c.master.EventUnregister(e)
	buf := make([]byte, 4096)
	for {
		n, err := c.host.Read(buf)
		for b := buf[:n]; len(b) > 0; {
			w, werr := c.master.Write(c.ctx, b)
			b = b[w:]
			if werr != nil && werr != unix.EAGAIN {
				return
			}
			if w == 0 {
				select {
				case <-e.C:
				case <-c.stop:
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// flush waits until the output the guest has written so far is on the
// host terminal (or the console has ended): a process that exits has
// written all its output to the master already.
func (c *console) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.outDone && (c.busy || c.master.Readiness(unix.EPOLLIN) != 0) {
		c.cond.Wait()
	}
}

// resize sets the host terminal's window size on the Sentry's master;
// a change signals SIGWINCH to the foreground group of the guest's
// terminal.
func (c *console) resize() {
	if !c.master.TryIncRef() {
		return // the console has ended
	}
	defer c.master.DecRef(c.ctx)
	rc, err := c.host.SyscallConn()
	if err != nil {
		return
	}
	var ws *unix.Winsize
	// Control keeps the descriptor from being closed meanwhile.
	if cerr := rc.Control(func(fd uintptr) { ws, err = unix.IoctlGetWinsize(int(fd), unix.TIOCGWINSZ) }); cerr != nil || err != nil {
		return
	}
	var m scratchMemory
	binary.LittleEndian.PutUint16(m.b[0:], ws.Row)
	binary.LittleEndian.PutUint16(m.b[2:], ws.Col)
	binary.LittleEndian.PutUint16(m.b[4:], ws.Xpixel)
	binary.LittleEndian.PutUint16(m.b[6:], ws.Ypixel)
	c.master.Ioctl(c.ctx, &m, unix.TIOCSWINSZ, 0)
}

// terminalTable returns a descriptor table holding replica as 0, 1, 2.
func terminalTable(ctx context.Context, replica *vfs.FileDescription) (*kernel.FDTable, error) {
	fdTable := kernel.NewFDTable()
	for i := int32(0); i < 3; i++ {
		if _, err := fdTable.Install(i, 3, replica, kernel.FDFlags{}); err != nil {
			return nil, err
		}
	}
	return fdTable, nil
}
