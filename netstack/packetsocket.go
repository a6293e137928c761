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
// comes with a virtio_net_hdr, whose partial checksums (a local peer's
// checksum offload) are completed here.
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

	// Send state, used by WriteFrames only (one writer).
	thdrs []unix.Mmsghdr
	tiov  []unix.Iovec
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
		frames: make([][]byte, 0, packetBatch),
		thdrs:  make([]unix.Mmsghdr, packetBatch), tiov: make([]unix.Iovec, packetBatch)}
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
		p.frames = p.frames[:0]
		for i := 0; i < n; i++ {
			if f := p.frame(i); f != nil {
				p.frames = append(p.frames, f)
			}
		}
		if len(p.frames) > 0 {
			return p.frames, nil
		}
	}
}

// frame returns the i-th received frame, its checksum completed, or nil if
// it is to be dropped.
func (p *PacketSocket) frame(i int) []byte {
	h := &p.rhdrs[i]
	if h.Hdr.Flags&unix.MSG_TRUNC != 0 || int(h.Len) > len(p.rbufs[i]) {
		p.Stats.RxTruncated.Add(1)
		return nil
	}
	b := p.rbufs[i][:h.Len]
	if !p.vnet {
		return b
	}
	vh, f, err := header.ParseVirtioNetHdr(b)
	if err != nil {
		p.Stats.RxBadVnetHdr.Add(1)
		return nil
	}
	if vh.Flags&header.VirtioNetHdrNeedsCsum != 0 {
		if err := vh.CompleteChecksum(f); err != nil {
			p.Stats.RxBadVnetHdr.Add(1)
			return nil
		}
	}
	return f
}

// WriteFrames implements FrameIO.WriteFrames. A frame the kernel refuses
// (EMSGSIZE, the interface down) is dropped and counted.
func (p *PacketSocket) WriteFrames(frames [][]byte) error {
	for len(frames) > 0 {
		batch := frames[:min(len(frames), packetBatch)]
		var n int
		var err error
		if werr := p.rc.Write(func(fd uintptr) bool {
			n, err = p.sendmmsg(fd, batch)
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
			// The first frame failed: drop it and go on.
			p.Stats.TxErrors.Add(1)
			n = 1
		}
		frames = frames[n:]
	}
	return nil
}
