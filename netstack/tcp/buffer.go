package tcp

import "sync"

// byteQueue is a FIFO of bytes kept in chunks, so that appending and
// consuming never move the queued data. The send queue reads from it at an
// offset (for retransmission), the receive queue from the front.
type byteQueue struct {
	chunks [][]byte
	// head is the offset of the first byte in chunks[0].
	head int
	n    int
}

const maxChunk = 64 << 10

// chunkPool recycles full-size chunks. A bulk transfer would otherwise
// allocate (and the GC free, and the kernel fault in again) a new 64 KiB
// chunk for every 64 KiB sent and received. Nothing outside a byteQueue
// keeps a chunk: reads copy out of it.
var chunkPool = sync.Pool{New: func() any { return new([maxChunk]byte) }}

// Len is the number of queued bytes.
func (q *byteQueue) Len() int { return q.n }

// push appends a copy of b.
func (q *byteQueue) push(b []byte) {
	q.n += len(b)
	for len(b) > 0 {
		if k := len(q.chunks); k > 0 {
			last := q.chunks[k-1]
			if room := cap(last) - len(last); room > 0 {
				m := min(room, len(b))
				q.chunks[k-1] = append(last, b[:m]...)
				b = b[m:]
				continue
			}
		}
		if len(b) >= maxChunk/2 {
			q.chunks = append(q.chunks, chunkPool.Get().(*[maxChunk]byte)[:0:maxChunk])
			continue
		}
		q.chunks = append(q.chunks, make([]byte, 0, max(4096, len(b))))
	}
}

// copyAt copies bytes from offset off into dst and returns the count.
func (q *byteQueue) copyAt(off int, dst []byte) int {
	n := 0
	off += q.head
	for _, c := range q.chunks {
		if len(dst) == n {
			break
		}
		if off >= len(c) {
			off -= len(c)
			continue
		}
		n += copy(dst[n:], c[off:])
		off = 0
	}
	return n
}

// discard drops n bytes from the front.
func (q *byteQueue) discard(n int) {
	n = min(n, q.n)
	q.n -= n
	for n > 0 {
		c := q.chunks[0]
		avail := len(c) - q.head
		if n < avail {
			q.head += n
			return
		}
		n -= avail
		if cap(c) == maxChunk {
			chunkPool.Put((*[maxChunk]byte)(c[:maxChunk]))
		}
		q.chunks[0] = nil
		q.chunks = q.chunks[1:]
		q.head = 0
	}
	if q.n == 0 {
		if len(q.chunks) == 1 && q.head == len(q.chunks[0]) {
			q.chunks[0] = q.chunks[0][:0]
			q.head = 0
		}
		if len(q.chunks) == 0 {
			q.chunks = nil
		}
	}
}

// oooSeg is a segment received ahead of rcvNxt.
type oooSeg struct {
	seq  seqnum
	data []byte
}

func (s *oooSeg) end() seqnum { return s.seq.add(len(s.data)) }

// maxOOOSegs bounds the out-of-order queue's length: a peer sending tiny
// segments into the window's holes gets them dropped beyond it.
const maxOOOSegs = 512

// oooQueue holds out-of-order data sorted by sequence number, with no byte
// stored twice. Its size is bounded by the receive window (data beyond the
// advertised window is trimmed before it gets here) and maxOOOSegs.
type oooQueue struct {
	segs  []oooSeg
	bytes int
	// last is the start of the most recently added segment, the first SACK
	// block (RFC 2018 section 4).
	last seqnum
}

// insert adds a copy of the parts of data at seq that are not already held;
// it reports false if the queue was full.
func (q *oooQueue) insert(seq seqnum, data []byte) bool {
	q.last = seq
	i := 0
	for len(data) > 0 {
		// Skip segments entirely before the remaining data.
		for i < len(q.segs) && q.segs[i].end().le(seq) {
			i++
		}
		if i < len(q.segs) && q.segs[i].seq.le(seq) {
			// The start is covered: trim it.
			cut := q.segs[i].end().diff(seq)
			if cut >= len(data) {
				return true
			}
			data = data[cut:]
			seq = seq.add(cut)
			continue
		}
		// The remaining data starts in a gap before segs[i] (or at the end).
		n := len(data)
		if i < len(q.segs) {
			n = min(n, q.segs[i].seq.diff(seq))
		}
		if len(q.segs) >= maxOOOSegs {
			return false
		}
		piece := oooSeg{seq: seq, data: append([]byte(nil), data[:n]...)}
		q.segs = append(q.segs, oooSeg{})
		copy(q.segs[i+1:], q.segs[i:])
		q.segs[i] = piece
		q.bytes += n
		i++
		data = data[n:]
		seq = seq.add(n)
	}
	return true
}

