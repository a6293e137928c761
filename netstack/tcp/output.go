package tcp

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/header"
)

// tcpChecksumOffset is where the checksum is in the TCP header.
const tcpChecksumOffset = 16

// segBufSize is the size of a pooled segment buffer: the largest TCP
// header and the most data an IP packet can carry.
const segBufSize = 60 + 65535

// segPool recycles segment buffers: Network.Send copies the segment and
// keeps nothing, so one buffer serves every segment an endpoint sends.
var segPool = sync.Pool{New: func() any { return new([segBufSize]byte) }}

// sendWith builds and sends one segment. Its data are n bytes of src from
// offset off (src nil: none).
func (p *Protocol) sendWith(r netstack.Route, t tuple, seq, ack seqnum, flags uint8, wnd, urg uint16, o *header.TCPOptions, src *byteQueue, off, n int, ttl, tos uint8) {
	optLen := 0
	if o != nil {
		optLen = o.EncodedLen()
	}
	hl := header.TCPMinHeaderSize + optLen
	var b []byte
	if hl+n <= segBufSize {
		pb := segPool.Get().(*[segBufSize]byte)
		defer segPool.Put(pb)
		b = pb[:hl+n]
	} else {
		b = make([]byte, hl+n)
	}
	if o != nil {
		optLen = header.EncodeTCPOptions(b[header.TCPMinHeaderSize:], o)
		hl = header.TCPMinHeaderSize + optLen
		b = b[:hl+n]
	}
	h := header.TCP{SrcPort: t.localPort, DstPort: t.remotePort, Seq: uint32(seq), Ack: uint32(ack),
		DataOffset: hl, Flags: flags, Window: wnd, Urgent: urg}
	h.Encode(b)
	if n > 0 {
		src.copyAt(off, b[hl:])
	}
	p.stats.SegsOut.Add(1)
	if flags&flagRST != 0 {
		p.stats.OutRsts.Add(1)
	}
	// The IP layer computes the checksum, or on loopback leaves it out.
	p.net.Send(r, ProtocolNumber, b, netstack.SendOptions{TTL: ttl, TOS: tos, DontFragment: true, ChecksumOffset: tcpChecksumOffset})
}

// windowFieldLocked computes the window to advertise and moves rcvAdv.
func (e *endpoint) windowFieldLocked() uint16 {
	free := max(e.rcvBufSize-e.rcvQ.Len()-e.ooo.bytes, 0)
	cur := max(e.rcvAdv.diff(e.rcvNxt), 0)
	w := cur
	// Receiver SWS avoidance: only move the edge by a useful amount.
	if free-cur >= min(e.rcvBufSize/2, e.advMSS) || free-cur > 0 && cur == 0 && free >= e.advMSS {
		w = free
	}
	maxW := 65535 << e.rcvWS
	w = min(w, maxW)
	field := (w + (1 << e.rcvWS) - 1) >> e.rcvWS
	if w == free || w == maxW {
		field = w >> e.rcvWS
	}
	field = min(field, 65535)
	if edge := e.rcvNxt.add(field << e.rcvWS); edge.gt(e.rcvAdv) {
		e.rcvAdv = edge
	}
	return uint16(field)
}

// sendSegmentLocked sends a segment from the connection with the given
// sequence number, flags and up to n bytes of queued data starting at seq.
func (e *endpoint) sendSegmentLocked(seq seqnum, n int, flags uint8) {
	var o header.TCPOptions
	if e.tsOK {
		o.HasTS, o.TSVal, o.TSEcr = true, e.tsVal(), e.tsRecent
	}
	if e.sackOK && len(e.ooo.segs) > 0 && flags&flagACK != 0 {
		var blocks [header.TCPMaxSACKBlocks]sackRange
		k := e.ooo.sackBlocks(blocks[:])
		// Keep the segment within the MTU: fewer blocks on a full one.
		room := e.route.MTU - e.ipHeaderLen() - 20 - n
		if o.HasTS {
			room -= 12
		}
		k = max(0, min(k, (room-4)/8))
		for i := 0; i < k; i++ {
			o.SACK[i] = header.SACKBlock{Start: uint32(blocks[i].start), End: uint32(blocks[i].end)}
		}
		o.NumSACK = k
	}
	if n > 0 {
		e.lastDataSent = e.now()
	}
	var urg uint16
	if e.sndUrg {
		if d := e.sndUp.diff(seq); d > 0 && d <= 65535 {
			flags |= flagURG
			urg = uint16(d)
		} else if d <= 0 {
			e.sndUrg = false
		}
	}
	wnd := e.windowFieldLocked()
	e.segsOut++
	e.proto.sendWith(e.route, e.tuple, seq, e.rcvNxt, flags, wnd, urg, &o, &e.sndQ, seq.diff(e.sndQSeq), n, e.ttl, e.tos)
	if flags&flagACK != 0 {
		e.ackPending = 0
		e.delackTimer.disarm()
	}
}

