package tcp

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// Connection states, numbered as Linux numbers them (TCP_INFO, /proc/net/tcp).
const (
	stateEstablished = 1
	stateSynSent     = 2
	stateSynRcvd     = 3
	stateFinWait1    = 4
	stateFinWait2    = 5
	stateTimeWait    = 6
	stateClosed      = 7
	stateCloseWait   = 8
	stateLastAck     = 9
	stateListen      = 10
	stateClosing     = 11
)

// Linux's defaults and limits.
const (
	defaultRcvBuf = 1 << 20
	defaultSndBuf = 1 << 20
	// maxBufSysctl is net.core.rmem_max and wmem_max.
	maxBufSysctl = 212992
	minRcvBuf    = 2304
	minSndBuf    = 4608
	// ourWS is the window scale shift we offer.
	ourWS = 7

	initialRTO       = time.Second
	minRTO           = 200 * time.Millisecond
	maxRTO           = 120 * time.Second
	delAckTime       = 40 * time.Millisecond
	timeWaitTime     = 60 * time.Second // 2*MSL as Linux has it
	finTimeout       = 60 * time.Second // tcp_fin_timeout for orphans
	maxRetries       = 15               // tcp_retries2
	synRetries       = 6                // tcp_syn_retries
	synAckRetries    = 5                // tcp_synack_retries
	defaultKeepIdle  = 2 * time.Hour
	defaultKeepIntvl = 75 * time.Second
	defaultKeepCnt   = 9
	somaxconn        = 4096
	defaultMSS       = 536
	minMSS           = 88
)

// etimer is one of an endpoint's timers. It is armed by setting a deadline;
// the underlying netstack.Timer is only reset when the deadline moves
// earlier, and a callback finding its deadline in the future re-arms itself,
// so stale or racing callbacks are harmless.
type etimer struct {
	t        netstack.Timer
	deadline time.Time // zero: disarmed
	fireAt   time.Time
}

// endpoint is a TCP endpoint. All fields are protected by mu.
type endpoint struct {
	proto *Protocol
	v6    bool

	mu     sync.Mutex
	notify func(uint32)
	// events are readiness events to report at unlock.
	events uint32

	state uint8
	// connecting is Linux's SS_CONNECTING: connect started and not yet
	// reported; connected is SS_CONNECTED.
	connecting, connected bool
	// userClosed: Close was called; the endpoint lives on (orphaned) until
	// the connection is finished.
	userClosed bool

	// Addresses. bindAddr is the bound address (zero: any); local and
	// remote are the connection's.
	bound    bool
	ownsPort bool
	bindAddr netip.Addr
	bindPort uint16
	// resvAddr is the address of the port reservation (resvAddrFor).
	resvAddr   netip.Addr
	portFlags  netstack.PortFlags
	local      netip.Addr
	remote     netip.Addr
	rport      uint16
	route      netstack.Route
	tuple      tuple
	registered bool

	// Options.
	v6only, reuseAddr, reusePort bool
	nodelay, cork, more          bool
	keepalive, oobInline         bool
	quickack                     bool
	lingerOn                     bool
	lingerSec                    int32
	keepIdle, keepIntvl          time.Duration
	keepCnt                      int
	userTimeout                  time.Duration
	synCnt                       int
	userMSS                      int
	rcvBufSize, sndBufSize       int
	rcvLowat                     int
	priority                     int
	// linger2 is TCP_LINGER2 (0: finTimeout; negative: none).
	linger2 time.Duration
	// notsentLowat is TCP_NOTSENT_LOWAT (0: no limit).
	notsentLowat int
	ttl, tos     uint8
	ccName       string

	// Listener.
	backlog  int
	acceptQ  []*endpoint
	synQ     []*synEntry
	synTimer etimer
	listener *endpoint

	// Errors: softErr is sk_err (reported once by SO_ERROR, read, write).
	softErr unix.Errno
	// rcvShut and sndShut are sk_shutdown's RCV_SHUTDOWN and SEND_SHUTDOWN;
	// finRcvd is SOCK_DONE (the peer's FIN was received).
	rcvShut, sndShut, finRcvd bool

	// Send side (RFC 9293 names).
	iss, sndUna, sndNxt, sndMax seqnum
	sndWnd, maxSndWnd           int
	sndWl1, sndWl2              seqnum
	sndWS                       uint8
	sndQ                        byteQueue
	// sndQSeq is the sequence number of sndQ's first byte.
	sndQSeq seqnum
	// finQueued: a FIN follows the queued data (at sndQSeq+sndQ.Len()).
	finQueued bool
	// mss is the send MSS (payload bytes per segment); advMSS the MSS we
	// advertise; peerMSS what the peer advertised.
	mss, advMSS, peerMSS int
	// sndUp is the urgent pointer of MSG_OOB data (valid if sndUrg).
	sndUp  seqnum
	sndUrg bool

	// Receive side.
	irs, rcvNxt seqnum
	// rcvAdv is the right edge of the window we advertised; it never moves
	// left.
	rcvAdv seqnum
	rcvWS  uint8
	rcvQ   byteQueue
	ooo    oooQueue
	// oooFin is the sequence number of an out-of-order FIN (if haveOOOFin).
	oooFin     seqnum
	haveOOOFin bool
	// Urgent data, as Linux keeps it: rcvUp is the urgent byte's sequence
	// number while urg is not urgNone. The byte stays in rcvQ; a read stops
	// before it, and (SO_OOBINLINE off) a read starting at it skips it.
	rcvUp seqnum
	urg   uint8

	// Negotiated options.
	sackOK, tsOK, wsOK bool
	tsRecent           uint32
	tsOffset           uint32
	tsBase             time.Time
	sb                 scoreboard

	// RTT and retransmission (RFC 6298).
	srtt, rttvar, rto time.Duration
	rttMeasured       bool
	rttTiming         bool
	rttSeq            seqnum
	rttStart          time.Time
	retries           int
	firstRetransmit   time.Time
	rtxTimer          etimer
	persisting        bool

	// Congestion control (bytes).
	cwnd, ssthresh int
	cc             congestionControl
	inRecovery     bool
	recoverSeq     seqnum
	rexmitNext     seqnum
	lostEnd        seqnum
	dupAcks        int
	caAcked        int

	// Delayed ACK.
	ackPending  int
	quickAcks   int
	delackTimer etimer

	// Keepalive and the TIME_WAIT / FIN_WAIT2 timer.
	keepTimer  etimer
	keepProbes int
	lastRecv   time.Time
	waitTimer  etimer

	// Statistics for TCP_INFO.
	totalRetrans                            int
	segsIn, segsOut                         uint32
	bytesAcked, bytesReceived               uint64
	lastDataSent, lastDataRecv, lastAckRecv time.Time
}

