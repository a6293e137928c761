// Package netlink implements AF_NETLINK sockets of protocols
// NETLINK_ROUTE (netlink(7), rtnetlink(7)) and NETLINK_SOCK_DIAG
// (sock_diag(7)) over the sandbox's network stack and its inet sockets:
// dumps of links, addresses, routes and sockets, and changes to the stack
// (change.go), answered synchronously when the guest sends its request,
// with notifications to the members of multicast groups. Every message
// from the guest is parsed with its lengths checked; replies are bounded
// by the socket's receive buffer.
//
// Lock order:
//
//	Socket.mu
//	  Namespace.mu
package netlink

import (
	"encoding/binary"
	"net/netip"
	"slices"

	"github.com/palisade-sandbox/palisade/netstack"
	"golang.org/x/sys/unix"
)

// Source is what the route protocol reads: the stack's interfaces and
// routes (netstack.Stack implements it).
type Source interface {
	Interfaces() []netstack.InterfaceInfo
	Routes() []netstack.RouteEntry
}

const (
	hdrLen = unix.NLMSG_HDRLEN // 16
	// maxBatch bounds one datagram of a dump; a dump larger than that is
	// split into several datagrams, as Linux's skbs split it.
	maxBatch = 16 << 10

	ifinfoLen = unix.SizeofIfInfomsg // 16
	ifaddrLen = unix.SizeofIfAddrmsg // 8
	rtmsgLen  = unix.SizeofRtMsg     // 12

	arphrdEther    = 1
	arphrdLoopback = 772
	ifOperUnknown  = 0
	ifOperDown     = 2
	ifOperUp       = 6
	routeMetric6   = 256
	statsFields    = 24
	ifaForever     = 0xffffffff
)

// Header is a netlink message header (struct nlmsghdr).
type Header struct {
	Len    uint32
	Type   uint16
	Flags  uint16
	Seq    uint32
	PortID uint32
}

func putHeader(b []byte, h Header) {
	binary.LittleEndian.PutUint32(b[0:], h.Len)
	binary.LittleEndian.PutUint16(b[4:], h.Type)
	binary.LittleEndian.PutUint16(b[6:], h.Flags)
	binary.LittleEndian.PutUint32(b[8:], h.Seq)
	binary.LittleEndian.PutUint32(b[12:], h.PortID)
}

func parseHeader(b []byte) Header {
	return Header{
		Len: binary.LittleEndian.Uint32(b[0:]), Type: binary.LittleEndian.Uint16(b[4:]),
		Flags: binary.LittleEndian.Uint16(b[6:]), Seq: binary.LittleEndian.Uint32(b[8:]),
		PortID: binary.LittleEndian.Uint32(b[12:]),
	}
}

func align4(n int) int { return (n + 3) &^ 3 }

// msg builds one netlink message: a header, a fixed body, attributes.
type msg struct{ b []byte }

func newMsg(typ, flags uint16, seq, portID uint32, body []byte) *msg {
	m := &msg{b: make([]byte, hdrLen, 256)}
	putHeader(m.b, Header{Type: typ, Flags: flags, Seq: seq, PortID: portID})
	m.b = append(m.b, body...)
	m.b = m.b[:align4(len(m.b))]
	return m
}

func (m *msg) attr(typ uint16, data []byte) {
	var h [4]byte
	binary.LittleEndian.PutUint16(h[0:], uint16(4+len(data)))
	binary.LittleEndian.PutUint16(h[2:], typ)
	m.b = append(m.b, h[:]...)
	m.b = append(m.b, data...)
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
}

func (m *msg) u32(typ uint16, v uint32) { m.attr(typ, binary.LittleEndian.AppendUint32(nil, v)) }
func (m *msg) u8(typ uint16, v uint8)   { m.attr(typ, []byte{v}) }
func (m *msg) str(typ uint16, s string) { m.attr(typ, append([]byte(s), 0)) }

func (m *msg) bytes() []byte {
	binary.LittleEndian.PutUint32(m.b[0:], uint32(len(m.b)))
	return m.b
}