// sendACKLocked sends a bare ACK now.
func (e *endpoint) sendACKLocked() {
	e.sendSegmentLocked(e.sndNxt, 0, flagACK)
}

// sendRSTLocked resets the connection's peer (abort).
func (e *endpoint) sendRSTLocked() {
	switch e.state {
	case stateClosed, stateListen, stateSynSent, stateTimeWait:
		return
	}
	e.proto.sendWith(e.route, e.tuple, e.sndNxt, e.rcvNxt, flagRST|flagACK, 0, 0, nil, nil, 0, 0, e.ttl, e.tos)
}

// sendSYNLocked sends (or resends) our SYN, or SYN-ACK in a simultaneous
// open, and arms the retransmission timer.
func (e *endpoint) sendSYNLocked() {
	var o header.TCPOptions
	flags := uint8(flagSYN)
	ack := seqnum(0)
	wnd := uint16(min(e.rcvBufSize, 65535))
	if e.state == stateSynRcvd {
		flags |= flagACK
		ack = e.rcvNxt
		o = e.synOptions(e.advMSS, &header.TCPOptions{HasWS: e.wsOK, SACKPermitted: e.sackOK, HasTS: e.tsOK, TSVal: e.tsRecent}, e.tsVal())
		e.rcvAdv = e.rcvNxt.add(int(wnd))
	} else {
		o = e.synOptions(e.advMSS, nil, e.tsVal())
	}
	if e.retries == 0 {
		e.rttStart = e.now()
	}
	e.segsOut++
	e.proto.sendWith(e.route, e.tuple, e.iss, ack, flags, wnd, 0, &o, nil, 0, 0, e.ttl, e.tos)
	e.arm(&e.rtxTimer, e.rto, e.rtxTimeout)
}

// scheduleAckLocked arms the delayed-ACK timer.
func (e *endpoint) scheduleAckLocked() {
	if !e.delackTimer.armed() {
		e.arm(&e.delackTimer, delAckTime, e.delackTimeout)
	}
}

func (e *endpoint) delackTimeout() {
	if e.ackPending > 0 && e.state != stateClosed {
		e.sendACKLocked()
	}
}

// maybeWindowUpdateLocked sends a window update after a read if the window
// grew by enough to matter (Linux's tcp_cleanup_rbuf).
func (e *endpoint) maybeWindowUpdateLocked() {
	switch e.state {
	case stateEstablished, stateFinWait1, stateFinWait2:
	default:
		return
	}
	free := max(e.rcvBufSize-e.rcvQ.Len()-e.ooo.bytes, 0)
	cur := max(e.rcvAdv.diff(e.rcvNxt), 0)
	if free-cur >= min(e.rcvBufSize/2, 2*e.advMSS) || cur < e.advMSS && free >= e.advMSS && free > cur {
		e.sendACKLocked()
	}
}

// pipeLocked estimates the bytes in flight (RFC 6675's pipe): sent and
// not acknowledged, minus SACKed, minus those deemed lost and not resent,
// minus (without SACK) a segment per duplicate ACK in recovery.
func (e *endpoint) pipeLocked() int {
	p := e.sndNxt.diff(e.sndUna) - e.sb.sacked(e.sndUna, e.sndNxt)
	if e.inRecovery {
		if e.rexmitNext.lt(e.lostEnd) {
			lo := seqMax(e.rexmitNext, e.sndUna)
			p -= e.lostEnd.diff(lo) - e.sb.sacked(lo, e.lostEnd)
		}
		if !e.sackOK {
			p -= e.dupAcks * e.mss
		}
	}
	return max(p, 0)
}

