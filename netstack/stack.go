package netstack

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// DefaultTTL is the default IPv4 TTL and IPv6 hop limit (Linux's
// net.ipv4.ip_default_ttl).
const DefaultTTL = 64

// Stats are the stack's counters (Linux: /proc/net/snmp). Every dropped
// packet is counted somewhere here.
type Stats struct {
	IPInReceives, IPInHdrErrors, IPInAddrErrors, IPInUnknownProtos atomic.Uint64
	IPInDelivers, IPOutRequests, IPOutDiscards, IPOutNoRoutes      atomic.Uint64
	ReasmReqds, ReasmOKs, ReasmFails, FragOKs, FragCreates         atomic.Uint64
	ICMPInMsgs, ICMPInErrors, ICMPOutMsgs, ICMPOutRateLimited      atomic.Uint64
	LinkDrops                                                      atomic.Uint64
}

// NIC is a network interface of a Stack.
type NIC struct {
	// ID is the interface index, Name its name ("lo"). Immutable.
	ID   int32
	Name string
	// link carries the packets. Immutable.
	link LinkEndpoint
	// addrs are the assigned addresses with their prefix lengths.
	// Protected by Stack.mu.
	addrs []netip.Prefix
	// up is IFF_UP: a NIC that is down keeps its addresses and routes but
	// drops what it would send or receive (config.go).
	up atomic.Bool
	// mtu is the MTU set through netlink (0: the link's). Protected by
	// Stack.mu.
	mtu int
	// counters count the interface's traffic (/proc/net/dev).
	counters NICCounters
}

// RouteEntry is one route of the routing table: packets to Dst go out of
// NIC, to Gateway if it is valid (on-link otherwise).
type RouteEntry struct {
	Dst     netip.Prefix
	Gateway netip.Addr
	NIC     int32
	// Attrs are what netlink shows of a route added through it (config.go);
	// the zero value for routes the stack was built with.
	Attrs RouteAttrs
}

// Stack is one network namespace's TCP/IP stack. It implements Network for
// its transport protocols. Create it with NewStack, add NICs, addresses and
// routes, then register transports.
//
// Lock order: Stack.mu, then the port table's mutex, then transport locks
// only through calls made without Stack.mu held.
type Stack struct {
	// Logf logs a line (set before use; nil discards).
	Logf func(format string, args ...any)
	// Stats are the counters.
	Stats Stats
	// mib are the counters of stats.go (MIB).
	mib MIBStats

	mu         sync.RWMutex
	nics       map[int32]*NIC
	routes     []RouteEntry
	transports map[uint8]TransportProtocol

	ports portTable
	reasm *reassembler
	// dropLogged is set once a full link queue has been logged.
	dropLogged atomic.Bool
	ipID       atomic.Uint32
	icmpLim    tokenBucket
	// raw receives the raw sockets' copies (raw.go).
	raw atomic.Pointer[RawHandler]
}

var _ Network = (*Stack)(nil)

// NewStack returns an empty stack.
func NewStack() *Stack {
	s := &Stack{nics: make(map[int32]*NIC), transports: make(map[uint8]TransportProtocol)}
	s.ports.init()
	s.reasm = newReassembler(s)
	var b [4]byte
	s.Random(b[:])
	s.ipID.Store(uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]))
	s.icmpLim = tokenBucket{rate: 1000, burst: 50, tokens: 50}
	return s
}

// NewLoopbackStack returns a stack with one interface, lo (index 1), up,
// with 127.0.0.1/8 and ::1/128 and the routes to them.
func NewLoopbackStack() *Stack {
	s := NewStack()
	if err := s.AddNIC(1, "lo", NewLoopback()); err != nil {
		panic(err)
	}
	s.AddAddress(1, netip.MustParsePrefix("127.0.0.1/8"))
	s.AddAddress(1, netip.MustParsePrefix("::1/128"))
	s.AddRoute(RouteEntry{Dst: netip.MustParsePrefix("127.0.0.0/8"), NIC: 1})
	s.AddRoute(RouteEntry{Dst: netip.MustParsePrefix("::1/128"), NIC: 1})
	return s
}