var _ netstack.Endpoint = (*endpoint)(nil)

func newEndpoint(p *Protocol, v6 bool) *endpoint {
	e := &endpoint{
		proto:      p,
		v6:         v6,
		state:      stateClosed,
		rcvBufSize: defaultRcvBuf,
		sndBufSize: defaultSndBuf,
		keepIdle:   defaultKeepIdle,
		keepIntvl:  defaultKeepIntvl,
		keepCnt:    defaultKeepCnt,
		synCnt:     synRetries,
		rto:        initialRTO,
		ccName:     "cubic",
	}
	e.cc = newCC(e.ccName)
	return e
}

func (e *endpoint) now() time.Time { return e.proto.net.Now() }

// unlock reports the events gathered meanwhile and releases mu. The
// notification goes out before the lock is released, so that nobody can
// see the new state (Readiness takes mu) before it: an edge-triggered
// epoll that polled in between would report the event on its own and then
// again for the late notification. The socket layer's notify function only
// signals its waiter queue (non-blocking sends under a leaf lock), so it
// may run under mu; it must never call back into the endpoint.
func (e *endpoint) unlock() {
	ev, n := e.events, e.notify
	e.events = 0
	if ev != 0 && n != nil {
		n(ev)
	}
	e.mu.Unlock()
}

func (e *endpoint) wake(ev uint32) { e.events |= ev }

// arm sets t to run fn after d.
func (e *endpoint) arm(t *etimer, d time.Duration, fn func()) {
	dl := e.now().Add(d)
	t.deadline = dl
	if t.t == nil {
		t.fireAt = dl
		t.t = e.proto.net.AfterFunc(d, func() { e.fire(t, fn) })
		return
	}
	if t.fireAt.IsZero() || dl.Before(t.fireAt) {
		t.fireAt = dl
		t.t.Reset(d)
	}
}

func (t *etimer) disarm()     { t.deadline = time.Time{} }
func (t *etimer) armed() bool { return !t.deadline.IsZero() }

// fire runs a timer callback: fn, with mu held, if the deadline passed.
func (e *endpoint) fire(t *etimer, fn func()) {
	e.mu.Lock()
	t.fireAt = time.Time{}
	if t.deadline.IsZero() {
		e.unlock()
		return
	}
	now := e.now()
	if now.Before(t.deadline) {
		t.fireAt = t.deadline
		t.t.Reset(t.deadline.Sub(now))
		e.unlock()
		return
	}
	t.deadline = time.Time{}
	fn()
	e.unlock()
}

