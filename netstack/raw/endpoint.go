package raw

import (
	"encoding/binary"
	"net/netip"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// Buffer sizes, as Linux's defaults on x86-64 (net.core.rmem_default,
// rmem_max, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF), and what each queued
// packet costs on top of its bytes (the skb's truesize).
const (
	defaultBufSize = 212992
	maxBufSize     = 2 * 212992
	minRcvBuf      = 2304
	minSndBuf      = 4608
	packetOverhead = 256
)

// packet is one received copy.
type packet struct {
	data   []byte
	from   netip.Addr
	dst    netip.Addr
	nic    int32
	ttl    uint8
	tos    uint8
	stamp  int64
	charge int
}

// endpoint is a raw socket's endpoint.
type endpoint struct {
	p *Protocol
	// v6 and proto are the family and protocol number. Immutable.
	v6    bool
	proto int

	mu     sync.Mutex
	notify func(uint32)

	// local is the bound address (unspecified: any); userAddr says
	// bind(2) set it. remote is the connected peer. Protected by mu.
	local          netip.Addr
	userAddr       bool
	connected      bool
	remote         netstack.FullAddress
	shutRd, shutWr bool
	closed         bool
	recvq          []packet
	rcvBytes       int

	// Options. Protected by mu.
	hdrincl, broadcast, timestamp                              bool
	pktinfo, recvTOS, recvTTL, v6pktinfo, recvTClass, recvHops bool
	v6only, recvHops2292                                       bool
	rcvbuf, sndbuf                                             int
	dev                                                        int32
	ttl, hops                                                  int32 // -1: default
	tos, tclass                                                uint8
	// icmpFilter is ICMP_FILTER: a set bit drops that ICMP type (< 32).
	icmpFilter uint32
	// icmp6Filter is ICMP6_FILTER: a set bit blocks that ICMPv6 type.
	icmp6Filter [8]uint32
	// csumOff is IPV6_CHECKSUM's offset, -1 for none.
	csumOff int32
}

var (
	_ netstack.Endpoint   = (*endpoint)(nil)
	_ netstack.QueueSizer = (*endpoint)(nil)
)

func newEndpoint(p *Protocol, v6 bool, proto int) *endpoint {
	e := &endpoint{p: p, v6: v6, proto: proto, rcvbuf: defaultBufSize, sndbuf: defaultBufSize, ttl: -1, hops: -1, csumOff: -1}
	e.local = e.anyAddr()
	if proto == unix.IPPROTO_RAW {
		e.hdrincl = true
	}
	if v6 && proto == unix.IPPROTO_ICMPV6 {
		e.csumOff = 2
	}
	return e
}

func (e *endpoint) anyAddr() netip.Addr {
	if e.v6 {
		return netip.IPv6Unspecified()
	}
	return netip.IPv4Unspecified()
}

// SetNotify implements netstack.Endpoint.SetNotify.
func (e *endpoint) SetNotify(f func(uint32)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.notify = f
}

// family checks that a is of e's family (a 4-byte address on an IPv6
// endpoint is a v4-mapped one: refused).
func (e *endpoint) family(a netip.Addr, errno unix.Errno) (netip.Addr, error) {
	if !a.IsValid() {
		return e.anyAddr(), nil
	}
	if e.v6 != a.Is6() {
		return a, errno
	}
	return a, nil
}

func isBroadcast(n netstack.Network, a netip.Addr) bool {
	if b, ok := n.(netstack.BroadcastChecker); ok {
		return b.IsBroadcast(a)
	}
	return a == netip.AddrFrom4([4]byte{255, 255, 255, 255})
}

// Bind implements netstack.Endpoint.Bind: an address only (the port is
// ignored); it must be one of the stack's, broadcast or multicast.
func (e *endpoint) Bind(addr netstack.FullAddress) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return unix.EBADF
	}
	errno := unix.EINVAL
	if e.v6 {
		errno = unix.EADDRNOTAVAIL // rawv6_bind: v4-mapped
	}
	a, err := e.family(addr.Addr, errno)
	if err != nil {
		return err
	}
	if !a.IsUnspecified() && !a.IsMulticast() && !e.p.net.IsLocalAddress(a) {
		return unix.EADDRNOTAVAIL
	}
	e.local, e.userAddr = a, !a.IsUnspecified()
	return nil
}