// Options are the socket's settings that change replies.
type Options struct {
	// PortID is the socket's port: the nlmsg_pid of replies.
	PortID uint32
	// StrictCheck is NETLINK_GET_STRICT_CHK: dump requests' headers
	// filter.
	StrictCheck bool
	// CapAck is NETLINK_CAP_ACK: error replies carry only the request's
	// header.
	CapAck bool
	// Protocol is the socket's: NETLINK_ROUTE or NETLINK_SOCK_DIAG.
	Protocol int
	// Admin says the sender has CAP_NET_ADMIN (needed to change the
	// stack).
	Admin bool
	// Notify sends msg to the members of multicast group (and, when
	// echo, NLM_F_ECHO, to the sender itself); nil: nobody listens.
	Notify func(group int, msg []byte, echo bool)
}

// Process handles the messages of one datagram the guest sent and calls
// emit with each datagram of reply; emit returns false when the receive
// queue is full, which ends processing. Malformed trailing bytes are
// ignored, as Linux's netlink_rcv_skb ignores them.
func Process(src Source, req []byte, o Options, emit func([]byte) bool) {
	for len(req) >= hdrLen {
		h := parseHeader(req)
		if h.Len < hdrLen || int(h.Len) > len(req) {
			return
		}
		m := req[:h.Len]
		var err unix.Errno
		if h.Flags&unix.NLM_F_REQUEST != 0 && h.Type >= unix.NLMSG_MIN_TYPE {
			var ok bool
			if o.Protocol == unix.NETLINK_SOCK_DIAG {
				err, ok = handleDiag(h, m[hdrLen:], o, emit)
			} else {
				err, ok = handle(src, h, m[hdrLen:], o, emit)
			}
			if !ok {
				return
			}
		}
		if err != 0 || h.Flags&unix.NLM_F_ACK != 0 {
			if !emit(errorMsg(h, m, err, o)) {
				return
			}
		}
		n := align4(int(h.Len))
		if n > len(req) {
			n = len(req)
		}
		req = req[n:]
	}
}

// errorMsg returns the NLMSG_ERROR reply (err 0: an acknowledgement) to
// the request m.
func errorMsg(h Header, m []byte, err unix.Errno, o Options) []byte {
	body := make([]byte, 4, 4+len(m))
	binary.LittleEndian.PutUint32(body, uint32(-int32(err)))
	var flags uint16
	if err == 0 || o.CapAck {
		body = append(body, m[:hdrLen]...)
		flags = unix.NLM_F_CAPPED
	} else {
		body = append(body, m...)
	}
	return newMsg(unix.NLMSG_ERROR, flags, h.Seq, o.PortID, body).bytes()
}

// handle serves one request. ok is false when emit refused a reply.
func handle(src Source, h Header, body []byte, o Options, emit func([]byte) bool) (err unix.Errno, ok bool) {
	dump := h.Flags&unix.NLM_F_DUMP == unix.NLM_F_DUMP
	if isChange(h.Type) {
		return handleChange(src, h, body, o), true
	}
	switch h.Type {
	case unix.RTM_GETLINK:
		if dump {
			return 0, dumpMsgs(h, o, emit, linkMsgs(src, h, body, o))
		}
		m, err := getLink(src, h, body, o)
		if err != 0 {
			return err, true
		}
		return 0, emit(m)
	case unix.RTM_GETADDR:
		if dump {
			return 0, dumpMsgs(h, o, emit, addrMsgs(src, h, body, o))
		}
		return unix.EOPNOTSUPP, true
	case unix.RTM_GETROUTE:
		if dump {
			return 0, dumpMsgs(h, o, emit, routeMsgs(src, h, body, o))
		}
		return unix.EOPNOTSUPP, true
	}
	return unix.EOPNOTSUPP, true
}

// dumpMsgs emits msgs in datagrams of at most maxBatch bytes (a message
// larger than that alone), then NLMSG_DONE.
func dumpMsgs(h Header, o Options, emit func([]byte) bool, msgs [][]byte) bool {
	return dumpMsgsErr(h, o, emit, msgs, 0)
}