func (e *endpoint) stopTimers() {
	e.rtxTimer.disarm()
	e.delackTimer.disarm()
	e.keepTimer.disarm()
	e.waitTimer.disarm()
	e.synTimer.disarm()
	for _, t := range []*etimer{&e.rtxTimer, &e.delackTimer, &e.keepTimer, &e.waitTimer, &e.synTimer} {
		if t.t != nil {
			t.t.Stop()
			t.fireAt = time.Time{}
		}
	}
}

func (e *endpoint) ipHeaderLen() int {
	if e.local.Is4() {
		return 20
	}
	return 40
}

// normalize maps an address given by the socket layer to the form the
// endpoint keeps (4-byte for IPv4, also for ::ffff:a.b.c.d).
func normalize(a netip.Addr) netip.Addr {
	if !a.IsValid() {
		return a
	}
	return a.Unmap()
}

// clampRoute fixes up a route from FindRoute for TCP: addresses in the
// endpoint's form, and the MTU capped at the largest packet the IP header
// can describe (Linux's IP_MAX_MTU and IP6_MAX_MTU: loopback's MTU of 65536
// is one more than an IPv4 total length holds, and a segment sized for it
// would be refused by the IP layer and never arrive).
func clampRoute(r netstack.Route) netstack.Route {
	r.Local, r.Remote = normalize(r.Local), normalize(r.Remote)
	if r.Local.Is4() {
		r.MTU = min(r.MTU, header.IPv4MaxTotalLen)
	} else {
		r.MTU = min(r.MTU, 0xffff+40)
	}
	return r
}

// Bind implements netstack.Endpoint.Bind.
func (e *endpoint) Bind(addr netstack.FullAddress) error {
	e.mu.Lock()
	defer e.unlock()
	if e.bound || e.state != stateClosed {
		return unix.EINVAL
	}
	a := normalize(addr.Addr)
	if a.IsValid() && a.Is6() && !e.v6 {
		return unix.EAFNOSUPPORT
	}
	if e.v6 && e.v6only && a.Is4() {
		return unix.EINVAL
	}
	if a.IsValid() && !a.IsUnspecified() && !e.proto.net.IsLocalAddress(a) {
		return unix.EADDRNOTAVAIL
	}
	if a.IsValid() && a.IsUnspecified() {
		if e.v6 && a.Is6() {
			a = netip.IPv6Unspecified()
		} else {
			a = netip.Addr{}
		}
	}
	if !a.IsValid() && e.v6 {
		a = netip.IPv6Unspecified()
	}
	return e.reserveLocked(a, addr.Port)
}

// resvAddrFor is the address a port reservation of bound address a holds:
// a wildcard is 0.0.0.0 on an AF_INET socket, :: on an IPV6_V6ONLY one
// and the zero Addr (both families) on a dual-stack one, so that a
// dual-stack [::] and 0.0.0.0 clash on a port as on Linux.
func (e *endpoint) resvAddrFor(a netip.Addr) netip.Addr {
	switch {
	case !isAny(a):
		return a
	case !e.v6:
		return netip.IPv4Unspecified()
	case e.v6only:
		return netip.IPv6Unspecified()
	}
	return netip.Addr{}
}

func (e *endpoint) reserveLocked(a netip.Addr, port uint16) error {
	e.portFlags = netstack.PortFlags{ReuseAddr: e.reuseAddr, ReusePort: e.reusePort}
	ra := e.resvAddrFor(a)
	p, err := e.proto.net.ReservePort(ProtocolNumber, netstack.FullAddress{Addr: ra, Port: port}, e.portFlags)
	if err != nil {
		return err
	}
	if port != 0 && e.proto.listenerConflict(p, ra, e) {
		// SO_REUSEADDR does not share a port with a listener.
		e.proto.net.ReleasePort(ProtocolNumber, netstack.FullAddress{Addr: ra, Port: p}, e.portFlags)
		return unix.EADDRINUSE
	}
	e.bound, e.ownsPort = true, true
	e.bindAddr, e.bindPort, e.resvAddr = a, p, ra
	return nil
}

func (e *endpoint) releasePortLocked() {
	if e.ownsPort {
		e.proto.net.ReleasePort(ProtocolNumber, netstack.FullAddress{Addr: e.resvAddr, Port: e.bindPort}, e.portFlags)
		e.ownsPort = false
	}
}