// synchronizedLocked reports whether data may be sent.
func (e *endpoint) synchronizedLocked() bool {
	switch e.state {
	case stateEstablished, stateCloseWait, stateFinWait1, stateLastAck, stateClosing:
		return true
	}
	return false
}

// outputLocked sends what the windows, Nagle and cork allow: lost segments
// in recovery first, then (re)sends from snd.nxt.
func (e *endpoint) outputLocked() {
	if !e.synchronizedLocked() {
		return
	}
	if e.inRecovery {
		for e.pipeLocked() < e.cwnd {
			seq, n, ok := e.nextHoleLocked()
			if !ok {
				break
			}
			e.transmitLocked(seq, n, true)
			e.rexmitNext = seq.add(n)
		}
	}
	dataEnd := e.sndQSeq.add(e.sndQ.Len())
	for {
		if e.sndNxt.lt(e.sndMax) {
			if r, ok := e.sb.covering(e.sndNxt); ok {
				e.sndNxt = seqMin(r.end, e.sndMax)
				continue
			}
		}
		avail := dataEnd.diff(e.sndNxt)
		finPending := e.finQueued && e.sndNxt.le(dataEnd)
		if avail < 0 || avail == 0 && !finPending {
			break
		}
		n := min(avail, e.mss)
		resend := e.sndNxt.lt(e.sndMax)
		if resend {
			n = min(n, e.sb.nextStart(e.sndNxt, e.sndMax).diff(e.sndNxt))
		}
		wndRoom := e.sndUna.add(e.sndWnd).diff(e.sndNxt)
		cwndRoom := e.cwnd - e.pipeLocked()
		if n > 0 {
			lim := min(n, wndRoom, cwndRoom)
			if lim <= 0 {
				if e.sndWnd == 0 && e.sndUna == e.sndMax {
					e.startPersistLocked()
				}
				break
			}
			if lim < n {
				if cwndRoom < n && lim < e.mss {
					break
				}
				if wndRoom < n && lim < e.maxSndWnd/2 && e.sndUna != e.sndMax {
					break // sender SWS avoidance
				}
				n = lim
			}
			if !resend && n < e.mss && e.sndNxt.add(n) == dataEnd && !finPending {
				if e.cork || e.more {
					break
				}
				if !e.nodelay && e.sndUna != e.sndMax {
					break // Nagle
				}
			}
		}
		e.transmitLocked(e.sndNxt, n, resend)
		e.sndNxt = e.sndNxt.add(n)
		if finPending && e.sndNxt == dataEnd {
			e.sndNxt = e.sndNxt.add(1)
		}
		if e.sndNxt.gt(e.sndMax) {
			e.sndMax = e.sndNxt
		}
	}
	if e.sndUna != e.sndMax && !e.rtxTimer.armed() {
		e.persisting = false
		e.arm(&e.rtxTimer, e.rto, e.rtxTimeout)
	}
}

// nextHoleLocked returns the next lost range to retransmit in recovery:
// bytes in [rexmitNext, lostEnd) not SACKed, at most one MSS.
func (e *endpoint) nextHoleLocked() (seqnum, int, bool) {
	seq := seqMax(e.rexmitNext, e.sndUna)
	for seq.lt(e.lostEnd) {
		if r, ok := e.sb.covering(seq); ok {
			seq = r.end
			continue
		}
		end := seqMin(e.sb.nextStart(seq, e.lostEnd), seq.add(e.mss))
		return seq, end.diff(seq), true
	}
	return 0, 0, false
}

// transmitLocked sends the segment at seq with n data bytes (a FIN is added
// when it ends the queued data and one is queued).
func (e *endpoint) transmitLocked(seq seqnum, n int, resend bool) {
	dataEnd := e.sndQSeq.add(e.sndQ.Len())
	flags := uint8(flagACK)
	if e.finQueued && seq.add(n) == dataEnd {
		flags |= flagFIN
	}
	if n > 0 && seq.add(n) == dataEnd {
		flags |= flagPSH
	}
	n = min(n, dataEnd.diff(seq))
	if n < 0 {
		n = 0
	}
	if resend {
		e.totalRetrans++
		e.proto.stats.RetransSegs.Add(1)
		if e.rttTiming && e.rttSeq.gt(seq) {
			e.rttTiming = false // Karn
		}
	} else if !e.tsOK && !e.rttTiming && n > 0 {
		e.rttTiming = true
		e.rttSeq = seq.add(n)
		e.rttStart = e.now()
	}
	e.sendSegmentLocked(seq, n, flags)
}

