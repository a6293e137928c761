package netstack

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// A datagram socketpair stands in for the packet socket: recvmmsg and
// sendmmsg work the same on it, and needs no privilege.
func TestPacketSocketBatches(t *testing.T) {
	for _, vnet := range []bool{false, true} {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		a, err := NewPacketSocket(fds[0], vnet)
		if err != nil {
			t.Fatal(err)
		}
		b, err := NewPacketSocket(fds[1], vnet)
		if err != nil {
			t.Fatal(err)
		}
		var sent [][]byte
		var frames [][]byte
		for i := 0; i < 50; i++ {
			f := bytes.Repeat([]byte{byte(i)}, header.EthernetSize+10+i)
			sent = append(sent, f)
			frames = append(frames, append(make([]byte, a.Headroom()), f...))
		}
		if err := a.WriteFrames(frames); err != nil {
			t.Fatalf("WriteFrames: %v", err)
		}
		var got [][]byte
		for len(got) < len(sent) {
			fs, err := b.ReadFrames()
			if err != nil {
				t.Fatalf("ReadFrames: %v", err)
			}
			for _, f := range fs {
				got = append(got, append([]byte(nil), f...))
			}
		}
		for i := range sent {
			if !bytes.Equal(got[i], sent[i]) {
				t.Fatalf("vnet=%v: frame %d = %x, want %x", vnet, i, got[i], sent[i])
			}
		}
		a.Close()
		b.Close()
	}
}

// A frame whose virtio_net_hdr asks for a checksum past its end is dropped;
// the next one still arrives.
func TestPacketSocketDropsBadVnetHeader(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	p, err := NewPacketSocket(fds[1], true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	bad := []byte{header.VirtioNetHdrNeedsCsum, 0, 0, 0, 0, 0, 200, 0, 6, 0, 1, 2, 3}
	good := append(make([]byte, header.VirtioNetHdrSize), []byte("a frame")...)
	for _, m := range [][]byte{bad, {1, 2}, good} {
		if _, err := unix.Write(fds[0], m); err != nil {
			t.Fatal(err)
		}
	}
	fs, err := p.ReadFrames()
	if err != nil || len(fs) != 1 || string(fs[0]) != "a frame" {
		t.Fatalf("ReadFrames = %q, %v", fs, err)
	}
	if p.Stats.RxBadVnetHdr.Load() != 2 {
		t.Errorf("RxBadVnetHdr = %d, want 2", p.Stats.RxBadVnetHdr.Load())
	}
}
