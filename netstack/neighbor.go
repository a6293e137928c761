package netstack

import (
	"net/netip"
	"sync"
	"time"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// Neighbour table bounds and times (Linux's defaults where it has one:
// gc_thresh3, unres_qlen, mcast_solicit, retrans_time, base_reachable).
const (
	neighMaxEntries = 1024
	// neighMaxPendingBytes bounds what is queued for one unresolved
	// neighbour, in bytes like Linux's unres_qlen_bytes (SK_WMEM_MAX):
	// a count bound (Linux's old unres_qlen of 3, or 32) loses the first
	// fragments of a 64 KiB datagram sent before resolution finishes.
	// Each packet is charged neighPendingOverhead on top of its length,
	// as Linux charges an skb's truesize, so tiny packets are bounded in
	// number too (at most neighMaxPendingBytes/neighPendingOverhead).
	neighMaxPendingBytes = 212992
	neighPendingOverhead = 256
	// neighMaxProbes solicitations are sent, neighRetrans apart, before
	// resolution fails.
	neighMaxProbes = 3
	neighRetrans   = time.Second
	// neighReachable is how long an answer is trusted; after it the
	// entry is still used, but the next packet probes again.
	neighReachable = 30 * time.Second
	// neighGC removes an entry not confirmed for this long.
	neighGC = 5 * time.Minute
	// neighTick is the timer's period.
	neighTick = 200 * time.Millisecond
)

type pendingPacket struct {
	etherType uint16
	pkt       []byte
}

// neighbor is one entry (Linux: struct neighbour).
type neighbor struct {
	mac      header.MAC
	resolved bool
	// confirmed is when the address was last confirmed (resolved
	// entries); next is when to probe again (unresolved entries).
	confirmed, next time.Time
	probes          int
	pending         []pendingPacket
	pendingBytes    int
}

// neighborTable maps next hops to link addresses (ARP and NDP share it).
type neighborTable struct {
	mu sync.Mutex
	m  map[netip.Addr]*neighbor
}

func (t *neighborTable) init() { t.m = make(map[netip.Addr]*neighbor) }

// lookup returns addr's MAC if known. Otherwise pkt is queued (bounded) and
// probe says whether the caller should solicit now (a new entry). A
// resolved entry older than neighReachable is used and probed again.
func (t *neighborTable) lookup(e *Ethernet, addr netip.Addr, etherType uint16, pkt []byte) (mac header.MAC, ok, probe bool) {
	now := e.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.m[addr]
	if n != nil && n.resolved {
		if now.Sub(n.confirmed) > neighReachable && now.After(n.next) {
			n.next = now.Add(neighRetrans)
			probe = true
		}
		return n.mac, true, probe
	}
	if n == nil {
		if len(t.m) >= neighMaxEntries && !t.evictLocked(now) {
			e.Stats.NeighTableFull.Add(1)
			e.Stats.NeighQueueDrops.Add(1)
			return mac, false, false
		}
		n = &neighbor{next: now.Add(neighRetrans), probes: 1}
		t.m[addr] = n
		probe = true
	}
	cost := len(pkt) + neighPendingOverhead
	if cost > neighMaxPendingBytes {
		e.Stats.NeighQueueDrops.Add(1)
		return mac, false, probe
	}
	for len(n.pending) > 0 && n.pendingBytes+cost > neighMaxPendingBytes {
		// Linux drops the oldest; so do we.
		e.Stats.NeighQueueDrops.Add(1)
		n.pendingBytes -= len(n.pending[0].pkt) + neighPendingOverhead
		n.pending = n.pending[1:]
	}
	n.pending = append(n.pending, pendingPacket{etherType, pkt})
	n.pendingBytes += cost
	return mac, false, probe
}

// evictLocked removes one entry that is neither resolved recently nor
// being resolved, and reports whether it found one.
func (t *neighborTable) evictLocked(now time.Time) bool {
	for a, n := range t.m {
		if n.resolved && now.Sub(n.confirmed) > neighReachable {
			delete(t.m, a)
			return true
		}
	}
	return false
}

// learn records that addr is at mac. create makes a new entry (a request
// or solicitation addressed to us); otherwise only an existing entry is
// updated (an unsolicited answer cannot fill the table). Packets waiting
// for addr are sent.
func (t *neighborTable) learn(e *Ethernet, addr netip.Addr, mac header.MAC, create bool) {
	now := e.now()
	t.mu.Lock()
	n := t.m[addr]
	if n == nil {
		if !create || (len(t.m) >= neighMaxEntries && !t.evictLocked(now)) {
			t.mu.Unlock()
			return
		}
		n = &neighbor{}
		t.m[addr] = n
	}
	n.mac, n.resolved, n.confirmed, n.probes = mac, true, now, 0
	pending := n.pending
	n.pending, n.pendingBytes = nil, 0
	t.mu.Unlock()
	for _, p := range pending {
		_ = e.send(mac, p.etherType, p.pkt)
	}
}

// tick probes unresolved entries again, fails those out of probes
// (dropping their packets) and forgets old ones.
func (t *neighborTable) tick(e *Ethernet) {
	now := e.now()
	type probe struct {
		addr netip.Addr
		pkt  []byte
	}
	var probes []probe
	t.mu.Lock()
	for a, n := range t.m {
		switch {
		case n.resolved:
			if now.Sub(n.confirmed) > neighGC {
				delete(t.m, a)
			}
		case now.Before(n.next):
		case n.probes >= neighMaxProbes:
			e.Stats.NeighFailed.Add(1)
			e.Stats.NeighQueueDrops.Add(uint64(len(n.pending)))
			delete(t.m, a)
		default:
			n.probes++
			n.next = now.Add(neighRetrans)
			var pkt []byte
			if len(n.pending) > 0 {
				pkt = n.pending[0].pkt
			}
			probes = append(probes, probe{a, pkt})
		}
	}
	t.mu.Unlock()
	for _, p := range probes {
		e.solicit(p.addr, p.pkt, netip.Addr{})
	}
}

// Neighbor returns the link address recorded for addr and whether it is
// resolved (for tests and diagnostics).
func (e *Ethernet) Neighbor(addr netip.Addr) (header.MAC, bool) {
	e.neigh.mu.Lock()
	defer e.neigh.mu.Unlock()
	if n := e.neigh.m[addr]; n != nil && n.resolved {
		return n.mac, true
	}
	return header.MAC{}, false
}
