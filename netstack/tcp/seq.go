package tcp

// seqnum is a TCP sequence number; comparisons are modulo 2^32 (RFC 9293
// section 3.4).
type seqnum uint32

func (a seqnum) lt(b seqnum) bool { return int32(a-b) < 0 }
func (a seqnum) le(b seqnum) bool { return int32(a-b) <= 0 }
func (a seqnum) gt(b seqnum) bool { return int32(a-b) > 0 }
func (a seqnum) ge(b seqnum) bool { return int32(a-b) >= 0 }

// add returns a+n.
func (a seqnum) add(n int) seqnum { return a + seqnum(uint32(n)) }

// diff returns a-b as a signed distance.
func (a seqnum) diff(b seqnum) int { return int(int32(a - b)) }

// inWindow reports whether lo <= a < lo+size.
func (a seqnum) inWindow(lo seqnum, size int) bool {
	return a.ge(lo) && a.lt(lo.add(size))
}

func seqMax(a, b seqnum) seqnum {
	if a.gt(b) {
		return a
	}
	return b
}

func seqMin(a, b seqnum) seqnum {
	if a.lt(b) {
		return a
	}
	return b
}
