package netstack

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// Packet socket batching: frames per recvmmsg/sendmmsg, and the receive
// buffer of each (a GSO frame from a local peer is up to 64 KiB, see
// docs/network.md).
const (
	packetBatch   = 32
	packetBufSize = header.VirtioNetHdrSize + header.EthernetSize + 65536
)

// PacketSocketStats are a PacketSocket's counters.
type PacketSocketStats struct {
	RxTruncated, RxBadVnetHdr, TxErrors atomic.Uint64
}

// PacketSocket is a FrameIO over a host AF_PACKET socket (SOCK_RAW, bound
// to one interface), which runsc opens and donates: frames are read with
// recvmmsg and written with sendmmsg, in batches, through the Go runtime's
// poller. With vnetHdr the socket has PACKET_VNET_HDR set: each frame
// comes with a virtio_net_hdr, which says whether the host vouches for
// its checksums (ChecksumsVerified), and frames written may be GSO
// frames (gso.go).
type PacketSocket struct {
	// Stats are the counters.
	Stats PacketSocketStats

	f    *os.File
	rc   syscall.RawConn
	vnet bool

	// Receive state, used by ReadFrames only (one reader).
	rbufs  [][]byte
	rhdrs  []unix.Mmsghdr
	riov   []unix.Iovec
	frames [][]byte
	// verified[i] says frames[i]'s checksums need no checking.
	verified []bool

	// Send state, used by WriteFrames only (one writer).
	thdrs []unix.Mmsghdr
	tiov  []unix.Iovec
	tmsgs []txMsg
}

var _ FrameIO = (*PacketSocket)(nil)

// NewPacketSocket returns a FrameIO over packet socket fd, which it owns
// from now on (and makes non-blocking).
func NewPacketSocket(fd int, vnetHdr bool) (*PacketSocket, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, os.NewSyscallError("fcntl(O_NONBLOCK)", err)
	}
	f := os.NewFile(uintptr(fd), "packet-socket")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	p := &PacketSocket{f: f, rc: rc, vnet: vnetHdr,
		rbufs: make([][]byte, packetBatch), rhdrs: make([]unix.Mmsghdr, packetBatch), riov: make([]unix.Iovec, packetBatch),
		frames: make([][]byte, 0, packetBatch), verified: make([]bool, 0, packetBatch),
		thdrs: make([]unix.Mmsghdr, packetBatch)}
	for i := range p.rbufs {
		p.rbufs[i] = make([]byte, packetBufSize)
	}
	return p, nil
}

// Headroom implements FrameIO.Headroom: room for the virtio_net_hdr.
func (p *PacketSocket) Headroom() int {
	if p.vnet {
		return header.VirtioNetHdrSize
	}
	return 0
}

// Close implements FrameIO.Close.
func (p *PacketSocket) Close() error { return p.f.Close() }

// ReadFrames implements FrameIO.ReadFrames.
func (p *PacketSocket) ReadFrames() ([][]byte, error) {
	for {
		var n int
		var err error
		if rerr := p.rc.Read(func(fd uintptr) bool {
			n, err = p.recvmmsg(fd)
			return err != unix.EAGAIN
		}); rerr != nil {
			return nil, rerr
		}
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, os.NewSyscallError("recvmmsg", err)
		}
		p.frames, p.verified = p.frames[:0], p.verified[:0]
		for i := 0; i < n; i++ {
			if f, v := p.frame(i); f != nil {
				p.frames = append(p.frames, f)
				p.verified = append(p.verified, v)
			}
		}
		if len(p.frames) > 0 {
			return p.frames, nil
		}
	}
}

// ChecksumsVerified says, for each frame of the last ReadFrames, whether
// the host vouches for its transport checksum: the virtio_net_hdr says
// DATA_VALID (the host's device checked it) or NEEDS_CSUM (a local peer
// left it to checksum offload, never computed: Linux's CHECKSUM_PARTIAL,
// which its own stack trusts too). Such a frame's checksum is not
// checked again (nor completed: the field may hold only the partial
// sum, as a packet capture on Linux shows it). Without the header, or
// with neither flag, the stack checks it.
func (p *PacketSocket) ChecksumsVerified() []bool { return p.verified }

// frame returns the i-th received frame and whether its checksum is
// verified, or nil if it is to be dropped.
func (p *PacketSocket) frame(i int) ([]byte, bool) {
	h := &p.rhdrs[i]
	if h.Hdr.Flags&unix.MSG_TRUNC != 0 || int(h.Len) > len(p.rbufs[i]) {
		p.Stats.RxTruncated.Add(1)
		return nil, false
	}
	b := p.rbufs[i][:h.Len]
	if !p.vnet {
		return b, false
	}
	vh, f, err := header.ParseVirtioNetHdr(b)
	if err != nil {
		p.Stats.RxBadVnetHdr.Add(1)
		return nil, false
	}
	if vh.Flags&header.VirtioNetHdrNeedsCsum != 0 {
		if !vh.ChecksumFits(f) {
			p.Stats.RxBadVnetHdr.Add(1)
			return nil, false
		}
		return f, true
	}
	return f, vh.Flags&header.VirtioNetHdrDataValid != 0
}

// WriteFrames implements FrameIO.WriteFrames. A frame the kernel refuses
// (EMSGSIZE, the interface down) is dropped and counted. With the vnet
// header, runs of one TCP flow's segments go as one GSO frame each
// (gso.go).
func (p *PacketSocket) WriteFrames(frames [][]byte) error {
	// The messages: how many frames each carries, and where the payload
	// of all but the first starts. Grouping changes the first frame of a
	// group, so it is done once, before any is sent.
	p.tmsgs = p.tmsgs[:0]
	for i := 0; i < len(frames); {
		m := txMsg{n: 1}
		if p.vnet {
			m.n, m.hdrEnd = gsoGroup(frames[i:], header.VirtioNetHdrSize)
		}
		p.tmsgs = append(p.tmsgs, m)
		i += m.n
	}
	msgs := p.tmsgs
	for len(msgs) > 0 {
		batch := msgs[:min(len(msgs), packetBatch)]
		var n int
		var err error
		if werr := p.rc.Write(func(fd uintptr) bool {
			n, err = p.sendmmsg(fd, frames, batch)
			return err != unix.EAGAIN
		}); werr != nil {
			return werr
		}
		switch {
		case err == unix.EINTR:
			continue
		case errors.Is(err, unix.EBADF) || errors.Is(err, unix.ENOTSOCK):
			return os.NewSyscallError("sendmmsg", err)
		case err != nil:
			// The first message failed: drop it and go on.
			p.Stats.TxErrors.Add(1)
			n = 1
		}
		for _, m := range msgs[:n] {
			frames = frames[m.n:]
		}
		msgs = msgs[n:]
	}
	return nil
}

// txMsg is one message of a sendmmsg: n frames, the first whole, the
// others from hdrEnd on (their payload, a GSO frame's).
type txMsg struct {
	n, hdrEnd int
}