// Connect implements netstack.Endpoint.Connect.
func (e *endpoint) Connect(addr netstack.FullAddress, unspec bool) error {
	e.mu.Lock()
	defer e.unlock()
	if unspec {
		// connect(AF_UNSPEC) is tcp_disconnect: abort whatever there is.
		if e.state == stateListen {
			e.stopListenLocked()
		} else if e.state != stateClosed {
			if e.state != stateSynSent {
				e.sendRSTLocked()
			}
			e.doneLocked(0)
		}
		e.connecting, e.connected = false, false
		e.disconnectLocked()
		return nil
	}
	if e.connected {
		return unix.EISCONN
	}
	if e.connecting {
		switch e.state {
		case stateSynSent, stateSynRcvd:
			return unix.EALREADY
		case stateClosed:
			e.connecting = false
			err := e.takeErrLocked()
			if err == 0 {
				err = unix.ECONNABORTED
			}
			e.disconnectLocked()
			return err
		default:
			e.connecting, e.connected = false, true
			return nil
		}
	}
	if e.state != stateClosed {
		return unix.EISCONN
	}
	ra := normalize(addr.Addr)
	if !ra.IsValid() {
		return unix.EAFNOSUPPORT
	}
	if ra.Is6() && !e.v6 || ra.Is4() && e.v6 && e.v6only {
		return unix.ENETUNREACH
	}
	if addr.Port == 0 {
		return unix.ECONNREFUSED
	}
	if ra.IsUnspecified() {
		// Linux connects to the loopback address.
		if ra.Is4() {
			ra = netip.AddrFrom4([4]byte{127, 0, 0, 1})
		} else {
			ra = netip.IPv6Loopback()
		}
	}
	var la netip.Addr
	if e.bound && !isAny(e.bindAddr) {
		la = e.bindAddr
	}
	r, err := e.proto.net.FindRoute(la, ra, e.portFlags.BindToDevice)
	if err != nil {
		return err
	}
	r = clampRoute(r)
	if !e.bound {
		if err := e.reserveLocked(r.Local, 0); err != nil {
			return err
		}
	}
	e.route = r
	e.local, e.remote, e.rport = r.Local, ra, addr.Port
	e.tuple = tuple{localAddr: e.local, localPort: e.bindPort, remoteAddr: ra, remotePort: addr.Port}
	if !e.proto.register(e.tuple, e) {
		return unix.EADDRNOTAVAIL
	}
	e.registered = true
	e.proto.stats.ActiveOpens.Add(1)
	e.initConnLocked(e.proto.isn(e.tuple))
	e.state = stateSynSent
	e.connecting = true
	e.retries = 0
	e.sendSYNLocked()
	return unix.EINPROGRESS
}

// disconnectLocked makes a closed endpoint ready for another connect, as
// Linux's tcp_disconnect after a failed connect or connect(AF_UNSPEC): the
// shutdown state and whatever the old connection left are cleared.
func (e *endpoint) disconnectLocked() {
	if e.state != stateClosed {
		return
	}
	e.rcvShut, e.sndShut, e.finRcvd = false, false, false
	e.finQueued, e.haveOOOFin = false, false
	e.rcvQ, e.ooo = byteQueue{}, oooQueue{}
	e.urg, e.sndUrg = urgNone, false
	e.softErr = 0
}

// initConnLocked sets up the send side for a new connection.
func (e *endpoint) initConnLocked(iss seqnum) {
	e.iss = iss
	e.sndUna, e.sndNxt, e.sndMax = iss, iss.add(1), iss.add(1)
	e.sndQSeq = iss.add(1)
	e.advMSS = e.route.MTU - e.ipHeaderLen() - header.TCPMinHeaderSize
	if e.userMSS > 0 {
		e.advMSS = min(e.advMSS, e.userMSS)
	}
	e.advMSS = max(e.advMSS, minMSS)
	e.mss = min(e.advMSS, defaultMSS)
	var b [4]byte
	e.proto.net.Random(b[:])
	e.tsOffset = uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	e.tsBase = e.now()
	e.lastRecv = e.now()
	e.rto = initialRTO
}

// negotiateLocked applies the options of the peer's SYN (we offered all of
// ours, so each is on if the peer's SYN has it).
func (e *endpoint) negotiateLocked(o *header.TCPOptions) {
	e.peerMSS = defaultMSS
	if o.HasMSS && o.MSS > 0 {
		e.peerMSS = int(o.MSS)
	}
	e.wsOK = o.HasWS
	if e.wsOK {
		e.sndWS, e.rcvWS = o.WS, ourWS
	} else {
		e.sndWS, e.rcvWS = 0, 0
	}
	e.sackOK = o.SACKPermitted
	e.tsOK = o.HasTS
	if e.tsOK {
		e.tsRecent = o.TSVal
	}
	e.updateMSSLocked()
	e.cwnd = e.initialCwnd()
	e.ssthresh = 1 << 30
}