// dumpMsgsErr is dumpMsgs with NLMSG_DONE carrying -err (a dump that
// failed once started).
func dumpMsgsErr(h Header, o Options, emit func([]byte) bool, msgs [][]byte, err unix.Errno) bool {
	var batch []byte
	for _, m := range msgs {
		if len(batch) > 0 && len(batch)+len(m) > maxBatch {
			if !emit(batch) {
				return false
			}
			batch = nil
		}
		batch = append(batch, m...)
	}
	code := make([]byte, 4)
	binary.LittleEndian.PutUint32(code, uint32(-int32(err)))
	done := newMsg(unix.NLMSG_DONE, unix.NLM_F_MULTI, h.Seq, o.PortID, code).bytes()
	if len(batch)+len(done) > maxBatch {
		if !emit(batch) {
			return false
		}
		batch = nil
	}
	return emit(append(batch, done...))
}

// ifFlags returns an interface's ifi_flags.
func ifFlags(i *netstack.InterfaceInfo) uint32 {
	var f uint32
	if i.Up {
		f |= unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP
	}
	if i.Loopback {
		f |= unix.IFF_LOOPBACK
	} else {
		f |= unix.IFF_BROADCAST | unix.IFF_MULTICAST
	}
	return f
}

// linkMsg returns the RTM_NEWLINK message describing i.
func linkMsg(i *netstack.InterfaceInfo, flags uint16, seq, port uint32) []byte {
	return linkMsgFamily(i, unix.AF_UNSPEC, flags, seq, port)
}

// linkMsgFamily returns the RTM_NEWLINK message of i; for AF_INET6 the
// short form Linux's IPv6 layer dumps (name, queue length, state, MTU).
func linkMsgFamily(i *netstack.InterfaceInfo, fam uint8, flags uint16, seq, port uint32) []byte {
	body := make([]byte, ifinfoLen)
	body[0] = fam
	typ := uint16(arphrdEther)
	if i.Loopback {
		typ = arphrdLoopback
	}
	binary.LittleEndian.PutUint16(body[2:], typ)
	binary.LittleEndian.PutUint32(body[4:], uint32(i.ID))
	binary.LittleEndian.PutUint32(body[8:], ifFlags(i))
	m := newMsg(unix.RTM_NEWLINK, flags, seq, port, body)
	m.str(unix.IFLA_IFNAME, i.Name)
	m.u32(unix.IFLA_TXQLEN, 1000)
	oper := uint8(ifOperDown)
	switch {
	case i.Up && i.Loopback:
		oper = ifOperUnknown // as Linux reports lo
	case i.Up:
		oper = ifOperUp
	}
	m.u8(unix.IFLA_OPERSTATE, oper)
	if fam == unix.AF_INET6 {
		m.u32(unix.IFLA_MTU, uint32(i.MTU))
		return m.bytes()
	}
	m.u8(unix.IFLA_LINKMODE, 0)
	m.u32(unix.IFLA_MTU, uint32(i.MTU))
	m.u32(unix.IFLA_GROUP, 0)
	if i.Loopback {
		m.str(unix.IFLA_QDISC, "noqueue")
	}
	hw := make([]byte, 6)
	if len(i.LinkAddr) == len(hw) {
		copy(hw, i.LinkAddr)
	}
	m.attr(unix.IFLA_ADDRESS, hw)
	brd := make([]byte, 6)
	if !i.Loopback {
		for k := range brd {
			brd[k] = 0xff
		}
	}
	m.attr(unix.IFLA_BROADCAST, brd)
	// struct rtnl_link_stats and rtnl_link_stats64: rx_packets,
	// tx_packets, rx_bytes, tx_bytes, rx_errors, tx_errors, rx_dropped,
	// tx_dropped, then counters the stack does not keep.
	vals := []uint64{i.RxPackets, i.TxPackets, i.RxBytes, i.TxBytes, 0, 0, 0, i.TxDrops}
	s32 := make([]byte, 4*statsFields)
	s64 := make([]byte, 8*statsFields)
	for k, v := range vals {
		binary.LittleEndian.PutUint32(s32[4*k:], uint32(v))
		binary.LittleEndian.PutUint64(s64[8*k:], v)
	}
	m.attr(unix.IFLA_STATS, s32)
	m.attr(unix.IFLA_STATS64, s64)
	return m.bytes()
}

