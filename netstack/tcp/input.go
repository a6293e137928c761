package tcp

import (
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

const (
	flagFIN = header.TCPFlagFIN
	flagSYN = header.TCPFlagSYN
	flagRST = header.TCPFlagRST
	flagPSH = header.TCPFlagPSH
	flagACK = header.TCPFlagACK
	flagURG = header.TCPFlagURG
)

// handleSegment processes a segment for a connection (RFC 9293 section
// 3.10.7).
func (e *endpoint) handleSegment(s *segment) {
	e.mu.Lock()
	defer e.unlock()
	e.segsIn++
	switch e.state {
	case stateClosed, stateListen:
		e.proto.sendReset(s)
		return
	case stateSynSent:
		e.handleSynSentLocked(s)
		return
	}
	e.lastRecv = e.now()
	e.keepProbes = 0

	// The peer's retransmitted SYN-ACK in a simultaneous open: its SYN is
	// already counted, keep the rest.
	if e.state == stateSynRcvd && s.has(flagSYN) && s.seq == e.irs {
		s.flags &^= flagSYN
		s.seq = s.seq.add(1)
		if !s.has(flagACK) {
			e.sendSYNLocked()
			return
		}
	}

	// PAWS (RFC 7323 section 5).
	if e.tsOK && s.opts.HasTS && !s.has(flagRST) && int32(s.opts.TSVal-e.tsRecent) < 0 {
		e.sendACKLocked()
		return
	}

	// Acceptability.
	wnd := e.rcvAdv.diff(e.rcvNxt)
	if wnd < 0 {
		wnd = 0
	}
	if !e.acceptableLocked(s, wnd) {
		if !s.has(flagRST) {
			e.proto.stats.OutOfWindow.Add(1)
			e.sendACKLocked()
		}
		return
	}

	// RST (RFC 5961 section 3).
	if s.has(flagRST) {
		if s.seq != e.rcvNxt {
			e.sendACKLocked() // challenge ACK
			return
		}
		e.resetLocked()
		return
	}
	// SYN in a synchronized state: challenge ACK (RFC 5961 section 4).
	if s.has(flagSYN) {
		e.sendACKLocked()
		return
	}
	if !s.has(flagACK) {
		return
	}
	if e.tsOK && s.opts.HasTS && s.seq.le(e.rcvNxt) {
		e.tsRecent = s.opts.TSVal
	}

	if e.state == stateSynRcvd {
		if s.ack.le(e.sndUna) || s.ack.gt(e.sndMax) {
			e.proto.sendReset(s)
			return
		}
		e.establishLocked()
	}
	if !e.processAckLocked(s) {
		return
	}
	if e.state == stateClosed {
		return
	}

	// Urgent pointer.
	if s.has(flagURG) && s.urg > 0 {
		e.handleUrgLocked(s)
	}

	// Data and FIN.
	if len(s.payload) > 0 || s.has(flagFIN) {
		switch e.state {
		case stateEstablished, stateFinWait1, stateFinWait2:
			if e.userClosed && len(s.payload) > 0 {
				// Nobody will read it: Linux resets.
				e.abortLocked()
				return
			}
			e.processDataLocked(s)
		case stateTimeWait:
			if s.has(flagFIN) {
				e.sendACKLocked()
				e.arm(&e.waitTimer, timeWaitTime, e.waitTimeout)
			}
		default:
			if s.has(flagFIN) {
				e.sendACKLocked()
			}
		}
	}
	unsent := e.unsentLocked()
	e.outputLocked()
	if e.notsentLowat > 0 && e.unsentLocked() < unsent && e.writableLocked() {
		// Sending made room under TCP_NOTSENT_LOWAT.
		e.wake(unix.EPOLLOUT | unix.EPOLLWRNORM)
	}
	if e.ackPending > 0 {
		e.scheduleAckLocked()
	}
}

// acceptableLocked is the segment acceptability test of RFC 9293 section
// 3.10.7.4; it trims the segment to the window.
func (e *endpoint) acceptableLocked(s *segment, wnd int) bool {
	n := s.seqLen()
	if n == 0 {
		if wnd == 0 {
			return s.seq == e.rcvNxt
		}
		return s.seq.inWindow(e.rcvNxt, wnd)
	}
	if wnd == 0 {
		// Only ACK, RST and URG processing of a segment at rcv.nxt.
		if s.seq == e.rcvNxt {
			s.payload = nil
			s.flags &^= flagFIN | flagSYN
			return true
		}
		return false
	}
	end := s.seq.add(n - 1)
	if !s.seq.inWindow(e.rcvNxt, wnd) && !end.inWindow(e.rcvNxt, wnd) {
		return false
	}
	// Trim the front.
	if s.seq.lt(e.rcvNxt) {
		cut := e.rcvNxt.diff(s.seq)
		if s.has(flagSYN) {
			s.flags &^= flagSYN
			cut--
			s.seq = s.seq.add(1)
		}
		if cut > len(s.payload) {
			cut = len(s.payload)
		}
		s.payload = s.payload[cut:]
		s.seq = s.seq.add(cut)
	}
	// Trim the back.
	if over := s.seq.add(len(s.payload)).diff(e.rcvNxt.add(wnd)); over > 0 {
		s.payload = s.payload[:len(s.payload)-over]
		s.flags &^= flagFIN
	}
	return true
}

// resetLocked handles an acceptable RST.
func (e *endpoint) resetLocked() {
	switch e.state {
	case stateSynRcvd:
		e.doneLocked(unix.ECONNREFUSED)
	case stateTimeWait:
		e.doneLocked(0)
	case stateClosing, stateLastAck:
		e.doneLocked(0)
	case stateCloseWait:
		e.proto.stats.EstabResets.Add(1)
		e.doneLocked(unix.EPIPE)
	default:
		e.proto.stats.EstabResets.Add(1)
		e.doneLocked(unix.ECONNRESET)
	}
}

// establishLocked enters ESTABLISHED.
func (e *endpoint) establishLocked() {
	e.state = stateEstablished
	e.retries = 0
	e.rtxTimer.disarm()
	e.persisting = false
	e.sndUna = e.iss.add(1)
	if e.keepalive {
		e.arm(&e.keepTimer, e.keepIdle, e.keepaliveTimeout)
	}
	e.wake(unix.EPOLLOUT | unix.EPOLLWRNORM)
}

// handleSynSentLocked is RFC 9293 section 3.10.7.3.
func (e *endpoint) handleSynSentLocked(s *segment) {
	if s.has(flagACK) && (s.ack.le(e.iss) || s.ack.gt(e.sndMax)) {
		e.proto.sendReset(s)
		return
	}
	if s.has(flagRST) {
		if s.has(flagACK) {
			e.doneLocked(unix.ECONNREFUSED)
		}
		return
	}
	if !s.has(flagSYN) {
		return
	}
	e.irs = s.seq
	e.rcvNxt = s.seq.add(1)
	e.negotiateLocked(&s.opts)
	e.lastRecv = e.now()
	if s.has(flagACK) {
		if e.retries == 0 && !e.rttStart.IsZero() {
			e.rttSampleLocked(e.now().Sub(e.rttStart))
		}
		e.rttTiming = false
		e.sndWnd = int(s.wnd)
		e.maxSndWnd = e.sndWnd
		e.sndWl1, e.sndWl2 = s.seq, s.ack
		e.establishLocked()
		e.quickAcks = 16
		e.sendACKLocked()
		e.outputLocked()
		return
	}
	// Simultaneous open.
	e.sndWnd = int(s.wnd)
	e.maxSndWnd = e.sndWnd
	e.sndWl1, e.sndWl2 = s.seq, e.iss
	e.state = stateSynRcvd
	e.sendSYNLocked()
}

// processAckLocked handles the ACK field; it reports false if the segment
// is to be dropped.
func (e *endpoint) processAckLocked(s *segment) bool {
	if s.ack.gt(e.sndMax) {
		e.sendACKLocked()
		return false
	}
	if s.ack.lt(e.sndUna.add(-max(e.maxSndWnd, 1<<16))) {
		// RFC 5961 section 5: too old, challenge.
		e.sendACKLocked()
		return false
	}
	e.lastAckRecv = e.now()
	if s.ack.lt(e.sndUna) {
		return true
	}
	wnd := int(s.wnd) << e.sndWS
	windowChanged := false
	if e.sndWl1.lt(s.seq) || e.sndWl1 == s.seq && e.sndWl2.le(s.ack) {
		windowChanged = wnd != e.sndWnd
		e.sndWnd = wnd
		e.maxSndWnd = max(e.maxSndWnd, wnd)
		e.sndWl1, e.sndWl2 = s.seq, s.ack
		if wnd > 0 && e.persisting {
			e.persisting = false
			e.rtxTimer.disarm()
			e.retries = 0
		}
	}
	if e.sackOK && s.opts.NumSACK > 0 {
		for i := 0; i < s.opts.NumSACK; i++ {
			b := s.opts.SACK[i]
			st, en := seqnum(b.Start), seqnum(b.End)
			if st.lt(en) && st.gt(s.ack) && en.le(e.sndMax) {
				e.sb.add(st, en)
			}
		}
	}
	// RTT from the timestamp echo.
	if e.tsOK && s.opts.HasTS && s.opts.TSEcr != 0 && s.ack.gt(e.sndUna) {
		if d := int32(e.tsVal() - s.opts.TSEcr); d >= 0 {
			e.rttSampleLocked(msDuration(int(d)))
		}
	}

	if s.ack.gt(e.sndUna) {
		e.newAckLocked(s.ack)
	} else if len(s.payload) == 0 && !s.has(flagFIN|flagSYN) && !windowChanged && e.sndUna != e.sndMax {
		e.dupAckLocked()
	}
	return e.state != stateClosed
}

// newAckLocked handles an ACK that advances snd.una.
func (e *endpoint) newAckLocked(ack seqnum) {
	acked := ack.diff(e.sndUna)
	if !e.tsOK && e.rttTiming && ack.ge(e.rttSeq) {
		e.rttTiming = false
		e.rttSampleLocked(e.now().Sub(e.rttStart))
	}
	e.bytesAcked += uint64(acked)
	// Drop acknowledged data from the send queue.
	dataEnd := e.sndQSeq.add(e.sndQ.Len())
	if n := seqMin(ack, dataEnd).diff(e.sndQSeq); n > 0 {
		e.sndQ.discard(n)
		e.sndQSeq = e.sndQSeq.add(n)
	}
	finAcked := e.finQueued && ack == dataEnd.add(1)
	e.sndUna = ack
	if e.sndNxt.lt(ack) {
		e.sndNxt = ack
	}
	e.sb.trim(ack)
	e.retries = 0
	e.firstRetransmit = time.Time{}

	// Congestion control.
	if e.inRecovery {
		if ack.ge(e.recoverSeq) {
			e.inRecovery = false
			e.cwnd = max(e.ssthresh, 2*e.mss)
			e.dupAcks = 0
		} else {
			// Partial ACK (RFC 6582): the next segment is lost too.
			if e.rexmitNext.lt(ack) {
				e.rexmitNext = ack
			}
			e.lostEnd = seqMax(e.lostEnd, seqMin(ack.add(e.mss), e.sndMax))
			e.dupAcks = 0
		}
	} else {
		e.dupAcks = 0
		e.cc.onAck(e, acked)
	}

	// Timers.
	if e.sndUna == e.sndMax {
		e.rtxTimer.disarm()
	} else {
		e.arm(&e.rtxTimer, e.rto, e.rtxTimeout)
	}
	if e.writableLocked() {
		e.wake(unix.EPOLLOUT | unix.EPOLLWRNORM)
	}

	if finAcked {
		switch e.state {
		case stateFinWait1:
			e.state = stateFinWait2
			if e.userClosed {
				e.arm(&e.waitTimer, e.finTimeoutLocked(), e.waitTimeout)
			}
		case stateClosing:
			e.enterTimeWaitLocked()
		case stateLastAck:
			e.doneLocked(0)
		}
	}
}

// dupAckLocked counts a duplicate ACK and enters fast recovery on the third
// (RFC 5681, RFC 6582), or when SACK shows three segments above a hole
// (RFC 6675).
func (e *endpoint) dupAckLocked() {
	e.dupAcks++
	if e.inRecovery {
		return
	}
	lost := e.dupAcks >= 3
	if e.sackOK && e.sb.sacked(e.sndUna, e.sndMax) >= 3*e.mss {
		lost = true
	}
	if !lost {
		return
	}
	e.inRecovery = true
	e.recoverSeq = e.sndMax
	e.ssthresh = e.cc.onLoss(e)
	e.cwnd = e.ssthresh
	e.rexmitNext = e.sndUna
	e.lostEnd = seqMax(e.sb.highEnd(e.sndUna), seqMin(e.sndUna.add(e.mss), e.sndMax))
	if !e.sackOK {
		e.dupAcks = 3
	}
}

// processDataLocked queues in-window data and handles the FIN.
func (e *endpoint) processDataLocked(s *segment) {
	fin := s.has(flagFIN)
	if s.seq != e.rcvNxt {
		// Out of order: keep it, and ACK at once with SACK blocks.
		if len(s.payload) > 0 && !e.ooo.insert(s.seq, s.payload) {
			e.proto.stats.OOODrops.Add(1)
		}
		if fin {
			e.oooFin = s.seq.add(len(s.payload))
			e.haveOOOFin = true
		}
		e.sendACKLocked()
		return
	}
	hadHoles := len(e.ooo.segs) > 0
	if len(s.payload) > 0 {
		e.deliverLocked(s.payload)
	}
	// Pull in what the new data made contiguous.
	for len(e.ooo.segs) > 0 {
		o := e.ooo.segs[0]
		if o.seq.gt(e.rcvNxt) {
			break
		}
		e.ooo.segs = e.ooo.segs[1:]
		e.ooo.bytes -= len(o.data)
		if skip := e.rcvNxt.diff(o.seq); skip < len(o.data) {
			e.deliverLocked(o.data[skip:])
		}
	}
	if len(e.ooo.segs) == 0 {
		e.ooo.segs = nil
	}
	if !fin && e.haveOOOFin && e.oooFin == e.rcvNxt {
		fin = true
	}
	if fin {
		e.haveOOOFin = false
		e.rcvNxt = e.rcvNxt.add(1)
		e.finRcvd, e.rcvShut = true, true
		e.wake(unix.EPOLLIN | unix.EPOLLRDNORM | unix.EPOLLRDHUP)
		switch e.state {
		case stateEstablished:
			e.state = stateCloseWait
		case stateFinWait1:
			e.state = stateClosing
		case stateFinWait2:
			e.enterTimeWaitLocked()
		}
		e.sendACKLocked()
		return
	}
	if len(s.payload) == 0 {
		return
	}
	e.ackPending++
	if hadHoles || e.quickAcks > 0 || e.quickack || e.ackPending >= 2 {
		if e.quickAcks > 0 {
			e.quickAcks--
		}
		e.sendACKLocked()
	}
}

// deliverLocked appends in-order data to the receive queue. An urgent
// byte stays in the stream (reads skip it); its arrival makes it valid
// for MSG_OOB and raises EPOLLPRI.
func (e *endpoint) deliverLocked(b []byte) {
	start := e.rcvNxt
	e.rcvNxt = e.rcvNxt.add(len(b))
	e.bytesReceived += uint64(len(b))
	e.lastDataRecv = e.now()
	e.rcvQ.push(b)
	ev := uint32(unix.EPOLLIN | unix.EPOLLRDNORM)
	if e.urg == urgNotYet && e.rcvUp.ge(start) && e.rcvUp.lt(e.rcvNxt) {
		e.urg = urgValid
		ev |= unix.EPOLLPRI
	}
	e.wake(ev)
}

// handleUrgLocked records the urgent pointer (the urgent byte is the one
// before it, as Linux and BSD read RFC 793), as Linux's tcp_check_urg.
func (e *endpoint) handleUrgLocked(s *segment) {
	up := s.seq.add(int(s.urg) - 1)
	copied := e.copiedSeqLocked()
	if copied.gt(up) || up.lt(e.rcvNxt) {
		return // already read, or a replay
	}
	if e.urg != urgNone && !up.gt(e.rcvUp) {
		return // not newer
	}
	if e.urg != urgNone && e.rcvUp == copied && !e.oobInline && e.rcvQ.Len() > 0 {
		// The old urgent byte is at the front: a new mark replaces it,
		// and it is dropped from the stream as a read would skip it.
		e.rcvQ.discard(1)
	}
	e.rcvUp = up
	e.urg = urgNotYet
	e.wake(unix.EPOLLPRI)
}

func (e *endpoint) enterTimeWaitLocked() {
	e.state = stateTimeWait
	e.rtxTimer.disarm()
	e.keepTimer.disarm()
	e.arm(&e.waitTimer, timeWaitTime, e.waitTimeout)
	e.wake(unix.EPOLLIN | unix.EPOLLHUP)
}

// waitTimeout ends TIME_WAIT, or an orphaned FIN_WAIT2.
func (e *endpoint) waitTimeout() {
	switch e.state {
	case stateTimeWait:
		e.doneLocked(0)
	case stateFinWait2:
		if e.userClosed {
			e.abortLocked()
		}
	}
}