func (e *endpoint) initialCwnd() int { return 10 * e.mss }

// updateMSSLocked recomputes the send MSS from the route, the peer and
// TCP_MAXSEG; it excludes the timestamp option as Linux's snd_mss does.
func (e *endpoint) updateMSSLocked() {
	m := e.route.MTU - e.ipHeaderLen() - header.TCPMinHeaderSize
	if e.peerMSS > 0 {
		m = min(m, e.peerMSS)
	}
	if e.userMSS > 0 {
		m = min(m, e.userMSS)
	}
	if e.tsOK {
		m -= 12
	}
	e.mss = max(m, minMSS-12)
}

// Listen implements netstack.Endpoint.Listen.
func (e *endpoint) Listen(backlog int) error {
	e.mu.Lock()
	defer e.unlock()
	if e.connecting || e.connected || (e.state != stateClosed && e.state != stateListen) {
		return unix.EINVAL
	}
	backlog = max(0, min(backlog, somaxconn))
	if e.state == stateListen {
		e.backlog = backlog
		return nil
	}
	if !e.bound {
		a := netip.Addr{}
		if e.v6 {
			a = netip.IPv6Unspecified()
		}
		if err := e.reserveLocked(a, 0); err != nil {
			return err
		}
	}
	if !e.proto.addListener(e.bindPort, e) {
		return unix.EADDRINUSE
	}
	e.backlog = backlog
	e.state = stateListen
	e.rcvShut, e.sndShut = false, false
	return nil
}

// Accept implements netstack.Endpoint.Accept.
func (e *endpoint) Accept() (netstack.Endpoint, netstack.FullAddress, error) {
	e.mu.Lock()
	defer e.unlock()
	if e.state != stateListen {
		return nil, netstack.FullAddress{}, unix.EINVAL
	}
	if len(e.acceptQ) == 0 {
		return nil, netstack.FullAddress{}, unix.EAGAIN
	}
	c := e.acceptQ[0]
	e.acceptQ[0] = nil
	e.acceptQ = e.acceptQ[1:]
	c.mu.Lock()
	c.listener = nil
	addr := netstack.FullAddress{Addr: c.remote, Port: c.rport}
	c.unlock()
	return c, addr, nil
}

// takeErrLocked returns and clears the pending error.
func (e *endpoint) takeErrLocked() unix.Errno {
	err := e.softErr
	e.softErr = 0
	return err
}

// Urgent data states (Linux's tp->urg_data).
const (
	// urgNone: no urgent pointer pending.
	urgNone = iota
	// urgNotYet: the pointer arrived, the byte has not.
	urgNotYet
	// urgValid: the byte is in rcvQ, not yet read by MSG_OOB.
	urgValid
	// urgRead: MSG_OOB read it; the mark stays until a read passes it.
	urgRead
)

// copiedSeqLocked is the sequence number of the first unread byte.
func (e *endpoint) copiedSeqLocked() seqnum {
	n := e.rcvQ.Len()
	if e.finRcvd {
		n++
	}
	return e.rcvNxt.add(-n)
}

// urgOffsetLocked returns the offset in rcvQ of the urgent byte (which
// may be beyond the queued bytes) and whether a mark is pending.
func (e *endpoint) urgOffsetLocked() (int, bool) {
	if e.urg == urgNone {
		return 0, false
	}
	return e.rcvUp.diff(e.copiedSeqLocked()), true
}

// readableBytesLocked is what a normal read can return now: the bytes
// before the urgent mark, or after it when it is at the front. It is what
// FIONREAD reports, as Linux's tcp_inq.
func (e *endpoint) readableBytesLocked() int {
	n := e.rcvQ.Len()
	if off, ok := e.urgOffsetLocked(); ok && !e.oobInline && off >= 0 && off < n {
		return off
	}
	return n
}

