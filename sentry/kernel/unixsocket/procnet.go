package unixsocket

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// Socket states as /proc/net/unix shows them (Linux: socket_state).
const (
	ssUnconnected = 1
	ssConnecting  = 2
	ssConnected   = 3
)

// soAcceptCon is the Flags bit of a listening socket (Linux:
// __SO_ACCEPTCON).
const soAcceptCon = 1 << 16

// ProcNetUnix returns the contents of /proc/net/unix: one line per open
// socket of the namespace, oldest first, in Linux's layout (Linux:
// unix_seq_show). The kernel address column is zeros, as Linux shows it
// to a reader without CAP_SYSLOG; RefCount is 2 (the socket and its
// file). Abstract names start with '@', and a NUL inside one is shown as
// '@'.
func (ns *Namespace) ProcNetUnix() []byte {
	type line struct {
		ino       uint64
		stype     int
		flags, st int
		name      Address
	}
	ns.mu.Lock()
	lines := make([]line, 0, len(ns.live))
	for s := range ns.live {
		l := line{ino: s.ino, stype: s.stype, st: ssUnconnected, name: s.name}
		if s.listening {
			l.flags = soAcceptCon
		}
		if s.connected || (s.stype == unix.SOCK_DGRAM && s.peer != nil) {
			l.st = ssConnected
			if s.embryo {
				l.st = ssConnecting // no file yet (Linux: sk_socket is NULL)
			}
		}
		lines = append(lines, l)
	}
	ns.mu.Unlock()
	slices.SortFunc(lines, func(a, b line) int {
		switch {
		case a.ino < b.ino:
			return -1
		case a.ino > b.ino:
			return 1
		}
		return 0
	})
	var b strings.Builder
	b.WriteString("Num       RefCount Protocol Flags    Type St Inode Path\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "%016x: %08X %08X %08X %04X %02X %5d", 0, 2, 0, l.flags, l.stype, l.st, l.ino)
		if len(l.name) > 0 {
			b.WriteByte(' ')
			for _, c := range l.name {
				if c == 0 {
					c = '@'
				}
				b.WriteByte(c)
			}
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
