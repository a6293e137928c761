package netstack

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// EtherType values of the network protocols a link carries.
const (
	EtherTypeIPv4 = 0x0800
	EtherTypeIPv6 = 0x86dd
)

// LinkEndpoint is a NIC's link: it carries IP packets. Loopback is the only
// one today; an Ethernet link over a packet socket implements the same
// interface and resolves nextHop to a link address (ARP, neighbour
// discovery) itself.
type LinkEndpoint interface {
	// MTU is the largest IP packet the link carries.
	MTU() int
	// IsLoopback reports whether the link is a loopback (IFF_LOOPBACK).
	IsLoopback() bool
	// Attach starts delivering received packets to deliver, on the link's
	// own goroutine(s), never from inside WritePacket.
	Attach(deliver func(etherType uint16, pkt []byte))
	// WritePacket sends one IP packet towards nextHop. The link may keep
	// pkt. It returns ENOBUFS when its queue is full (the packet is
	// dropped and counted).
	WritePacket(nextHop netip.Addr, etherType uint16, pkt []byte) error
	// Close stops delivery.
	Close()
}

// Loopback queue bounds: packets and bytes in flight between a send and
// the delivery goroutine.
const (
	loopbackMaxPackets = 4096
	loopbackMaxBytes   = 8 << 20
	// LoopbackMTU is the MTU of lo, as Linux's.
	LoopbackMTU = 65536
)

type loopPacket struct {
	etherType uint16
	pkt       []byte
	// verified: the transport checksum was left out (SendOptions.
	// ChecksumOffset) and need not be checked.
	verified bool
}

// Loopback is the loopback link: what is written comes back in, delivered
// by its own goroutine, through a bounded queue.
type Loopback struct {
	ch    chan loopPacket
	bytes atomic.Int64
	// Drops counts packets dropped because the queue was full.
	Drops    atomic.Uint64
	stop     chan struct{}
	stopOnce sync.Once
}

var _ LinkEndpoint = (*Loopback)(nil)

// NewLoopback returns a loopback link.
func NewLoopback() *Loopback {
	return &Loopback{ch: make(chan loopPacket, loopbackMaxPackets), stop: make(chan struct{})}
}

// MTU implements LinkEndpoint.MTU.
func (l *Loopback) MTU() int { return LoopbackMTU }

// IsLoopback implements LinkEndpoint.IsLoopback.
func (l *Loopback) IsLoopback() bool { return true }

// Attach implements LinkEndpoint.Attach.
func (l *Loopback) Attach(deliver func(etherType uint16, pkt []byte)) {
	l.attach(func(et uint16, pkt []byte, _ bool) { deliver(et, pkt) })
}

// attach is Attach for the stack, which also learns whether a packet's
// transport checksum was left out.
func (l *Loopback) attach(deliver func(etherType uint16, pkt []byte, verified bool)) {
	go func() {
		for {
			select {
			case p := <-l.ch:
				l.bytes.Add(-int64(len(p.pkt)))
				deliver(p.etherType, p.pkt, p.verified)
			case <-l.stop:
				return
			}
		}
	}()
}

// WritePacket implements LinkEndpoint.WritePacket.
func (l *Loopback) WritePacket(_ netip.Addr, etherType uint16, pkt []byte) error {
	return l.writePacket(etherType, pkt, false)
}

// writePacket queues pkt; verified says its transport checksum was left
// out by the stack and must not be checked on delivery.
func (l *Loopback) writePacket(etherType uint16, pkt []byte, verified bool) error {
	if l.bytes.Add(int64(len(pkt))) > loopbackMaxBytes {
		l.bytes.Add(-int64(len(pkt)))
		l.Drops.Add(1)
		return unix.ENOBUFS
	}
	select {
	case l.ch <- loopPacket{etherType, pkt, verified}:
		return nil
	default:
		l.bytes.Add(-int64(len(pkt)))
		l.Drops.Add(1)
		return unix.ENOBUFS
	}
}

// Close implements LinkEndpoint.Close.
func (l *Loopback) Close() { l.stopOnce.Do(func() { close(l.stop) }) }