// Read implements netstack.Endpoint.Read.
func (e *endpoint) Read(buf []byte, opts netstack.ReadOptions) (netstack.ReadResult, error) {
	e.mu.Lock()
	defer e.unlock()
	if e.state == stateListen {
		return netstack.ReadResult{}, unix.ENOTCONN
	}
	if opts.OOB {
		return e.readOOBLocked(buf, opts)
	}
	if n := e.rcvQ.Len(); n > 0 {
		// A read stops before the urgent byte; one that starts at it
		// skips it (SO_OOBINLINE off) and goes on (Linux's tcp_recvmsg).
		start, limit := 0, n
		if off, ok := e.urgOffsetLocked(); ok && off >= 0 && off < n {
			if off > 0 {
				limit = off
			} else if !e.oobInline {
				start = 1
			}
		}
		k := min(limit-start, len(buf))
		if !opts.Trunc {
			e.rcvQ.copyAt(start, buf[:k])
		}
		if !opts.Peek {
			e.rcvQ.discard(start + k)
			if off, ok := e.urgOffsetLocked(); ok && off < 0 {
				e.urg = urgNone
			}
			e.maybeWindowUpdateLocked()
		}
		if k > 0 || len(buf) == 0 {
			return netstack.ReadResult{N: k, Total: k}, nil
		}
		// Only a skipped urgent byte was there: as an empty queue.
	}
	if len(buf) == 0 {
		return netstack.ReadResult{}, nil
	}
	if e.finRcvd {
		return netstack.ReadResult{}, nil
	}
	if err := e.takeErrLocked(); err != 0 {
		return netstack.ReadResult{}, err
	}
	if e.rcvShut {
		return netstack.ReadResult{}, nil
	}
	if e.state == stateClosed {
		return netstack.ReadResult{}, unix.ENOTCONN
	}
	return netstack.ReadResult{}, unix.EAGAIN
}

// readOOBLocked is recv(MSG_OOB), as Linux's tcp_recv_urg: it never waits.
func (e *endpoint) readOOBLocked(buf []byte, opts netstack.ReadOptions) (netstack.ReadResult, error) {
	if e.oobInline || e.urg == urgNone || e.urg == urgRead {
		return netstack.ReadResult{}, unix.EINVAL
	}
	if e.urg == urgNotYet {
		if e.state == stateClosed || e.rcvShut {
			return netstack.ReadResult{}, nil
		}
		return netstack.ReadResult{}, unix.EAGAIN
	}
	off, _ := e.urgOffsetLocked()
	if !opts.Peek {
		e.urg = urgRead
	}
	if len(buf) == 0 {
		return netstack.ReadResult{}, nil
	}
	if !opts.Trunc {
		e.rcvQ.copyAt(off, buf[:1])
	}
	return netstack.ReadResult{N: 1, Total: 1}, nil
}

// Write implements netstack.Endpoint.Write.
func (e *endpoint) Write(buf []byte, opts netstack.WriteOptions) (int, error) {
	e.mu.Lock()
	defer e.unlock()
	switch e.state {
	case stateEstablished, stateCloseWait:
	case stateSynSent, stateSynRcvd:
		if err := e.takeErrLocked(); err != 0 {
			return 0, err
		}
		return 0, unix.EAGAIN
	default:
		if err := e.takeErrLocked(); err != 0 {
			return 0, err
		}
		return 0, unix.EPIPE
	}
	if e.softErr != 0 || e.sndShut {
		if err := e.takeErrLocked(); err != 0 {
			return 0, err
		}
		return 0, unix.EPIPE
	}
	space := e.sndBufSize - e.sndQ.Len()
	if space <= 0 || !e.notsentOKLocked() {
		return 0, unix.EAGAIN
	}
	n := min(space, len(buf))
	e.sndQ.push(buf[:n])
	e.more = opts.More
	if opts.OOB && n > 0 {
		// The urgent pointer points just past the last byte sent (Linux).
		e.sndUp = e.sndQSeq.add(e.sndQ.Len())
		e.sndUrg = true
	}
	e.outputLocked()
	return n, nil
}

// Shutdown implements netstack.Endpoint.Shutdown.
func (e *endpoint) Shutdown(how int) error {
	e.mu.Lock()
	defer e.unlock()
	if how < unix.SHUT_RD || how > unix.SHUT_RDWR {
		return unix.EINVAL
	}
	rd := how == unix.SHUT_RD || how == unix.SHUT_RDWR
	wr := how == unix.SHUT_WR || how == unix.SHUT_RDWR
	if e.connecting && e.state != stateSynSent && e.state != stateSynRcvd {
		e.connecting, e.connected = false, e.state != stateClosed
	}
	switch e.state {
	case stateClosed:
		e.rcvShut = e.rcvShut || rd
		e.sndShut = e.sndShut || wr
		e.wake(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLHUP | unix.EPOLLRDHUP)
		return unix.ENOTCONN
	case stateListen:
		if rd {
			e.stopListenLocked()
		}
		return nil
	case stateSynSent:
		e.doneLocked(0)
		return nil
	}
	if rd {
		e.rcvShut = true
		e.wake(unix.EPOLLIN | unix.EPOLLRDHUP)
	}
	if wr && !e.sndShut {
		e.sndShut = true
		e.queueFINLocked()
		e.wake(unix.EPOLLOUT)
	}
	return nil
}