// attrs parses the attributes in b, bounded and length-checked: a
// malformed attribute ends the list (the caller treats what it found).
func attrs(b []byte) (map[uint16][]byte, bool) {
	out := map[uint16][]byte{}
	for len(b) >= 4 {
		n := int(binary.LittleEndian.Uint16(b[0:]))
		typ := binary.LittleEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER)
		if n < 4 || n > len(b) {
			return out, false
		}
		out[typ] = b[4:n]
		n = align4(n)
		if n > len(b) {
			n = len(b)
		}
		b = b[n:]
	}
	return out, true
}

// cstring returns a NUL-terminated attribute's string.
func cstring(b []byte) string {
	for k, c := range b {
		if c == 0 {
			return string(b[:k])
		}
	}
	return string(b)
}

// getLink answers RTM_GETLINK without NLM_F_DUMP: the interface of
// ifi_index, or of IFLA_IFNAME; ENODEV if there is none, EINVAL for a
// short request.
func getLink(src Source, h Header, body []byte, o Options) ([]byte, unix.Errno) {
	if len(body) < ifinfoLen {
		return nil, unix.EINVAL
	}
	idx := int32(binary.LittleEndian.Uint32(body[4:]))
	as, ok := attrs(body[ifinfoLen:])
	if !ok {
		return nil, unix.EINVAL
	}
	name, byName := as[unix.IFLA_IFNAME]
	if idx == 0 && !byName {
		return nil, unix.EINVAL
	}
	ifs := src.Interfaces()
	for k := range ifs {
		if (idx != 0 && ifs[k].ID == idx) || (idx == 0 && ifs[k].Name == cstring(name)) {
			return linkMsg(&ifs[k], 0, h.Seq, o.PortID), 0
		}
	}
	return nil, unix.ENODEV
}

// linkMsgs returns the RTM_NEWLINK messages of a dump.
func linkMsgs(src Source, h Header, body []byte, o Options) [][]byte {
	ifs := src.Interfaces()
	var out [][]byte
	for k := range ifs {
		fam := uint8(unix.AF_UNSPEC)
		if family(body) == unix.AF_INET6 {
			fam = unix.AF_INET6
		}
		out = append(out, linkMsgFamily(&ifs[k], fam, unix.NLM_F_MULTI, h.Seq, o.PortID))
	}
	return out
}

// family returns the address family a dump request asks for (its first
// body byte: rtgenmsg, ifaddrmsg and rtmsg all start with it).
func family(body []byte) uint8 {
	if len(body) == 0 {
		return unix.AF_UNSPEC
	}
	return body[0]
}

func familyOf(a netip.Addr) uint8 {
	if a.Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

// scopeOf returns the scope Linux gives an address added without one:
// host for loopback addresses (also on lo: 10.9.9.9 there is global).
func scopeOf(i *netstack.InterfaceInfo, a netip.Addr) uint8 {
	switch {
	case a.IsLoopback():
		return unix.RT_SCOPE_HOST
	case a.IsLinkLocalUnicast():
		return unix.RT_SCOPE_LINK
	}
	return unix.RT_SCOPE_UNIVERSE
}

// broadcast4 returns p's broadcast address, if Linux would assign one.
func broadcast4(i *netstack.InterfaceInfo, p netip.Prefix) (netip.Addr, bool) {
	if i.Loopback || p.Bits() >= 31 {
		return netip.Addr{}, false
	}
	a := p.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a), true
}

// addrMsgs returns the RTM_NEWADDR messages of a dump, filtered by the
// request's family and, with strict checking, its ifa_index.
func addrMsgs(src Source, h Header, body []byte, o Options) [][]byte {
	fam := family(body)
	var wantIdx int32
	if o.StrictCheck && len(body) >= ifaddrLen {
		wantIdx = int32(binary.LittleEndian.Uint32(body[4:]))
	}
	ifs := src.Interfaces()
	var out [][]byte
	for _, want := range []uint8{unix.AF_INET, unix.AF_INET6} {
		if fam != unix.AF_UNSPEC && fam != want {
			continue
		}
		for k := range ifs {
			in := &ifs[k]
			if wantIdx != 0 && in.ID != wantIdx {
				continue
			}
			for _, p := range in.Addrs {
				if familyOf(p.Addr()) != want {
					continue
				}
				out = append(out, addrMsg(in, p, unix.NLM_F_MULTI, h.Seq, o.PortID))
			}
		}
	}
	return out
}

