package netstack

import (
	"net/netip"
	"slices"
	"sync/atomic"

	"github.com/palisade-sandbox/palisade/netstack/header"
)

// NICCounters count one interface's packets and bytes (IP packets as the
// link carries them; /proc/net/dev).
type NICCounters struct {
	RxPackets, RxBytes, TxPackets, TxBytes, TxDrops atomic.Uint64
}

// InterfaceInfo describes an interface for /proc/net and the interface
// ioctls: a snapshot.
type InterfaceInfo struct {
	ID       int32
	Name     string
	Up       bool
	Loopback bool
	MTU      int
	// Addrs are the assigned addresses with their prefix lengths.
	Addrs []netip.Prefix
	// LinkAddr is the link-layer (MAC) address; nil for a link without
	// one (loopback).
	LinkAddr []byte
	// RxPackets ... TxDrops are the counters at the time of the snapshot.
	RxPackets, RxBytes, TxPackets, TxBytes, TxDrops uint64
}

// Interfaces returns a snapshot of the stack's interfaces, by index.
func (s *Stack) Interfaces() []InterfaceInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]InterfaceInfo, 0, len(s.nics))
	for _, n := range s.nics {
		out = append(out, InterfaceInfo{
			ID: n.ID, Name: n.Name, Up: n.up.Load(), Loopback: n.link.IsLoopback(), MTU: n.mtuLocked(),
			Addrs:     slices.Clone(n.addrs),
			RxPackets: n.counters.RxPackets.Load(), RxBytes: n.counters.RxBytes.Load(),
			TxPackets: n.counters.TxPackets.Load(), TxBytes: n.counters.TxBytes.Load(),
			TxDrops: n.counters.TxDrops.Load(),
		})
		if e, ok := n.link.(interface{ MAC() header.MAC }); ok {
			m := e.MAC()
			out[len(out)-1].LinkAddr = m[:]
		}
	}
	slices.SortFunc(out, func(a, b InterfaceInfo) int { return int(a.ID) - int(b.ID) })
	return out
}

// Routes returns a copy of the routing table.
func (s *Stack) Routes() []RouteEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.routes)
}