// queueFINLocked moves to the state after our FIN and sends it when the
// queued data is out.
func (e *endpoint) queueFINLocked() {
	switch e.state {
	case stateEstablished, stateSynRcvd:
		e.state = stateFinWait1
	case stateCloseWait:
		e.state = stateLastAck
	default:
		return
	}
	e.finQueued = true
	e.outputLocked()
}

// Close implements netstack.Endpoint.Close.
func (e *endpoint) Close() {
	e.mu.Lock()
	if e.userClosed {
		e.unlock()
		return
	}
	e.userClosed = true
	e.notify = nil
	switch e.state {
	case stateListen:
		e.stopListenLocked()
		e.releasePortLocked()
	case stateClosed:
		e.releasePortLocked()
	case stateSynSent:
		e.doneLocked(0)
	case stateTimeWait, stateClosing, stateLastAck, stateFinWait1:
		if e.lingerOn && e.lingerSec == 0 {
			e.abortLocked()
		}
	case stateFinWait2:
		if e.lingerOn && e.lingerSec == 0 {
			e.abortLocked()
		} else {
			e.arm(&e.waitTimer, e.finTimeoutLocked(), e.waitTimeout)
		}
	default:
		if e.rcvQ.Len() > 0 || e.lingerOn && e.lingerSec == 0 {
			// RFC 2525 section 2.17: unread data is lost, so reset.
			e.abortLocked()
		} else {
			e.sndShut, e.rcvShut = true, true
			e.queueFINLocked()
		}
	}
	e.unlock()
}

// abortLocked sends a RST and closes the connection.
func (e *endpoint) abortLocked() {
	e.sendRSTLocked()
	e.doneLocked(0)
}

// stopListenLocked ends listening: queued connections are reset, half-open
// ones forgotten.
func (e *endpoint) stopListenLocked() {
	e.proto.removeListener(e.bindPort, e)
	for _, c := range e.acceptQ {
		c.mu.Lock()
		c.listener = nil
		c.userClosed = true
		c.abortLocked()
		c.unlock()
	}
	e.acceptQ = nil
	e.synQ = nil
	e.synTimer.disarm()
	e.state = stateClosed
	e.wake(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLHUP)
}

// doneLocked is Linux's tcp_done: the connection is closed, with err (if
// not 0) reported to the user.
func (e *endpoint) doneLocked(err unix.Errno) {
	if err != 0 {
		e.softErr = err
	}
	if e.state == stateSynSent || e.state == stateSynRcvd {
		e.proto.stats.AttemptFails.Add(1)
	}
	e.state = stateClosed
	e.rcvShut, e.sndShut = true, true
	e.stopTimers()
	e.sndQ = byteQueue{}
	e.ooo = oooQueue{}
	e.sb = scoreboard{}
	if e.registered {
		e.proto.unregister(e.tuple, e)
		e.registered = false
	}
	if e.userClosed {
		e.rcvQ = byteQueue{}
		e.releasePortLocked()
	}
	e.wake(unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLHUP | unix.EPOLLRDHUP | unix.EPOLLERR)
}

// LocalAddress implements netstack.Endpoint.LocalAddress.
func (e *endpoint) LocalAddress() (netstack.FullAddress, error) {
	e.mu.Lock()
	defer e.unlock()
	a := e.bindAddr
	if e.local.IsValid() {
		a = e.local
	}
	return netstack.FullAddress{Addr: a, Port: e.bindPort}, nil
}

// RemoteAddress implements netstack.Endpoint.RemoteAddress.
func (e *endpoint) RemoteAddress() (netstack.FullAddress, error) {
	e.mu.Lock()
	defer e.unlock()
	switch e.state {
	case stateClosed, stateListen, stateSynSent:
		if !(e.state == stateClosed && e.connected && e.finRcvd) {
			return netstack.FullAddress{}, unix.ENOTCONN
		}
	}
	return netstack.FullAddress{Addr: e.remote, Port: e.rport}, nil
}

// SetNotify implements netstack.Endpoint.SetNotify.
func (e *endpoint) SetNotify(f func(uint32)) {
	e.mu.Lock()
	e.notify = f
	e.mu.Unlock()
}

// writable is sk_stream_is_writeable: free space at least half the queued
// bytes, and fewer than TCP_NOTSENT_LOWAT bytes not yet sent.
func (e *endpoint) writableLocked() bool {
	q := e.sndQ.Len()
	return e.sndBufSize-q >= q/2 && e.sndBufSize-q > 0 && e.notsentOKLocked()
}

