package tcp

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// synEntry is a half-open connection in a listener's SYN queue (Linux's
// request_sock): a few dozen bytes, not an endpoint, so a SYN flood costs
// little, and the queue is bounded.
type synEntry struct {
	t        tuple
	route    netstack.Route
	iss, irs seqnum
	opts     header.TCPOptions
	// wnd is the window of the peer's SYN.
	wnd     uint16
	retries int
	next    time.Time
	tsBase  time.Time
}

// synQueueMax bounds the SYN queue of a listener with the given backlog
// (Linux: tcp_max_syn_backlog, and no SYN cookies here).
func synQueueMax(backlog int) int { return min(max(2*backlog, 16), 1024) }

// acceptQFullLocked is sk_acceptq_is_full: more than backlog waiting.
func (e *endpoint) acceptQFullLocked() bool { return len(e.acceptQ) > e.backlog }

// handleListen processes a segment for listener e. It returns a new
// connection if the segment completed a handshake (the caller then hands it
// the segment, for any data it carries).
func (e *endpoint) handleListen(s *segment, t tuple) *endpoint {
	e.mu.Lock()
	defer e.unlock()
	if e.state != stateListen {
		e.proto.sendReset(s)
		return nil
	}
	idx := -1
	for i, q := range e.synQ {
		if q.t == t {
			idx = i
			break
		}
	}
	if idx >= 0 {
		q := e.synQ[idx]
		switch {
		case s.has(flagRST):
			if s.seq == q.irs.add(1) {
				e.removeSynLocked(idx)
			}
		case s.has(flagSYN):
			if s.seq == q.irs && !s.has(flagACK) {
				e.sendSynAckLocked(q)
			}
		case s.has(flagACK):
			if s.ack != q.iss.add(1) || s.seq != q.irs.add(1) && !s.seq.inWindow(q.irs.add(1), 1<<16) {
				e.proto.sendReset(s)
				return nil
			}
			if e.acceptQFullLocked() {
				// Linux ignores the ACK; the SYN-ACK is retransmitted.
				e.proto.stats.ListenOverflows.Add(1)
				e.proto.stats.ListenDrops.Add(1)
				return nil
			}
			e.removeSynLocked(idx)
			c := e.newChildLocked(q, s)
			if c == nil {
				return nil
			}
			e.acceptQ = append(e.acceptQ, c)
			e.wake(unix.EPOLLIN | unix.EPOLLRDNORM)
			if len(s.payload) > 0 || s.has(flagFIN) {
				return c
			}
		}
		return nil
	}
	switch {
	case s.has(flagRST):
	case s.has(flagACK):
		e.proto.sendReset(s)
	case s.has(flagSYN):
		if e.acceptQFullLocked() || len(e.synQ) >= synQueueMax(e.backlog) {
			e.proto.stats.ListenOverflows.Add(1)
			e.proto.stats.ListenDrops.Add(1)
			return nil
		}
		r, err := e.proto.net.FindRoute(t.localAddr, t.remoteAddr, e.portFlags.BindToDevice)
		if err != nil {
			e.proto.stats.ListenDrops.Add(1)
			return nil
		}
		r = clampRoute(r)
		q := &synEntry{t: t, route: r, iss: e.proto.isn(t), irs: s.seq, opts: s.opts, wnd: s.wnd, tsBase: e.now()}
		q.opts.NumSACK = 0
		e.synQ = append(e.synQ, q)
		e.sendSynAckLocked(q)
		q.next = e.now().Add(initialRTO)
		e.armSynTimerLocked()
	}
	return nil
}

func (e *endpoint) removeSynLocked(i int) {
	copy(e.synQ[i:], e.synQ[i+1:])
	e.synQ[len(e.synQ)-1] = nil
	e.synQ = e.synQ[:len(e.synQ)-1]
}

func (e *endpoint) armSynTimerLocked() {
	if len(e.synQ) == 0 {
		e.synTimer.disarm()
		return
	}
	next := e.synQ[0].next
	for _, q := range e.synQ[1:] {
		if q.next.Before(next) {
			next = q.next
		}
	}
	e.arm(&e.synTimer, max(next.Sub(e.now()), 0), e.synTimeout)
}