func (s *Stack) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// AddNIC adds an interface over link, up, and starts receiving from it.
func (s *Stack) AddNIC(id int32, name string, link LinkEndpoint) error {
	s.mu.Lock()
	if _, ok := s.nics[id]; ok {
		s.mu.Unlock()
		return unix.EEXIST
	}
	n := &NIC{ID: id, Name: name, link: link}
	n.up.Store(true)
	s.nics[id] = n
	s.mu.Unlock()
	if lo, ok := link.(*Loopback); ok {
		lo.attach(func(et uint16, pkt []byte, verified bool) {
			n.counters.RxPackets.Add(1)
			n.counters.RxBytes.Add(uint64(len(pkt)))
			if s.deliver(n, et, pkt, verified) {
				putPacketBuf(pkt)
			}
		})
		return nil
	}
	if eth, ok := link.(*Ethernet); ok {
		eth.attach(func(et uint16, pkt []byte, verified bool) {
			n.counters.RxPackets.Add(1)
			n.counters.RxBytes.Add(uint64(len(pkt)))
			s.deliver(n, et, pkt, verified)
		})
		return nil
	}
	link.Attach(func(et uint16, pkt []byte) {
		n.counters.RxPackets.Add(1)
		n.counters.RxBytes.Add(uint64(len(pkt)))
		s.deliver(n, et, pkt, false)
	})
	return nil
}

// AddAddress assigns p (address and prefix length) to interface id.
func (s *Stack) AddAddress(id int32, p netip.Prefix) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nics[id]
	if n == nil {
		return unix.ENODEV
	}
	n.addrs = append(n.addrs, p)
	return nil
}

// AddRoute adds a route; longer prefixes win.
func (s *Stack) AddRoute(r RouteEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.routes = append(s.routes, r)
	sort.SliceStable(s.routes, func(i, j int) bool { return s.routes[i].Dst.Bits() > s.routes[j].Dst.Bits() })
}

// RegisterTransport makes the stack hand packets of p's protocol number to
// p. A protocol number is registered once.
func (s *Stack) RegisterTransport(p TransportProtocol) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.transports[p.Number()]; ok {
		panic(fmt.Sprintf("netstack: protocol %d registered twice", p.Number()))
	}
	s.transports[p.Number()] = p
}

// Transport returns the registered protocol with number n, or nil.
func (s *Stack) Transport(n uint8) TransportProtocol {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.transports[n]
}

// NICByName returns the index of the interface named name (SO_BINDTODEVICE).
func (s *Stack) NICByName(name string) (int32, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, n := range s.nics {
		if n.Name == name {
			return n.ID, true
		}
	}
	return 0, false
}

// NICName returns the name of interface id, or "".
func (s *Stack) NICName(id int32) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if n := s.nics[id]; n != nil {
		return n.Name
	}
	return ""
}

// HasNIC reports whether interface id exists.
func (s *Stack) HasNIC(id int32) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nics[id] != nil
}

// Now implements Network.Now.
func (s *Stack) Now() time.Time { return time.Now() }

// AfterFunc implements Network.AfterFunc.
func (s *Stack) AfterFunc(d time.Duration, f func()) Timer { return realTimer{time.AfterFunc(d, f)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) Stop() bool            { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) { r.t.Reset(d) }

// Random implements Network.Random with crypto/rand.
func (s *Stack) Random(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("netstack: crypto/rand failed: " + err.Error())
	}
}

// IsLocalAddress implements Network.IsLocalAddress: an assigned address,
// or a broadcast address of one (255.255.255.255 and the subnet
// broadcasts).
func (s *Stack) IsLocalAddress(a netip.Addr) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.isLocalLocked(a) || s.isBroadcastLocked(a)
}

// IsBroadcast reports whether a is an IPv4 broadcast address of the stack.
func (s *Stack) IsBroadcast(a netip.Addr) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.isBroadcastLocked(a)
}

