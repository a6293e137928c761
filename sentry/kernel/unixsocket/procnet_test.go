package unixsocket

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// procLine returns the /proc/net/unix line of the socket with inode ino.
func procLine(ns *Namespace, ino uint64) (string, bool) {
	for _, l := range strings.Split(string(ns.ProcNetUnix()), "\n") {
		f := strings.Fields(l)
		if len(f) >= 7 && f[6] == fmt.Sprint(ino) {
			return l, true
		}
	}
	return "", false
}

func TestProcNetUnix(t *testing.T) {
	ctx := context.Background()
	ns := NewNamespace()
	out := string(ns.ProcNetUnix())
	if out != "Num       RefCount Protocol Flags    Type St Inode Path\n" {
		t.Fatalf("empty namespace: %q", out)
	}
	l := New(ns, unix.SOCK_STREAM, 0, NoCred)
	if err := l.BindAbstract(Address("\x00ab\x00c")); err != nil {
		t.Fatal(err)
	}
	if err := l.Listen(5, NoCred); err != nil {
		t.Fatal(err)
	}
	d := New(ns, unix.SOCK_DGRAM, 0, NoCred)
	a, b := NewPair(ns, unix.SOCK_SEQPACKET, 0, NoCred)

	for _, tc := range []struct {
		s    *Socket
		want string
	}{
		{l, fmt.Sprintf("0000000000000000: 00000002 00000000 00010000 0001 01 %5d @ab@c", l.ino)},
		{d, fmt.Sprintf("0000000000000000: 00000002 00000000 00000000 0002 01 %5d", d.ino)},
		{a, fmt.Sprintf("0000000000000000: 00000002 00000000 00000000 0005 03 %5d", a.ino)},
		{b, fmt.Sprintf("0000000000000000: 00000002 00000000 00000000 0005 03 %5d", b.ino)},
	} {
		got, ok := procLine(ns, tc.s.ino)
		if !ok || got != tc.want {
			t.Errorf("line of inode %d = %q, want %q", tc.s.ino, got, tc.want)
		}
	}
	l.Release(ctx)
	if got, ok := procLine(ns, l.ino); ok {
		t.Errorf("closed socket still listed: %q", got)
	}
	if _, ok := procLine(ns, d.ino); !ok {
		t.Errorf("open socket no longer listed")
	}
	d.Release(ctx)
	a.Release(ctx)
	b.Release(ctx)
	if out := string(ns.ProcNetUnix()); strings.Count(out, "\n") != 1 {
		t.Errorf("after closing all: %q", out)
	}
}