// synTimeout retransmits due SYN-ACKs and drops entries that used up their
// retries.
func (e *endpoint) synTimeout() {
	if e.state != stateListen {
		return
	}
	now := e.now()
	for i := 0; i < len(e.synQ); {
		q := e.synQ[i]
		if now.Before(q.next) {
			i++
			continue
		}
		if q.retries >= synAckRetries {
			e.removeSynLocked(i)
			continue
		}
		q.retries++
		e.sendSynAckLocked(q)
		q.next = now.Add(min(initialRTO<<q.retries, maxRTO))
		i++
	}
	e.armSynTimerLocked()
}

// synOptions are the options we put on a SYN or SYN-ACK; for a SYN-ACK only
// those the peer offered.
func (e *endpoint) synOptions(mss int, peer *header.TCPOptions, tsVal uint32) header.TCPOptions {
	o := header.TCPOptions{HasMSS: true, MSS: uint16(min(mss, 65535))}
	if peer == nil || peer.HasWS {
		o.HasWS, o.WS = true, ourWS
	}
	if peer == nil || peer.SACKPermitted {
		o.SACKPermitted = true
	}
	if peer == nil || peer.HasTS {
		o.HasTS, o.TSVal = true, tsVal
		if peer != nil {
			o.TSEcr = peer.TSVal
		}
	}
	return o
}

func (e *endpoint) advMSSFor(r netstack.Route) int {
	ip := 40
	if r.Local.Is4() {
		ip = 20
	}
	m := r.MTU - ip - header.TCPMinHeaderSize
	if e.userMSS > 0 {
		m = min(m, e.userMSS)
	}
	return max(m, minMSS)
}

// sendSynAckLocked sends the SYN-ACK of a SYN queue entry.
func (e *endpoint) sendSynAckLocked(q *synEntry) {
	ts := uint32(e.now().Sub(q.tsBase)/time.Millisecond) + uint32(q.iss)
	o := e.synOptions(e.advMSSFor(q.route), &q.opts, ts)
	wnd := min(e.rcvBufSize, 65535)
	e.proto.sendWith(q.route, q.t, q.iss, q.irs.add(1), flagSYN|flagACK, uint16(wnd), 0, &o, nil, 0, 0, e.ttl, e.tos)
}

// newChildLocked makes the connection a completed handshake creates,
// inheriting the listener's options.
func (e *endpoint) newChildLocked(q *synEntry, s *segment) *endpoint {
	c := newEndpoint(e.proto, e.v6)
	c.nodelay, c.keepalive, c.oobInline = e.nodelay, e.keepalive, e.oobInline
	c.keepIdle, c.keepIntvl, c.keepCnt = e.keepIdle, e.keepIntvl, e.keepCnt
	c.lingerOn, c.lingerSec, c.userTimeout = e.lingerOn, e.lingerSec, e.userTimeout
	c.rcvBufSize, c.sndBufSize, c.userMSS = e.rcvBufSize, e.sndBufSize, e.userMSS
	c.ttl, c.tos, c.v6only = e.ttl, e.tos, e.v6only
	c.rcvLowat, c.priority, c.linger2, c.notsentLowat = e.rcvLowat, e.priority, e.linger2, e.notsentLowat
	c.ccName, c.cc = e.ccName, newCC(e.ccName)
	c.bound = true
	c.bindAddr, c.bindPort = e.bindAddr, e.bindPort
	c.local, c.remote, c.rport = q.t.localAddr, q.t.remoteAddr, q.t.remotePort
	c.route = q.route
	c.tuple = q.t
	c.listener = e
	c.connected = true
	c.initConnLocked(q.iss)
	c.tsBase = q.tsBase
	c.tsOffset = uint32(q.iss)
	c.irs = q.irs
	c.rcvNxt = q.irs.add(1)
	c.negotiateLocked(&q.opts)
	c.rcvAdv = c.rcvNxt.add(min(c.rcvBufSize, 65535))
	c.sndWnd = int(s.wnd) << c.sndWS
	c.maxSndWnd = c.sndWnd
	c.sndWl1, c.sndWl2 = s.seq, s.ack
	if q.retries == 0 {
		c.rttSampleLocked(e.now().Sub(q.tsBase))
	}
	c.state = stateEstablished
	c.sndUna = s.ack
	c.quickAcks = 16
	if c.keepalive {
		c.arm(&c.keepTimer, c.keepIdle, c.keepaliveTimeout)
	}
	if !e.proto.register(c.tuple, c) {
		return nil
	}
	c.registered = true
	e.proto.stats.PassiveOpens.Add(1)
	return c
}