// sackBlocks fills blocks with the merged ranges held, the one holding the
// most recent arrival first; it returns the count.
func (q *oooQueue) sackBlocks(blocks []sackRange) int {
	var ranges [maxSACKGen]sackRange
	first := -1
	n := 0
	for i := 0; i < len(q.segs); {
		r := sackRange{q.segs[i].seq, q.segs[i].end()}
		j := i + 1
		for j < len(q.segs) && q.segs[j].seq == r.end {
			r.end = q.segs[j].end()
			j++
		}
		contains := q.last.ge(r.start) && q.last.lt(r.end)
		if contains {
			first = n
		}
		if n < len(ranges) {
			ranges[n] = r
			n++
		} else if contains {
			ranges[n-1] = r
			first = n - 1
		}
		i = j
	}
	k := 0
	if first >= 0 && len(blocks) > 0 {
		blocks[0] = ranges[first]
		k = 1
	}
	for i := 0; i < n && k < len(blocks); i++ {
		if i != first {
			blocks[k] = ranges[i]
			k++
		}
	}
	return k
}

// maxSACKGen is how many ranges are considered when building SACK blocks.
const maxSACKGen = 8

// sackRange is a range of sequence numbers [start, end).
type sackRange struct {
	start, end seqnum
}

// maxScoreboard bounds the ranges a sender remembers as SACKed.
const maxScoreboard = 64

// scoreboard is the sender's record of SACKed ranges above snd.una, sorted
// and merged (RFC 6675).
type scoreboard struct {
	ranges []sackRange
}

// add records [start, end) as SACKed.
func (s *scoreboard) add(start, end seqnum) {
	r := sackRange{start, end}
	out := s.ranges[:0:0]
	placed := false
	for _, x := range s.ranges {
		switch {
		case x.end.lt(r.start):
			out = append(out, x)
		case r.end.lt(x.start):
			if !placed {
				out = append(out, r)
				placed = true
			}
			out = append(out, x)
		default:
			r.start = seqMin(r.start, x.start)
			r.end = seqMax(r.end, x.end)
		}
	}
	if !placed {
		out = append(out, r)
	}
	if len(out) > maxScoreboard {
		// Forget the highest ranges: at worst they are retransmitted.
		out = out[:maxScoreboard]
	}
	s.ranges = out
}

// trim forgets everything below una.
func (s *scoreboard) trim(una seqnum) {
	i := 0
	for i < len(s.ranges) && s.ranges[i].end.le(una) {
		i++
	}
	s.ranges = s.ranges[i:]
	if len(s.ranges) > 0 && s.ranges[0].start.lt(una) {
		s.ranges[0].start = una
	}
	if len(s.ranges) == 0 {
		s.ranges = nil
	}
}

// sacked returns the SACKed bytes in [lo, hi).
func (s *scoreboard) sacked(lo, hi seqnum) int {
	n := 0
	for _, r := range s.ranges {
		a, b := seqMax(r.start, lo), seqMin(r.end, hi)
		if a.lt(b) {
			n += b.diff(a)
		}
	}
	return n
}

// highEnd is the end of the highest SACKed range, or una if none.
func (s *scoreboard) highEnd(una seqnum) seqnum {
	if len(s.ranges) == 0 {
		return una
	}
	return s.ranges[len(s.ranges)-1].end
}

// covering returns the range holding seq, if any.
func (s *scoreboard) covering(seq seqnum) (sackRange, bool) {
	for _, r := range s.ranges {
		if seq.ge(r.start) && seq.lt(r.end) {
			return r, true
		}
	}
	return sackRange{}, false
}

// nextStart returns the start of the first range beginning after seq, or
// limit.
func (s *scoreboard) nextStart(seq, limit seqnum) seqnum {
	for _, r := range s.ranges {
		if r.start.gt(seq) {
			return seqMin(r.start, limit)
		}
	}
	return limit
}