// unsentLocked is the number of queued bytes not yet sent.
func (e *endpoint) unsentLocked() int {
	return max(e.sndQSeq.add(e.sndQ.Len()).diff(e.sndNxt), 0)
}

// notsentOKLocked is tcp_stream_memory_free: below TCP_NOTSENT_LOWAT.
func (e *endpoint) notsentOKLocked() bool {
	return e.notsentLowat == 0 || e.unsentLocked() < e.notsentLowat
}

// finTimeoutLocked is how long an orphan stays in FIN_WAIT2.
func (e *endpoint) finTimeoutLocked() time.Duration {
	switch {
	case e.linger2 < 0:
		return 0
	case e.linger2 > 0:
		return e.linger2
	}
	return finTimeout
}

// Readiness implements netstack.Endpoint.Readiness, as Linux's tcp_poll.
func (e *endpoint) Readiness(mask uint32) uint32 {
	e.mu.Lock()
	defer e.unlock()
	var r uint32
	if e.state == stateListen {
		if len(e.acceptQ) > 0 {
			r |= unix.EPOLLIN | unix.EPOLLRDNORM
		}
		return r & mask
	}
	if e.rcvShut && e.sndShut || e.state == stateClosed {
		r |= unix.EPOLLHUP
	}
	if e.rcvShut {
		r |= unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLRDHUP
	}
	if e.state != stateSynSent && e.state != stateSynRcvd {
		// SO_RCVLOWAT bytes make the socket readable; an urgent byte
		// at the front that a read would skip does not count (tcp_poll).
		// The cap keeps a buffer shrunk after SO_RCVLOWAT from never
		// holding enough.
		target := max(min(e.rcvLowat, e.rcvBufSize/2), 1)
		if off, ok := e.urgOffsetLocked(); ok && off == 0 && !e.oobInline {
			target++
		}
		if e.rcvQ.Len() >= target {
			r |= unix.EPOLLIN | unix.EPOLLRDNORM
		}
		if !e.sndShut {
			if e.writableLocked() {
				r |= unix.EPOLLOUT | unix.EPOLLWRNORM
			}
		} else {
			r |= unix.EPOLLOUT | unix.EPOLLWRNORM
		}
		if e.urg == urgValid {
			r |= unix.EPOLLPRI
		}
	}
	if e.softErr != 0 {
		r |= unix.EPOLLERR
	}
	return r & mask
}

// handleError applies an ICMP error about the segment with sequence seq.
func (e *endpoint) handleError(seq seqnum, err error, mtu int) {
	e.mu.Lock()
	defer e.unlock()
	if seq.lt(e.sndUna) || seq.gt(e.sndMax) {
		return // RFC 5927: not about data in flight
	}
	errno, _ := err.(unix.Errno)
	if errno == unix.EMSGSIZE {
		if mtu > 0 && mtu < e.route.MTU {
			e.route.MTU = max(mtu, e.ipHeaderLen()+header.TCPMinHeaderSize+minMSS)
			e.updateMSSLocked()
			if e.state != stateSynSent && e.sndUna != e.sndMax {
				// Resend what was too big.
				e.sndNxt = e.sndUna
				e.outputLocked()
			}
		}
		return
	}
	if errno == 0 {
		return
	}
	if e.state == stateSynSent || e.state == stateSynRcvd {
		e.doneLocked(errno)
		return
	}
	// Soft error on a synchronized connection: remembered, reported only
	// if the connection times out (Linux's sk_err_soft).
}

func (e *endpoint) tsVal() uint32 {
	return uint32(e.now().Sub(e.tsBase)/time.Millisecond) + e.tsOffset
}

// Ioctl implements netstack.Ioctler as Linux's tcp_ioctl.
func (e *endpoint) Ioctl(cmd uint32) (int, error) {
	e.mu.Lock()
	defer e.unlock()
	switch cmd {
	case unix.SIOCINQ, unix.SIOCOUTQ, unix.SIOCOUTQNSD:
		if e.state == stateListen {
			return 0, unix.EINVAL
		}
		if e.state == stateSynSent || e.state == stateSynRcvd {
			return 0, nil
		}
		switch cmd {
		case unix.SIOCINQ:
			return e.readableBytesLocked(), nil
		case unix.SIOCOUTQ:
			// Sent and unacknowledged plus not yet sent.
			return e.sndQ.Len(), nil
		default:
			// Not yet sent.
			return max(e.sndQSeq.add(e.sndQ.Len()).diff(e.sndNxt), 0), nil
		}
	case unix.SIOCATMARK:
		if off, ok := e.urgOffsetLocked(); ok && off == 0 {
			return 1, nil
		}
		return 0, nil
	}
	return 0, unix.ENOTTY
}