// resolve turns an unspecified destination into this host, as Linux.
func resolve(a netip.Addr) netip.Addr {
	if a.IsUnspecified() {
		if a.Is4() {
			return netip.AddrFrom4([4]byte{127, 0, 0, 1})
		}
		return netip.IPv6Loopback()
	}
	return a
}

// routeLocked finds the route to remote from local (e's bound address
// when invalid) on dev (e's when 0).
func (e *endpoint) routeLocked(local, remote netip.Addr, dev int32) (netstack.Route, error) {
	if !local.IsValid() {
		local = e.local
	}
	if dev == 0 {
		dev = e.dev
	}
	if local.IsMulticast() || isBroadcast(e.p.net, local) {
		local = netip.Addr{}
	}
	r, err := e.p.net.FindRoute(local, remote, dev)
	if err != nil {
		return r, err
	}
	if isBroadcast(e.p.net, remote) && !e.broadcast {
		return r, unix.EACCES
	}
	return r, nil
}

// Connect implements netstack.Endpoint.Connect: the default destination,
// and the only source received from.
func (e *endpoint) Connect(addr netstack.FullAddress, unspec bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return unix.EBADF
	}
	if unspec {
		e.connected, e.remote = false, netstack.FullAddress{}
		if !e.userAddr {
			e.local = e.anyAddr()
		}
		return nil
	}
	a, err := e.family(addr.Addr, unix.EAFNOSUPPORT)
	if err != nil {
		return err
	}
	a = resolve(a)
	r, err := e.routeLocked(netip.Addr{}, a, 0)
	if err != nil {
		return err
	}
	if !e.userAddr {
		e.local = r.Local
	}
	e.connected, e.remote = true, netstack.FullAddress{Addr: a, Port: addr.Port}
	return nil
}

// Listen implements netstack.Endpoint.Listen.
func (e *endpoint) Listen(int) error { return unix.EOPNOTSUPP }

// Accept implements netstack.Endpoint.Accept.
func (e *endpoint) Accept() (netstack.Endpoint, netstack.FullAddress, error) {
	return nil, netstack.FullAddress{}, unix.EOPNOTSUPP
}

// deliver offers a received packet to e and reports whether e queued it.
func (e *endpoint) deliver(pkt netstack.Packet, ipHeader []byte) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || e.shutRd {
		return false
	}
	if !e.local.IsUnspecified() && e.local != pkt.Dst {
		return false
	}
	if e.connected && e.remote.Addr != pkt.Src {
		return false
	}
	if e.dev != 0 && e.dev != pkt.NICID {
		return false
	}
	if !e.v6 && e.proto == unix.IPPROTO_ICMP {
		// Linux's icmp_filter: a packet too short for an ICMP header
		// is never delivered.
		if len(pkt.Payload) < header.ICMPSize || (pkt.Payload[0] < 32 && e.icmpFilter&(1<<pkt.Payload[0]) != 0) {
			e.p.Stats.Filtered.Add(1)
			return false
		}
	}
	if e.v6 && e.proto == unix.IPPROTO_ICMPV6 {
		if len(pkt.Payload) < header.ICMPSize || e.icmp6Filter[pkt.Payload[0]>>5]&(1<<(pkt.Payload[0]&31)) != 0 {
			e.p.Stats.Filtered.Add(1)
			return false
		}
	}
	if e.v6 && e.csumOff >= 0 && !pkt.ChecksumVerified {
		sum := header.PseudoHeaderChecksum(uint8(e.proto), pkt.Src, pkt.Dst, uint32(len(pkt.Payload)))
		if int(e.csumOff)+2 > len(pkt.Payload) || header.Checksum(pkt.Payload, sum) != 0xffff {
			e.p.Stats.Filtered.Add(1)
			return false
		}
	}
	if e.rcvBytes > e.rcvbuf {
		e.p.Stats.RcvbufErrors.Add(1)
		return false
	}
	data := make([]byte, len(ipHeader)+len(pkt.Payload))
	copy(data[copy(data, ipHeader):], pkt.Payload)
	d := packet{data: data, from: pkt.Src, dst: pkt.Dst, nic: pkt.NICID, ttl: pkt.TTL, tos: pkt.TOS,
		stamp: e.p.net.Now().UnixNano(), charge: len(data) + packetOverhead}
	e.recvq = append(e.recvq, d)
	e.rcvBytes += d.charge
	e.p.Stats.InDelivered.Add(1)
	if f := e.notify; f != nil {
		f(unix.EPOLLIN | unix.EPOLLRDNORM)
	}
	return true
}