// addrMsg returns the RTM_NEWADDR message of address p on in.
func addrMsg(in *netstack.InterfaceInfo, p netip.Prefix, flags uint16, seq, port uint32) []byte {
	a := p.Addr()
	body := make([]byte, ifaddrLen)
	body[0] = familyOf(a)
	body[1] = uint8(p.Bits())
	body[2] = unix.IFA_F_PERMANENT
	body[3] = scopeOf(in, a)
	binary.LittleEndian.PutUint32(body[4:], uint32(in.ID))
	m := newMsg(unix.RTM_NEWADDR, flags, seq, port, body)
	m.attr(unix.IFA_ADDRESS, a.AsSlice())
	if a.Is4() {
		m.attr(unix.IFA_LOCAL, a.AsSlice())
		if b, ok := broadcast4(in, p); ok {
			m.attr(unix.IFA_BROADCAST, b.AsSlice())
		}
		m.str(unix.IFA_LABEL, in.Name)
	}
	m.u32(unix.IFA_FLAGS, unix.IFA_F_PERMANENT)
	ci := make([]byte, 16) // struct ifa_cacheinfo: forever, forever, 0, 0
	binary.LittleEndian.PutUint32(ci[0:], ifaForever)
	binary.LittleEndian.PutUint32(ci[4:], ifaForever)
	m.attr(unix.IFA_CACHEINFO, ci)
	return m.bytes()
}

// route is one entry of the route dump.
type route struct {
	dst      netip.Prefix
	gw       netip.Addr
	oif      int32
	table    uint8
	typ      uint8
	scope    uint8
	proto    uint8
	prefsrc  netip.Addr
	priority uint32
	// entry is the stack's route this one shows (nil: one derived from
	// an address).
	entry *netstack.RouteEntry
}

