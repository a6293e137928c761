package netstack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// tcpFrame builds an Ethernet frame (with hr bytes of zero headroom) of a
// TCP segment from src:1000 to dst:2000 with the given sequence number,
// flags and payload, its checksums complete, a timestamp option in it.
func tcpFrame(hr int, src, dst netip.Addr, seq uint32, flags byte, payload []byte) []byte {
	tcp := make([]byte, 32+len(payload))
	binary.BigEndian.PutUint16(tcp[0:], 1000)
	binary.BigEndian.PutUint16(tcp[2:], 2000)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], 77)
	tcp[12] = 8 << 4
	tcp[13] = flags
	binary.BigEndian.PutUint16(tcp[14:], 512)
	copy(tcp[20:], []byte{1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6})
	copy(tcp[32:], payload)
	sum := header.PseudoHeaderChecksum(6, src, dst, uint32(len(tcp)))
	binary.BigEndian.PutUint16(tcp[16:], ^header.Checksum(tcp, sum))
	et := uint16(EtherTypeIPv4)
	var ip []byte
	if src.Is4() {
		ip = make([]byte, header.IPv4MinSize+len(tcp))
		header.EncodeIPv4(ip, &header.IPv4{ID: uint16(seq), TTL: 64, Protocol: 6, Flags: header.IPv4FlagDF, Src: src, Dst: dst}, len(tcp))
	} else {
		et = EtherTypeIPv6
		ip = make([]byte, header.IPv6Size+len(tcp))
		header.EncodeIPv6(ip, &header.IPv6{PayloadLen: len(tcp), NextHeader: 6, HopLimit: 64, Src: src, Dst: dst})
	}
	copy(ip[len(ip)-len(tcp):], tcp)
	f := make([]byte, hr+header.EthernetSize+len(ip))
	header.EncodeEthernet(f[hr:], &header.Ethernet{Dst: macB, Src: macA, Type: et})
	copy(f[hr+header.EthernetSize:], ip)
	return f
}

const (
	tcpACK = 0x10
	tcpPSH = 0x08
	tcpFIN = 0x01
)

// Consecutive segments of one flow leave as one GSO frame whose
// virtio_net_hdr lets the host cut it back into those segments; anything
// else leaves as it was.
func TestPacketSocketWritesGSOFrames(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		src, dst := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.2")
		l3, gsoType := header.IPv4MinSize, byte(vnetGSOTCPv4)
		if v6 {
			src, dst = netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
			l3, gsoType = header.IPv6Size, vnetGSOTCPv6
		}
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		a, err := NewPacketSocket(fds[0], true)
		if err != nil {
			t.Fatal(err)
		}
		hr := a.Headroom()
		p := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
		frames := [][]byte{
			// One GSO frame: 100+100+60 bytes, the last with PSH.
			tcpFrame(hr, src, dst, 1000, tcpACK, p(100, 1)),
			tcpFrame(hr, src, dst, 1100, tcpACK, p(100, 2)),
			tcpFrame(hr, src, dst, 1200, tcpACK|tcpPSH, p(60, 3)),
			// After PSH, a new run; a gap ends it.
			tcpFrame(hr, src, dst, 1260, tcpACK, p(100, 4)),
			tcpFrame(hr, src, dst, 1400, tcpACK, p(100, 5)),
			// A FIN goes alone.
			tcpFrame(hr, src, dst, 1500, tcpACK|tcpFIN, p(10, 6)),
		}
		want := make([][]byte, len(frames))
		for i, f := range frames {
			want[i] = append([]byte(nil), f...)
		}
		if err := a.WriteFrames(frames); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1<<16)
		read := func() []byte {
			n, _, err := unix.Recvfrom(fds[1], buf, 0)
			if err != nil {
				t.Fatal(err)
			}
			return append([]byte(nil), buf[:n]...)
		}
		g := read()
		vh, f, err := header.ParseVirtioNetHdr(g)
		hdrLen := header.EthernetSize + l3 + 32
		if err != nil || vh != (header.VirtioNetHdr{Flags: header.VirtioNetHdrNeedsCsum, GSOType: gsoType, HdrLen: uint16(hdrLen), GSOSize: 100,
			CsumStart: uint16(header.EthernetSize + l3), CsumOffset: 16}) {
			t.Fatalf("v6=%v: GSO frame's header = %+v, %v", v6, vh, err)
		}
		if len(f) != hdrLen+260 || !bytes.Equal(f[hdrLen:], append(append(p(100, 1), p(100, 2)...), p(60, 3)...)) {
			t.Fatalf("v6=%v: GSO frame of %d bytes, payload %x", v6, len(f), f[hdrLen:])
		}
		ip := f[header.EthernetSize:]
		if v6 {
			if h, _, err := header.ParseIPv6(ip); err != nil || h.PayloadLen != 32+260 {
				t.Fatalf("IPv6 header %+v, %v", h, err)
			}
		} else if h, _, err := header.ParseIPv4(ip); err != nil || int(binary.BigEndian.Uint16(ip[2:])) != len(ip) || h.Flags != header.IPv4FlagDF {
			t.Fatalf("IPv4 header %+v, %v (total length %d, want %d)", h, err, binary.BigEndian.Uint16(ip[2:]), len(ip))
		}
		tcp := f[header.EthernetSize+l3:]
		if tcp[13] != tcpACK|tcpPSH || binary.BigEndian.Uint32(tcp[4:]) != 1000 {
			t.Fatalf("v6=%v: TCP flags %#x seq %d", v6, tcp[13], binary.BigEndian.Uint32(tcp[4:]))
		}
		// NEEDS_CSUM completed, the checksum is the whole segment's.
		if err := vh.CompleteChecksum(f); err != nil || !header.TCPChecksumValid(src, dst, tcp) {
			t.Fatalf("v6=%v: completed checksum invalid (%v)", v6, err)
		}
		// The rest, unchanged and with a zero virtio_net_hdr, except
		// that 4 and 5 are not consecutive and go alone.
		for i := 3; i < len(want); i++ {
			if got := read(); !bytes.Equal(got, want[i]) {
				t.Fatalf("v6=%v: frame %d = %x, want %x", v6, i, got, want[i])
			}
		}
		a.Close()
		unix.Close(fds[1])
	}
}