// Read implements netstack.Endpoint.Read.
func (e *endpoint) Read(buf []byte, opts netstack.ReadOptions) (netstack.ReadResult, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if opts.OOB {
		return netstack.ReadResult{}, unix.EOPNOTSUPP
	}
	if len(e.recvq) == 0 {
		if e.shutRd {
			return netstack.ReadResult{}, nil
		}
		return netstack.ReadResult{}, unix.EAGAIN
	}
	d := e.recvq[0]
	if !opts.Peek {
		e.recvq[0] = packet{}
		e.recvq = e.recvq[1:]
		e.rcvBytes -= d.charge
	}
	n := copy(buf, d.data)
	res := netstack.ReadResult{N: n, Total: len(d.data), From: netstack.FullAddress{Addr: d.from}}
	c := &res.Control
	if e.timestamp {
		c.HasTimestamp, c.TimestampNS = true, d.stamp
	}
	if !e.v6 {
		if e.recvTOS {
			c.HasTOS, c.TOS = true, d.tos
		}
		if e.recvTTL {
			c.HasTTL, c.TTL = true, d.ttl
		}
		if e.pktinfo {
			c.HasPktInfo, c.PktInfoIfIndex, c.PktInfoDst = true, d.nic, d.dst
		}
	} else {
		if e.recvTClass {
			c.HasTOS, c.TOS = true, d.tos
		}
		if e.recvHops || e.recvHops2292 {
			c.HasTTL, c.TTL, c.TTL2292 = true, d.ttl, !e.recvHops
		}
		if e.v6pktinfo {
			c.HasPktInfo, c.PktInfoIfIndex, c.PktInfoDst = true, d.nic, d.dst
		}
	}
	return res, nil
}

