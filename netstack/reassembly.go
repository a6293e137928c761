package netstack

import (
	"net/netip"
	"sync"
	"time"
)

// Reassembly bounds (Linux: net.ipv4.ipfrag_high_thresh, ipfrag_time).
const (
	reasmMaxBytes   = 4 << 20
	reasmMaxEntries = 1024
	reasmTimeout    = 30 * time.Second
	reasmMaxLen     = 65535
	// fragOverhead is charged per held fragment on top of its bytes, so
	// that many tiny fragments also count against reasmMaxBytes.
	fragOverhead = 64
)

// reasmKey identifies the fragments of one datagram.
type reasmKey struct {
	v6       bool
	src, dst netip.Addr
	id       uint32
	proto    uint8
}

type fragment struct {
	off  int
	data []byte
}

type reasmEntry struct {
	frags []fragment
	// bytes is the data in frags, held what they are charged; total the
	// datagram's length, -1 until the last fragment is seen.
	bytes, held, total int
	timer              Timer
}

// reassembler puts IPv4 and IPv6 fragments back together, holding at most
// reasmMaxBytes in at most reasmMaxEntries datagrams, each dropped after
// reasmTimeout. An overlapping fragment drops its whole datagram (RFC 5722).
type reassembler struct {
	s       *Stack
	mu      sync.Mutex
	entries map[reasmKey]*reasmEntry
	held    int
}

func newReassembler(s *Stack) *reassembler {
	return &reassembler{s: s, entries: make(map[reasmKey]*reasmEntry)}
}

// add adds a fragment at off; it returns the whole payload once complete,
// or nil.
func (r *reassembler) add(key reasmKey, off int, more bool, data []byte) []byte {
	st := &r.s.Stats
	st6 := &r.s.mib.V6 // only for IPv6 datagrams
	if !key.v6 {
		st6 = &discardStats
	}
	if len(data) == 0 || off+len(data) > reasmMaxLen || (more && len(data)%8 != 0) {
		st.ReasmFails.Add(1)
		st6.ReasmFails.Add(1)
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[key]
	if e == nil {
		if len(r.entries) >= reasmMaxEntries {
			st.ReasmFails.Add(1)
			st6.ReasmFails.Add(1)
			return nil
		}
		e = &reasmEntry{total: -1}
		r.entries[key] = e
		e.timer = r.s.AfterFunc(reasmTimeout, func() {
			r.mu.Lock()
			defer r.mu.Unlock()
			if r.entries[key] == e {
				r.dropLocked(key, e)
				st.ReasmFails.Add(1)
				st6.ReasmFails.Add(1)
			}
		})
	}
	cost := len(data) + fragOverhead
	if r.held+cost > reasmMaxBytes {
		st.ReasmFails.Add(1)
		st6.ReasmFails.Add(1)
		return nil
	}
	end := off + len(data)
	bad := !more && (e.total >= 0 && e.total != end) || e.total >= 0 && end > e.total
	for _, f := range e.frags {
		if off < f.off+len(f.data) && f.off < end {
			bad = true
		}
		if !more && f.off+len(f.data) > end {
			bad = true
		}
	}
	if bad {
		r.dropLocked(key, e)
		st.ReasmFails.Add(1)
		st6.ReasmFails.Add(1)
		return nil
	}
	e.frags = append(e.frags, fragment{off, data})
	e.held += cost
	e.bytes += len(data)
	r.held += cost
	if !more {
		e.total = end
	}
	if e.total < 0 || e.bytes != e.total {
		return nil
	}
	out := make([]byte, e.total)
	for _, f := range e.frags {
		copy(out[f.off:], f.data)
	}
	r.dropLocked(key, e)
	st.ReasmOKs.Add(1)
	st6.ReasmOKs.Add(1)
	return out
}

func (r *reassembler) dropLocked(key reasmKey, e *reasmEntry) {
	e.timer.Stop()
	r.held -= e.held
	delete(r.entries, key)
}