// A run stops short of 64 KiB, and a frame longer than the first's
// payload does not join.
func TestGSOGroupBounds(t *testing.T) {
	src, dst := netip.MustParseAddr("10.1.0.1"), netip.MustParseAddr("10.1.0.2")
	hr := header.VirtioNetHdrSize
	var frames [][]byte
	for i := 0; i < 60; i++ {
		frames = append(frames, tcpFrame(hr, src, dst, uint32(i*1448), tcpACK, make([]byte, 1448)))
	}
	n, _ := gsoGroup(frames, hr)
	if n < 40 || n*1448+header.IPv4MinSize+32 > gsoMaxLen {
		t.Errorf("a run of %d segments of 1448 bytes", n)
	}
	frames = [][]byte{tcpFrame(hr, src, dst, 0, tcpACK, make([]byte, 100)), tcpFrame(hr, src, dst, 100, tcpACK, make([]byte, 101))}
	if n, _ := gsoGroup(frames, hr); n != 1 {
		t.Errorf("a longer segment joined a run (%d frames)", n)
	}
}

// verifyingWire is a wireEnd that reports the given checksum verdicts for
// the frames it reads, as a PacketSocket with the vnet header does.
type verifyingWire struct {
	*wireEnd
	verdicts chan bool
	last     []bool
}

func (w *verifyingWire) ReadFrames() ([][]byte, error) {
	fs, err := w.wireEnd.ReadFrames()
	w.last = w.last[:0]
	for range fs {
		w.last = append(w.last, <-w.verdicts)
	}
	return fs, err
}

func (w *verifyingWire) ChecksumsVerified() []bool { return w.last }

// The PacketSocket reads DATA_VALID and NEEDS_CSUM as verified, and
// nothing else; the Ethernet link passes that on to the transport as
// Packet.ChecksumVerified.
func TestChecksumVerifiedFromVnetHeader(t *testing.T) {
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
	frame := []byte("a frame with a checksum at 2")
	for _, flags := range []byte{0, header.VirtioNetHdrDataValid, header.VirtioNetHdrNeedsCsum} {
		vh := []byte{flags, 0, 0, 0, 0, 0, 0, 0, 2, 0}
		if _, err := unix.Write(fds[0], append(vh, frame...)); err != nil {
			t.Fatal(err)
		}
		fs, err := p.ReadFrames()
		if err != nil || len(fs) != 1 || !bytes.Equal(fs[0], frame) {
			t.Fatalf("flags %d: ReadFrames = %q, %v", flags, fs, err)
		}
		if v := p.ChecksumsVerified(); len(v) != 1 || v[0] != (flags != 0) {
			t.Errorf("flags %d: ChecksumsVerified = %v", flags, v)
		}
	}

	// Through the link: a packet with a wrong checksum reaches the
	// transport as verified only when the device said so.
	wa, wb := newWire()
	vw := &verifyingWire{wireEnd: wb, verdicts: make(chan bool, 4)}
	b, _ := ethStack(t, vw, macB, "10.201.0.2/24")
	rec := &recorder{num: 6, ch: make(chan Packet, 4)}
	b.RegisterTransport(rec)
	for _, v := range []bool{false, true} {
		f := tcpFrame(0, netip.MustParseAddr("10.201.0.1"), netip.MustParseAddr("10.201.0.2"), 1, tcpACK, []byte("data"))
		f[len(f)-1] ^= 0xff // the checksum no longer matches
		vw.verdicts <- v
		wa.out <- f
		if got := expectPacket(t, rec.ch, f[header.EthernetSize+header.IPv4MinSize:]); got.ChecksumVerified != v {
			t.Errorf("device verdict %v: ChecksumVerified = %v", v, got.ChecksumVerified)
		}
	}
}