// Write implements netstack.Endpoint.Write.
func (e *endpoint) Write(buf []byte, opts netstack.WriteOptions) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, unix.EBADF
	}
	if e.shutWr {
		return 0, unix.EPIPE
	}
	if opts.OOB {
		return 0, unix.EOPNOTSUPP
	}
	var to netip.Addr
	if opts.To != nil {
		a, err := e.family(opts.To.Addr, unix.EINVAL)
		if err != nil {
			return 0, err
		}
		to = resolve(a)
	} else {
		if !e.connected {
			return 0, unix.EDESTADDRREQ
		}
		to = e.remote.Addr
	}
	if len(buf) > 0xffff+header.IPv6Size || (!e.v6 && (len(buf) > 0xffff || (!e.hdrincl && len(buf)+header.IPv4MinSize > 0xffff))) {
		return 0, unix.EMSGSIZE
	}
	var src netip.Addr
	var dev int32
	c := opts.Control
	if c != nil {
		if c.Src.IsValid() && !c.Src.IsUnspecified() {
			src = c.Src
		}
		dev = c.IfIndex
	}
	r, err := e.routeLocked(src, to, dev)
	if err == unix.EADDRNOTAVAIL && src.IsValid() {
		err = unix.ENETUNREACH // ip_route_output_key: a source not of this host
		if src.IsMulticast() {
			err = unix.EINVAL
		}
	}
	if err != nil {
		return 0, err
	}
	if e.hdrincl {
		rs, ok := e.p.net.(netstack.RawSender)
		if !ok {
			return 0, unix.EOPNOTSUPP
		}
		if e.v6 {
			err = rs.SendIPv6Header(r, buf)
		} else if len(buf) < header.IPv4MinSize {
			err = unix.EINVAL
		} else {
			err = rs.SendIPv4Header(r, buf)
		}
		if err != nil {
			return 0, err
		}
		e.p.Stats.OutRequests.Add(1)
		return len(buf), nil
	}
	if e.proto > 0xff {
		// socket(2) accepts protocols up to IPPROTO_MAX-1 (262) as
		// Linux; no IP header can carry one above 255.
		return 0, unix.EINVAL
	}
	pkt := buf
	if e.v6 && e.csumOff >= 0 {
		off := int(e.csumOff)
		if off+2 > len(buf) {
			return 0, unix.EINVAL
		}
		pkt = append([]byte(nil), buf...)
		pkt[off], pkt[off+1] = 0, 0
		sum := header.PseudoHeaderChecksum(uint8(e.proto), r.Local, r.Remote, uint32(len(pkt)))
		binary.BigEndian.PutUint16(pkt[off:], ^header.Checksum(pkt, sum))
	}
	so := netstack.SendOptions{}
	if !e.v6 {
		so.TOS = e.tos
		if e.ttl >= 0 {
			so.TTL = uint8(e.ttl)
		}
	} else {
		so.TOS = e.tclass
		if e.hops >= 0 {
			so.TTL = uint8(e.hops)
		}
	}
	if c != nil {
		if c.HasTTL {
			so.TTL = c.TTL
		}
		if c.HasTOS {
			so.TOS = c.TOS
		}
	}
	if err := e.p.net.Send(r, uint8(e.proto), pkt, so); err != nil {
		return 0, err
	}
	e.p.Stats.OutRequests.Add(1)
	return len(buf), nil
}

// Shutdown implements netstack.Endpoint.Shutdown (as a datagram socket's).
func (e *endpoint) Shutdown(how int) error {
	if how != unix.SHUT_RD && how != unix.SHUT_WR && how != unix.SHUT_RDWR {
		return unix.EINVAL
	}
	e.mu.Lock()
	if how != unix.SHUT_WR {
		e.shutRd = true
	}
	if how != unix.SHUT_RD {
		e.shutWr = true
	}
	connected := e.connected
	if f := e.notify; f != nil {
		f(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLHUP | unix.EPOLLRDHUP)
	}
	e.mu.Unlock()
	if !connected {
		return unix.ENOTCONN
	}
	return nil
}

// Close implements netstack.Endpoint.Close.
func (e *endpoint) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.recvq, e.rcvBytes = nil, 0
	e.mu.Unlock()
	e.p.remove(e)
}

// LocalAddress implements netstack.Endpoint.LocalAddress: the port is the
// protocol number, as Linux shows it.
func (e *endpoint) LocalAddress() (netstack.FullAddress, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return netstack.FullAddress{Addr: e.local, Port: uint16(e.proto)}, nil
}

// RemoteAddress implements netstack.Endpoint.RemoteAddress: as Linux's
// inet_getname, a peer connected with port 0 is ENOTCONN.
func (e *endpoint) RemoteAddress() (netstack.FullAddress, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.connected || e.remote.Port == 0 {
		return netstack.FullAddress{}, unix.ENOTCONN
	}
	return e.remote, nil
}

// Readiness implements netstack.Endpoint.Readiness.
func (e *endpoint) Readiness(mask uint32) uint32 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var m uint32 = unix.EPOLLOUT | unix.EPOLLWRNORM | unix.EPOLLWRBAND
	if len(e.recvq) > 0 {
		m |= unix.EPOLLIN | unix.EPOLLRDNORM
	}
	if e.shutRd {
		m |= unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLRDHUP
	}
	if e.shutRd && e.shutWr {
		m |= unix.EPOLLHUP
	}
	return m & mask
}

// QueueSizes implements netstack.QueueSizer.
func (e *endpoint) QueueSizes() (int, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.recvq) == 0 {
		return 0, 0
	}
	return len(e.recvq[0].data), 0
}
