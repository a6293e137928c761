// Package unixsocket implements AF_UNIX sockets (unix(7)): stream,
// datagram and sequenced-packet sockets, socketpair(2), names in the
// abstract namespace and in the filesystem, connection queues, shutdown,
// SCM_RIGHTS and SCM_CREDENTIALS ancillary data, and readiness for
// poll/epoll.
//
// The main types are Namespace (the sandbox-wide table of bound names, and
// the one lock that guards every socket of the sandbox) and Socket (one
// socket, which is also the vfs.FileDescriptionImpl of its open file).
// The syscall layer decodes guest memory and resolves filesystem paths;
// this package sees only Go values.
//
// Data in flight is kept in the receiver's queue as messages. Each message
// is charged to its sender (Linux: sk_wmem_alloc) until it is read, so a
// sender's SO_SNDBUF bounds what it can have queued anywhere; a queued
// message holds references on the files it passes (SCM_RIGHTS).
//
// Lock order:
//
//	Namespace.mu
//	  waiter.Queue.mu
//
// No vfs call that may take VFS locks or release a file (DecRef) is made
// with Namespace.mu held: files and dentries to drop are collected and
// dropped after unlocking, because dropping a passed socket re-enters this
// package.
package unixsocket

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Buffer sizes, as Linux's defaults on x86-64.
const (
	// DefaultBufSize is the default SO_SNDBUF and SO_RCVBUF
	// (net.core.wmem_default).
	DefaultBufSize = 212992
	// MaxBufSize is the largest value an unprivileged SO_SNDBUF or
	// SO_RCVBUF sets (twice net.core.wmem_max).
	MaxBufSize = 2 * 212992
	// MinSndBuf and MinRcvBuf are the smallest buffer sizes
	// (SOCK_MIN_SNDBUF, SOCK_MIN_RCVBUF).
	MinSndBuf = 4608
	MinRcvBuf = 2304
	// MaxRights is the most descriptors one message passes (SCM_MAX_FD).
	MaxRights = 253
	// msgOverhead is charged to the sender for each queued message on top
	// of its bytes, so that empty messages also use up buffer space
	// (Linux charges skb truesize).
	msgOverhead = 256
	// dgramHeadroom is what a datagram must leave of SO_SNDBUF (Linux:
	// len > sk_sndbuf - 32 is EMSGSIZE).
	dgramHeadroom = 32
	// MaxBacklog is the largest listen backlog (net.core.somaxconn).
	MaxBacklog = 4096
)

// Shutdown bits (Linux: RCV_SHUTDOWN, SEND_SHUTDOWN).
const (
	shutRecv = 1
	shutSend = 2
	shutBoth = shutRecv | shutSend
)

// Cred is a process's identity as sockets report it: SO_PEERCRED and
// SCM_CREDENTIALS (struct ucred).
type Cred struct {
	PID      int32
	UID, GID uint32
}

// NoCred is what SO_PEERCRED reports with no peer: pid 0, uid and gid -1.
var NoCred = Cred{PID: 0, UID: ^uint32(0), GID: ^uint32(0)}

// Address is a socket name: the bytes of sun_path. An abstract name starts
// with a NUL byte (and may contain more); a filesystem name is the path
// without its terminating NUL; an unnamed socket has an empty Address.
type Address []byte

// IsAbstract reports whether a names the abstract namespace.
func (a Address) IsAbstract() bool { return len(a) > 0 && a[0] == 0 }

// Sockaddr returns a as a struct sockaddr_un and its length as
// getsockname(2) reports it: the family, then sun_path, with a NUL after
// a filesystem path.
func (a Address) Sockaddr() []byte {
	b := make([]byte, 2, 2+len(a)+1)
	b[0], b[1] = unix.AF_UNIX, 0
	b = append(b, a...)
	if len(a) > 0 && !a.IsAbstract() {
		b = append(b, 0)
	}
	return b
}

// bindKey identifies a bound name: an abstract name of a socket type
// (as on Linux, each type has its own abstract namespace), or the inode of
// a socket file.
type bindKey struct {
	abstract string
	stype    int
	inode    vfs.Inode
}

// Target is where connect(2) or sendto(2) goes: an abstract name or the
// inode of a socket file, resolved by the caller.
type Target struct {
	key bindKey
}

// AbstractTarget returns the target for abstract name a (which starts with
// NUL). It names a socket of the caller's type only.
func AbstractTarget(a Address) Target { return Target{key: bindKey{abstract: string(a)}} }

// InodeTarget returns the target for the socket file inode (the caller has
// checked that it is a socket and that it may write to it).
func InodeTarget(inode vfs.Inode) Target { return Target{key: bindKey{inode: inode}} }

// Namespace is a set of sockets that can find each other by name: the
// abstract namespace and the table of sockets bound to filesystem paths
// (Linux keeps these per network namespace). Its mutex guards the state of
// every socket created in it.
type Namespace struct {
	// mu guards the maps below and all mutable state of the namespace's
	// sockets.
	mu sync.Mutex
	// bound maps each bound name to its socket. Protected by mu.
	bound map[bindKey]*Socket
	// nextAuto is the next autobind name to try. Protected by mu.
	nextAuto uint32
	// lastIno numbers sockets for fstat. Protected by mu.
	lastIno uint64
	// live are the sockets not yet closed, for /proc/net/unix
	// (procnet.go). Protected by mu.
	live map[*Socket]struct{}
}

// NewNamespace returns an empty namespace.
func NewNamespace() *Namespace {
	return &Namespace{bound: make(map[bindKey]*Socket), live: make(map[*Socket]struct{})}
}

// autobindLocked picks an abstract name of five hex digits unused by
// sockets of type stype (Linux: unix_autobind).
//
// Preconditions: ns.mu is held.
func (ns *Namespace) autobindLocked(stype int) (Address, bindKey, error) {
	for i := 0; i < 0x100000; i++ {
		n := ns.nextAuto & 0xfffff
		ns.nextAuto++
		name := Address(fmt.Sprintf("\x00%05x", n))
		key := bindKey{abstract: string(name), stype: stype}
		if _, used := ns.bound[key]; !used {
			return name, key, nil
		}
	}
	return nil, bindKey{}, unix.ENOSPC
}

// dropList collects references to drop once Namespace.mu is released.
type dropList struct {
	files []*vfs.FileDescription
	vds   []vfs.VirtualDentry
}

// release drops the collected references.
//
// Preconditions: Namespace.mu is not held.
func (d *dropList) release(ctx context.Context) {
	for _, f := range d.files {
		f.DecRef(ctx)
	}
	for _, vd := range d.vds {
		vd.DecRef(ctx)
	}
	d.files, d.vds = nil, nil
}
