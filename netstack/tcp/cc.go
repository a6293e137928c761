package tcp

import (
	"math"
	"time"
)

// congestionControl is a congestion control algorithm working on the
// endpoint's cwnd and ssthresh (bytes). The caller holds the endpoint's
// lock.
type congestionControl interface {
	name() string
	// onAck grows cwnd for acked bytes outside recovery.
	onAck(e *endpoint, acked int)
	// onLoss returns the new ssthresh when fast retransmit starts.
	onLoss(e *endpoint) int
	// onRTO collapses the window after a retransmission timeout.
	onRTO(e *endpoint)
}

func newCC(name string) congestionControl {
	if name == "reno" {
		return &reno{}
	}
	return &cubic{}
}

// validCC reports whether name is an algorithm TCP_CONGESTION accepts.
func validCC(name string) bool { return name == "reno" || name == "cubic" }

func flightLocked(e *endpoint) int { return e.sndMax.diff(e.sndUna) }

// reno is NewReno (RFC 5681, RFC 6582; the recovery itself is in the
// endpoint).
type reno struct{}

func (*reno) name() string { return "reno" }

func (*reno) onAck(e *endpoint, acked int) {
	if e.cwnd < e.ssthresh {
		// Slow start with appropriate byte counting (RFC 3465, L=2).
		e.cwnd += min(acked, 2*e.mss)
		return
	}
	e.caAcked += acked
	if e.caAcked >= e.cwnd {
		e.caAcked -= e.cwnd
		e.cwnd += e.mss
	}
}

func (*reno) onLoss(e *endpoint) int { return max(flightLocked(e)/2, 2*e.mss) }

func (*reno) onRTO(e *endpoint) {
	e.ssthresh = max(flightLocked(e)/2, 2*e.mss)
	e.cwnd = e.mss
	e.caAcked = 0
}

// cubic is CUBIC (RFC 9438), in units of segments.
type cubic struct {
	wMax    float64
	k       float64
	epoch   time.Time
	originW float64
	wEst    float64
}

const (
	cubicC    = 0.4
	cubicBeta = 0.7
)

func (*cubic) name() string { return "cubic" }

func (c *cubic) onAck(e *endpoint, acked int) {
	if e.cwnd < e.ssthresh {
		e.cwnd += min(acked, 2*e.mss)
		return
	}
	now := e.now()
	mss := float64(e.mss)
	cw := float64(e.cwnd) / mss
	if c.epoch.IsZero() {
		c.epoch = now
		c.wEst = cw
		if cw < c.wMax {
			c.k = math.Cbrt((c.wMax - cw) / cubicC)
			c.originW = c.wMax
		} else {
			c.k = 0
			c.originW = cw
		}
	}
	rtt := e.srtt
	if rtt == 0 {
		rtt = 100 * time.Millisecond
	}
	t := (now.Sub(c.epoch) + rtt).Seconds()
	target := c.originW + cubicC*math.Pow(t-c.k, 3)
	// The Reno-friendly estimate (RFC 9438 section 4.3).
	c.wEst += 3 * (1 - cubicBeta) / (1 + cubicBeta) * float64(acked) / mss / cw
	if c.wEst > target {
		target = c.wEst
	}
	if target > cw {
		// Grow by (target-cwnd)/cwnd segments per segment acked, capped at
		// 1.5x per RTT.
		inc := min((target-cw)/cw, 0.5) * float64(acked)
		e.caAcked += int(inc)
		if e.caAcked >= e.mss {
			e.cwnd += e.caAcked / e.mss * e.mss
			e.caAcked %= e.mss
		}
	} else {
		// Plateau: grow very slowly (one segment per 100 RTTs' worth).
		e.caAcked += acked / 100
		if e.caAcked >= e.cwnd {
			e.caAcked = 0
			e.cwnd += e.mss
		}
	}
}

func (c *cubic) lossLocked(e *endpoint) {
	cw := float64(e.cwnd) / float64(e.mss)
	// Fast convergence.
	if cw < c.wMax {
		c.wMax = cw * (1 + cubicBeta) / 2
	} else {
		c.wMax = cw
	}
	c.epoch = time.Time{}
}

func (c *cubic) onLoss(e *endpoint) int {
	c.lossLocked(e)
	return max(int(float64(e.cwnd)*cubicBeta), 2*e.mss)
}

func (c *cubic) onRTO(e *endpoint) {
	c.lossLocked(e)
	e.ssthresh = max(int(float64(e.cwnd)*cubicBeta), 2*e.mss)
	e.cwnd = e.mss
	e.caAcked = 0
}