// routeEntries returns the routes as Linux shows them: what goes out of
// loopback in the local table (with an entry per local address and the
// loopback broadcast address), the rest in the main table.
func routeEntries(src Source) []route {
	ifs := src.Interfaces()
	byID := map[int32]*netstack.InterfaceInfo{}
	for k := range ifs {
		byID[ifs[k].ID] = &ifs[k]
	}
	first := func(in *netstack.InterfaceInfo, v4 bool) netip.Addr {
		if in == nil {
			return netip.Addr{}
		}
		for _, p := range in.Addrs {
			if p.Addr().Is4() == v4 {
				return p.Addr()
			}
		}
		return netip.Addr{}
	}
	var out []route
	seen := map[netip.Prefix]bool{}
	for _, r := range src.Routes() {
		in := byID[r.NIC]
		e := route{dst: r.Dst, gw: r.Gateway, oif: r.NIC, table: unix.RT_TABLE_MAIN,
			typ: unix.RTN_UNICAST, scope: unix.RT_SCOPE_UNIVERSE, proto: unix.RTPROT_BOOT, entry: &r}
		if a := r.Attrs; a.Table != 0 {
			// Added through netlink: shown as it was given.
			e.table, e.proto, e.scope, e.priority, e.prefsrc = a.Table, a.Protocol, a.Scope, a.Priority, a.PrefSrc
			out = append(out, e)
			continue
		}
		if in != nil && in.Loopback {
			e.table, e.typ, e.scope, e.proto = unix.RT_TABLE_LOCAL, unix.RTN_LOCAL, unix.RT_SCOPE_HOST, unix.RTPROT_KERNEL
			if !r.Dst.Addr().Is4() {
				e.scope = unix.RT_SCOPE_UNIVERSE // IPv6 routes have no scope
			}
			seen[r.Dst] = true
		} else if !r.Gateway.IsValid() {
			e.proto = unix.RTPROT_KERNEL
			if r.Dst.Addr().Is4() {
				e.scope = unix.RT_SCOPE_LINK
			}
		}
		if r.Dst.Addr().Is4() {
			e.prefsrc = first(in, true)
			if r.Attrs.PrefSrc.IsValid() {
				e.prefsrc = r.Attrs.PrefSrc
			}
		} else if e.table == unix.RT_TABLE_MAIN {
			e.priority = routeMetric6
		}
		out = append(out, e)
	}
	for k := range ifs {
		in := &ifs[k]
		for _, p := range in.Addrs {
			a := p.Addr()
			host := netip.PrefixFrom(a, a.BitLen())
			if !seen[host] {
				seen[host] = true
				e := route{dst: host, oif: in.ID, table: unix.RT_TABLE_LOCAL, typ: unix.RTN_LOCAL,
					scope: unix.RT_SCOPE_HOST, proto: unix.RTPROT_KERNEL}
				if a.Is4() {
					e.prefsrc = a
				} else {
					e.scope = unix.RT_SCOPE_UNIVERSE
				}
				out = append(out, e)
			}
			if !a.Is4() || p.Bits() >= 31 {
				continue
			}
			b := p.Masked().Addr().As4()
			v := binary.BigEndian.Uint32(b[:]) | (1<<(32-p.Bits()) - 1)
			binary.BigEndian.PutUint32(b[:], v)
			bp := netip.PrefixFrom(netip.AddrFrom4(b), 32)
			if !seen[bp] {
				seen[bp] = true
				out = append(out, route{dst: bp, oif: in.ID, table: unix.RT_TABLE_LOCAL, typ: unix.RTN_BROADCAST,
					scope: unix.RT_SCOPE_LINK, proto: unix.RTPROT_KERNEL, prefsrc: a})
			}
		}
	}
	// IPv4 before IPv6, as Linux dumps the families in order.
	slices.SortStableFunc(out, func(a, b route) int { return int(familyOf(a.dst.Addr())) - int(familyOf(b.dst.Addr())) })
	return out
}

// routeMsgs returns the RTM_NEWROUTE messages of a dump, filtered by the
// request's family and, with strict checking, its rtm_table.
func routeMsgs(src Source, h Header, body []byte, o Options) [][]byte {
	fam := family(body)
	var table uint8
	if o.StrictCheck && len(body) >= rtmsgLen {
		table = body[4]
	}
	var out [][]byte
	for _, e := range routeEntries(src) {
		f := familyOf(e.dst.Addr())
		if (fam != unix.AF_UNSPEC && fam != f) || (table != 0 && table != e.table) {
			continue
		}
		out = append(out, routeMsg(&e, unix.NLM_F_MULTI, h.Seq, o.PortID))
	}
	return out
}

// routeMsg returns the RTM_NEWROUTE message of e.
func routeMsg(e *route, flags uint16, seq, port uint32) []byte {
	f := familyOf(e.dst.Addr())
	body := make([]byte, rtmsgLen)
	body[0] = f
	body[1] = uint8(e.dst.Bits())
	body[4] = e.table
	body[5] = e.proto
	body[6] = e.scope
	body[7] = e.typ
	m := newMsg(unix.RTM_NEWROUTE, flags, seq, port, body)
	m.u32(unix.RTA_TABLE, uint32(e.table))
	if e.dst.Bits() > 0 {
		m.attr(unix.RTA_DST, e.dst.Addr().AsSlice())
	}
	if f == unix.AF_INET6 || e.priority != 0 {
		m.u32(unix.RTA_PRIORITY, e.priority)
	}
	if e.prefsrc.IsValid() {
		m.attr(unix.RTA_PREFSRC, e.prefsrc.AsSlice())
	}
	if e.gw.IsValid() {
		m.attr(unix.RTA_GATEWAY, e.gw.AsSlice())
	}
	m.u32(unix.RTA_OIF, uint32(e.oif))
	if f == unix.AF_INET6 {
		m.u8(unix.RTA_PREF, 0)
	}
	return m.bytes()
}