// rttSampleLocked updates SRTT, RTTVAR and RTO (RFC 6298 section 2).
func (e *endpoint) rttSampleLocked(r time.Duration) {
	if r <= 0 {
		r = time.Millisecond
	}
	if !e.rttMeasured {
		e.srtt, e.rttvar = r, r/2
		e.rttMeasured = true
	} else {
		d := e.srtt - r
		if d < 0 {
			d = -d
		}
		e.rttvar = (3*e.rttvar + d) / 4
		e.srtt = (7*e.srtt + r) / 8
	}
	e.rto = min(max(e.srtt+max(4*e.rttvar, time.Millisecond), minRTO), maxRTO)
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }

// startPersistLocked arms the zero-window probe timer.
func (e *endpoint) startPersistLocked() {
	if e.persisting && e.rtxTimer.armed() {
		return
	}
	e.persisting = true
	e.arm(&e.rtxTimer, min(e.rto<<min(e.retries, 10), maxRTO), e.rtxTimeout)
}

// rtxTimeout is the retransmission (or persist) timer.
func (e *endpoint) rtxTimeout() {
	now := e.now()
	switch e.state {
	case stateSynSent, stateSynRcvd:
		if e.retries >= e.synCnt {
			e.doneLocked(unix.ETIMEDOUT)
			return
		}
		e.retries++
		e.rto = min(e.rto*2, maxRTO)
		e.sendSYNLocked()
		return
	case stateClosed, stateListen, stateTimeWait:
		return
	}
	if e.userTimeout > 0 && !e.firstRetransmit.IsZero() && now.Sub(e.firstRetransmit) >= e.userTimeout {
		e.abortTimeoutLocked()
		return
	}
	if e.persisting {
		if e.sndWnd > 0 || e.sndUna != e.sndMax {
			e.persisting = false
			e.outputLocked()
			return
		}
		// Zero-window probe: an old sequence number draws an ACK with the
		// current window.
		if e.firstRetransmit.IsZero() {
			e.firstRetransmit = now
		}
		e.sendSegmentLocked(e.sndUna.add(-1), 0, flagACK)
		e.retries++
		e.persisting = false
		e.startPersistLocked()
		return
	}
	if e.sndUna == e.sndMax {
		return
	}
	if e.retries >= maxRetries {
		e.abortTimeoutLocked()
		return
	}
	if e.firstRetransmit.IsZero() {
		e.firstRetransmit = now
	}
	e.proto.stats.Timeouts.Add(1)
	e.retries++
	e.rto = min(e.rto*2, maxRTO)
	e.cc.onRTO(e)
	e.inRecovery = false
	e.dupAcks = 0
	e.rttTiming = false
	e.sndNxt = e.sndUna
	e.outputLocked()
	e.arm(&e.rtxTimer, e.rto, e.rtxTimeout)
}

// abortTimeoutLocked gives up on the connection.
func (e *endpoint) abortTimeoutLocked() {
	e.sendRSTLocked()
	e.doneLocked(unix.ETIMEDOUT)
}

// keepaliveTimeout sends keepalive probes on an idle connection.
func (e *endpoint) keepaliveTimeout() {
	if !e.keepalive {
		return
	}
	switch e.state {
	case stateEstablished, stateCloseWait, stateFinWait1, stateFinWait2, stateClosing, stateLastAck:
	default:
		return
	}
	idle := e.now().Sub(e.lastRecv)
	if e.keepProbes == 0 && idle < e.keepIdle {
		e.arm(&e.keepTimer, e.keepIdle-idle, e.keepaliveTimeout)
		return
	}
	if e.keepProbes >= e.keepCnt || e.userTimeout > 0 && idle >= e.userTimeout {
		e.abortTimeoutLocked()
		return
	}
	e.keepProbes++
	e.sendSegmentLocked(e.sndUna.add(-1), 0, flagACK)
	e.arm(&e.keepTimer, e.keepIntvl, e.keepaliveTimeout)
}