// isLocalLocked reports whether a is assigned to an interface that is up.
func (s *Stack) isLocalLocked(a netip.Addr) bool {
	return s.nicOfAddrLocked(a) != nil
}

func (s *Stack) nicOfAddrLocked(a netip.Addr) *NIC {
	a = a.Unmap()
	for _, n := range s.nics {
		for _, p := range n.addrs {
			if p.Addr() == a {
				return n
			}
		}
	}
	return nil
}

func (s *Stack) isBroadcastLocked(a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	if a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return true
	}
	for _, n := range s.nics {
		for _, p := range n.addrs {
			if p.Addr().Is4() && p.Bits() < 31 && broadcastOf(p) == a {
				return true
			}
		}
	}
	return false
}

// broadcastOf returns the subnet broadcast address of IPv4 prefix p.
func broadcastOf(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// FindRoute implements Network.FindRoute. A local destination goes out of
// the loopback interface (Linux's local table); otherwise the longest
// matching route (on bindToDevice, if set) is used. An unspecified local
// address is replaced by an address of the outgoing interface.
func (s *Stack) FindRoute(local, remote netip.Addr, bindToDevice int32) (Route, error) {
	local, remote = local.Unmap(), remote.Unmap()
	if !remote.IsValid() || (local.IsValid() && !local.IsUnspecified() && local.Is4() != remote.Is4()) {
		return Route{}, unix.EINVAL
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if local.IsValid() && !local.IsUnspecified() && !s.isLocalLocked(local) && !s.isBroadcastLocked(local) {
		return Route{}, unix.EADDRNOTAVAIL
	}
	var nic *NIC
	var gateway netip.Addr
	if s.isLocalLocked(remote) {
		for _, n := range s.nics {
			if n.link.IsLoopback() && (bindToDevice == 0 || bindToDevice == n.ID) {
				nic = n
				break
			}
		}
		if nic == nil && bindToDevice != 0 {
			// Bound elsewhere: Linux still loops a local destination
			// back when the device owns it.
			if n := s.nicOfAddrLocked(remote); n != nil && n.ID == bindToDevice {
				nic = n
			}
		}
	} else {
		for _, r := range s.routes {
			if r.Dst.Contains(remote) && (bindToDevice == 0 || bindToDevice == r.NIC) {
				if n := s.nics[r.NIC]; n != nil && n.up.Load() {
					nic, gateway = n, r.Gateway
					break
				}
			}
		}
	}
	if nic == nil {
		s.Stats.IPOutNoRoutes.Add(1)
		if st := s.v6Stats(!remote.Unmap().Is4()); st != nil {
			st.IPOutNoRoutes.Add(1)
		}
		return Route{}, unix.ENETUNREACH
	}
	if !local.IsValid() || local.IsUnspecified() {
		local = s.sourceForLocked(nic, remote)
		if !local.IsValid() {
			return Route{}, unix.EADDRNOTAVAIL
		}
	}
	return Route{Local: local, Remote: remote, NICID: nic.ID, MTU: nic.mtuLocked(), Gateway: gateway}, nil
}

// sourceForLocked picks the source address for remote on nic: remote itself
// if it is assigned there, else an address whose prefix holds remote, else
// the first address of the family (on any interface, as Linux may).
func (s *Stack) sourceForLocked(nic *NIC, remote netip.Addr) netip.Addr {
	var first netip.Addr
	for _, p := range nic.addrs {
		if p.Addr().Is4() != remote.Is4() {
			continue
		}
		if p.Addr() == remote || p.Contains(remote) {
			return p.Addr()
		}
		if !first.IsValid() {
			first = p.Addr()
		}
	}
	if first.IsValid() {
		return first
	}
	if n := s.nicOfAddrLocked(remote); n != nil {
		return remote
	}
	for _, n := range s.nics {
		for _, p := range n.addrs {
			if p.Addr().Is4() == remote.Is4() {
				return p.Addr()
			}
		}
	}
	return netip.Addr{}
}

// Send implements Network.Send.
func (s *Stack) Send(r Route, proto uint8, payload []byte, opts SendOptions) error {
	s.mu.RLock()
	nic := s.nics[r.NICID]
	var mtu int
	if nic != nil {
		mtu = nic.mtuLocked()
	}
	s.mu.RUnlock()
	if nic == nil {
		return unix.ENETUNREACH
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = DefaultTTL
	}
	s.Stats.IPOutRequests.Add(1)
	s.countSend(r.Remote, proto, payload)
	hl := header.IPv4MinSize
	if !r.Local.Is4() {
		hl = header.IPv6Size
	}
	partial := false
	if off := opts.ChecksumOffset; off > 0 {
		if off+2 > len(payload) {
			return unix.EINVAL
		}
		_, lo := nic.link.(*Loopback)
		if partial = lo && hl+len(payload) <= mtu; !partial {
			payload[off], payload[off+1] = 0, 0
			sum := header.PseudoHeaderChecksum(proto, r.Local.Unmap(), r.Remote.Unmap(), uint32(len(payload)))
			binary.BigEndian.PutUint16(payload[off:], ^header.Checksum(payload, sum))
		}
	}
	nextHop := r.Remote
	if r.Gateway.IsValid() {
		nextHop = r.Gateway
	}
	if r.Local.Is4() {
		if header.IPv4MinSize+len(payload) > header.IPv4MaxTotalLen {
			return unix.EMSGSIZE
		}
		h := header.IPv4{TOS: opts.TOS, ID: uint16(s.ipID.Add(1)), TTL: ttl, Protocol: proto, Src: r.Local, Dst: r.Remote}
		if opts.DontFragment {
			h.Flags = header.IPv4FlagDF
		}
		if header.IPv4MinSize+len(payload) <= mtu {
			pkt := packetBuf(nic, header.IPv4MinSize+len(payload))
			header.EncodeIPv4(pkt, &h, len(payload))
			copy(pkt[header.IPv4MinSize:], payload)
			return s.write(nic, nextHop, EtherTypeIPv4, pkt, partial)
		}
		if opts.DontFragment {
			return unix.EMSGSIZE
		}
		chunk := (mtu - header.IPv4MinSize) &^ 7
		if chunk <= 0 {
			return unix.EMSGSIZE
		}
		s.Stats.FragOKs.Add(1)
		for off := 0; off < len(payload); off += chunk {
			end := min(off+chunk, len(payload))
			fh := h
			fh.FragOffset = off
			if end < len(payload) {
				fh.Flags |= header.IPv4FlagMF
			}
			pkt := make([]byte, header.IPv4MinSize+end-off)
			header.EncodeIPv4(pkt, &fh, end-off)
			copy(pkt[header.IPv4MinSize:], payload[off:end])
			s.Stats.FragCreates.Add(1)
			if err := s.write(nic, nextHop, EtherTypeIPv4, pkt, false); err != nil {
				return err
			}
		}
		return nil
	}
	if len(payload) > 0xffff {
		return unix.EMSGSIZE
	}
	h := header.IPv6{TrafficClass: opts.TOS, NextHeader: proto, HopLimit: ttl, Src: r.Local, Dst: r.Remote}
	if header.IPv6Size+len(payload) <= mtu {
		h.PayloadLen = len(payload)
		pkt := packetBuf(nic, header.IPv6Size+len(payload))
		header.EncodeIPv6(pkt, &h)
		copy(pkt[header.IPv6Size:], payload)
		return s.write(nic, nextHop, EtherTypeIPv6, pkt, partial)
	}
	// The fragment headers are not part of the payload's 65535 bytes
	// (RFC 8200, 4.5: the reassembled packet has none), as Linux counts.
	chunk := (mtu - header.IPv6Size - header.IPv6FragmentSize) &^ 7
	if chunk <= 0 {
		return unix.EMSGSIZE
	}
	id := s.ipID.Add(1)
	h.NextHeader = header.IPv6Fragment
	s.Stats.FragOKs.Add(1)
	s.mib.V6.FragOKs.Add(1)
	for off := 0; off < len(payload); off += chunk {
		end := min(off+chunk, len(payload))
		h.PayloadLen = header.IPv6FragmentSize + end - off
		pkt := make([]byte, header.IPv6Size+h.PayloadLen)
		header.EncodeIPv6(pkt, &h)
		header.EncodeIPv6Fragment(pkt[header.IPv6Size:], &header.IPv6FragmentHeader{NextHeader: proto, Offset: off, More: end < len(payload), ID: id})
		copy(pkt[header.IPv6Size+header.IPv6FragmentSize:], payload[off:end])
		s.Stats.FragCreates.Add(1)
		s.mib.V6.FragCreates.Add(1)
		if err := s.write(nic, nextHop, EtherTypeIPv6, pkt, false); err != nil {
			return err
		}
	}
	return nil
}

// pktPool recycles loopback packets: every packet on lo was built by Send,
// and once a PayloadCopier has handled it nothing refers to it any more.
// Without it a bulk transfer over lo allocates (and the GC frees, and the
// kernel faults in again) 64 KiB per segment.
var pktPool = sync.Pool{New: func() any { return new([LoopbackMTU]byte) }}

// packetBuf returns a buffer of n bytes for a packet to nic, with unspecified
// contents. Only large packets get a pooled buffer: the loopback queue
// bounds the bytes of the packets it holds, and a small packet in a 64 KiB
// buffer would hold up to 64 KiB each (4096 queued ACKs: 256 MiB).
func packetBuf(nic *NIC, n int) []byte {
	if _, lo := nic.link.(*Loopback); lo && n <= LoopbackMTU && n >= LoopbackMTU/2 {
		return pktPool.Get().(*[LoopbackMTU]byte)[:n]
	}
	return make([]byte, n)
}

// putPacketBuf gives a delivered loopback packet back to pktPool.
func putPacketBuf(pkt []byte) {
	if cap(pkt) == LoopbackMTU {
		pktPool.Put((*[LoopbackMTU]byte)(pkt[:LoopbackMTU]))
	}
}

// write hands pkt to nic's link. A full link queue drops the packet, as a
// full device queue does on Linux: the sender is not told.
// partial says the transport checksum was left out (only on loopback).
func (s *Stack) write(nic *NIC, nextHop netip.Addr, et uint16, pkt []byte, partial bool) error {
	n := len(pkt) // the link may keep pkt
	if !nic.up.Load() {
		// A device that is down drops what is sent to it; the
		// sender is not told (Linux: dev_queue_xmit).
		nic.counters.TxDrops.Add(1)
		s.Stats.IPOutDiscards.Add(1)
		return nil
	}
	var err error
	if lo, ok := nic.link.(*Loopback); ok {
		err = lo.writePacket(et, pkt, partial)
	} else {
		err = nic.link.WritePacket(nextHop, et, pkt)
	}
	if err == nil {
		s.countOut(et, n)
	}
	if err != nil {
		nic.counters.TxDrops.Add(1)
		s.Stats.LinkDrops.Add(1)
		s.Stats.IPOutDiscards.Add(1)
		if st := s.v6Stats(et == EtherTypeIPv6); st != nil {
			st.IPOutDiscards.Add(1)
		}
		if err == unix.ENOBUFS {
			if !s.dropLogged.Swap(true) {
				s.logf("interface %s: queue full, dropping packets (further drops are only counted)", nic.Name)
			}
			return nil
		}
		return err
	}
	nic.counters.TxPackets.Add(1)
	nic.counters.TxBytes.Add(uint64(n))
	return nil
}

// tokenBucket limits ICMP errors (Linux: net.ipv4.icmp_msgs_per_sec and
// icmp_msgs_burst).
type tokenBucket struct {
	mu          sync.Mutex
	rate, burst float64
	tokens      float64
	last        time.Time
}

func (b *tokenBucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
