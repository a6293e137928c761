package inet

import (
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/tcp"
	"github.com/palisade-sandbox/palisade/netstack/udp"
)

// This file builds /proc/net/snmp, netstat and snmp6 from the stack's
// counters (netstack.Stats and MIB, tcp.Stats, udp.Stats) in Linux 6.x's
// layouts: every column Linux prints, with 0 where the stack has no such
// event or does not count it. IPv4 columns are the stack's totals less
// their IPv6 share.

// mib is one group of counters: names and values in order.
type mib struct {
	names []string
	vals  []int64
}

func (m *mib) add(name string, v uint64) {
	m.names = append(m.names, name)
	m.vals = append(m.vals, int64(v))
}

// addSigned adds a value that may be negative (Tcp MaxConn).
func (m *mib) addSigned(name string, v int64) {
	m.names = append(m.names, name)
	m.vals = append(m.vals, v)
}

// zeros adds the named counters, all 0.
func (m *mib) zeros(names ...string) {
	for _, n := range names {
		m.add(n, 0)
	}
}

// pair writes m as /proc/net/snmp and netstat do: a header line and a
// value line, both starting with "prefix:".
func (m *mib) pair(b *strings.Builder, prefix string) {
	b.WriteString(prefix + ":")
	for _, n := range m.names {
		b.WriteString(" " + n)
	}
	b.WriteString("\n" + prefix + ":")
	for _, v := range m.vals {
		fmt.Fprintf(b, " %d", v)
	}
	b.WriteByte('\n')
}

// column writes m as /proc/net/snmp6 does: one "name\tvalue" line per
// counter, the name padded to 32 columns and prefixed.
func (m *mib) column(b *strings.Builder, prefix string) {
	for i, n := range m.names {
		fmt.Fprintf(b, "%-32s\t%d\n", prefix+n, m.vals[i])
	}
}

// mibCounters are the counters the files are built from, read once.
type mibCounters struct {
	all, v6 *netstack.Stats
	ext     *netstack.MIBStats
	tcp     *tcp.Stats
	estab   uint64
	udp     *udp.Protocol
	lite    *udp.Protocol
}

// counters collects the stack's counters (zeros for a transport that is
// not registered).
func counters(s *netstack.Stack) mibCounters {
	c := mibCounters{all: &s.Stats, v6: &s.MIB().V6, ext: s.MIB(), tcp: new(tcp.Stats), udp: new(udp.Protocol), lite: new(udp.Protocol)}
	if p, ok := s.Transport(unix.IPPROTO_TCP).(*tcp.Protocol); ok {
		c.tcp, c.estab = p.Stats(), p.CurrEstab()
	}
	if p, ok := s.Transport(unix.IPPROTO_UDP).(*udp.Protocol); ok {
		c.udp = p
	}
	if p, ok := s.Transport(unix.IPPROTO_UDPLITE).(*udp.Protocol); ok {
		c.lite = p
	}
	return c
}

// v4 returns the IPv4 share of counter f: the total less IPv6's.
func (c mibCounters) v4(f func(*netstack.Stats) *atomic.Uint64) uint64 {
	all, v6 := f(c.all).Load(), f(c.v6).Load()
	if v6 > all { // read at different times
		return 0
	}
	return all - v6
}

// typeCount returns the count of ICMP type t.
func typeCount(a *[256]atomic.Uint64, t uint8) uint64 { return a[t].Load() }

// snmp writes /proc/net/snmp.
func snmp(b *strings.Builder, s *netstack.Stack) {
	c := counters(s)
	var ip mib
	ip.add("Forwarding", 2) // not a router
	ip.add("DefaultTTL", netstack.DefaultTTL)
	ip.add("InReceives", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPInReceives }))
	ip.add("InHdrErrors", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPInHdrErrors }))
	ip.add("InAddrErrors", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPInAddrErrors }))
	ip.add("ForwDatagrams", 0)
	ip.add("InUnknownProtos", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPInUnknownProtos }))
	ip.add("InDiscards", 0)
	ip.add("InDelivers", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPInDelivers }))
	ip.add("OutRequests", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPOutRequests }))
	ip.add("OutDiscards", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPOutDiscards }))
	ip.add("OutNoRoutes", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPOutNoRoutes }))
	ip.add("ReasmTimeout", 0)
	ip.add("ReasmReqds", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.ReasmReqds }))
	ip.add("ReasmOKs", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.ReasmOKs }))
	ip.add("ReasmFails", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.ReasmFails }))
	ip.add("FragOKs", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.FragOKs }))
	ip.add("FragFails", 0)
	ip.add("FragCreates", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.FragCreates }))
	ip.add("OutTransmits", c.ext.OutTransmits[0].Load())
	ip.pair(b, "Ip")

	in, out := &c.ext.ICMP4.In, &c.ext.ICMP4.Out
	var outMsgs uint64
	for i := range out {
		outMsgs += out[i].Load()
	}
	var icmp mib
	icmp.add("InMsgs", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.ICMPInMsgs }))
	icmp.add("InErrors", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.ICMPInErrors }))
	icmp.add("InCsumErrors", 0)
	// ICMPv4 types: destination unreachable, time exceeded, parameter
	// problem, source quench, redirect, echo, echo reply, timestamp,
	// timestamp reply, address mask, address mask reply.
	types := []uint8{3, 11, 12, 4, 5, 8, 0, 13, 14, 17, 18}
	names := []string{"DestUnreachs", "TimeExcds", "ParmProbs", "SrcQuenchs", "Redirects", "Echos", "EchoReps", "Timestamps", "TimestampReps", "AddrMasks", "AddrMaskReps"}
	for i, t := range types {
		icmp.add("In"+names[i], typeCount(in, t))
	}
	icmp.add("OutMsgs", outMsgs)
	icmp.add("OutErrors", 0)
	icmp.add("OutRateLimitGlobal", c.all.ICMPOutRateLimited.Load())
	icmp.add("OutRateLimitHost", 0)
	for i, t := range types {
		icmp.add("Out"+names[i], typeCount(out, t))
	}
	icmp.pair(b, "Icmp")
	icmpMsg(b, in, out)

	var t mib
	t.add("RtoAlgorithm", 1)
	t.add("RtoMin", 200)
	t.add("RtoMax", 120000)
	t.addSigned("MaxConn", -1)
	t.add("ActiveOpens", c.tcp.ActiveOpens.Load())
	t.add("PassiveOpens", c.tcp.PassiveOpens.Load())
	t.add("AttemptFails", c.tcp.AttemptFails.Load())
	t.add("EstabResets", c.tcp.EstabResets.Load())
	t.add("CurrEstab", c.estab)
	t.add("InSegs", c.tcp.SegsIn.Load())
	t.add("OutSegs", c.tcp.SegsOut.Load())
	t.add("RetransSegs", c.tcp.RetransSegs.Load())
	t.add("InErrs", c.tcp.InErrs.Load())
	t.add("OutRsts", c.tcp.OutRsts.Load())
	t.add("InCsumErrors", 0)
	t.pair(b, "Tcp")

	u := udpMIB(&c.udp.Stats, &c.udp.V6, false, true)
	u.pair(b, "Udp")
	lite := udpMIB(&c.lite.Stats, &c.lite.V6, false, true)
	lite.pair(b, "UdpLite")
}

// udpMIB returns the Udp counters: IPv4's share of all (v6 is the IPv6
// share) or, with v6only, v6's (all nil: zeros). ignoredMulti says whether the IgnoredMulti column is
// present (UdpLite6 lacks it).
func udpMIB(all, v6 *udp.Stats, v6only, ignoredMulti bool) mib {
	get := func(f func(*udp.Stats) *atomic.Uint64) uint64 {
		if all == nil && v6 == nil {
			return 0
		}
		if v6only {
			return f(v6).Load()
		}
		a, b := f(all).Load(), f(v6).Load()
		if b > a {
			return 0
		}
		return a - b
	}
	var m mib
	m.add("InDatagrams", get(func(s *udp.Stats) *atomic.Uint64 { return &s.InDatagrams }))
	m.add("NoPorts", get(func(s *udp.Stats) *atomic.Uint64 { return &s.NoPorts }))
	m.add("InErrors", get(func(s *udp.Stats) *atomic.Uint64 { return &s.InErrors }))
	m.add("OutDatagrams", get(func(s *udp.Stats) *atomic.Uint64 { return &s.OutDatagrams }))
	m.add("RcvbufErrors", get(func(s *udp.Stats) *atomic.Uint64 { return &s.RcvbufErrors }))
	m.zeros("SndbufErrors", "InCsumErrors")
	if ignoredMulti {
		m.zeros("IgnoredMulti")
	}
	m.zeros("MemErrors")
	return m
}

// icmpMsgPerLine is how many counters one IcmpMsg line pair holds
// (Linux: PERLINE in icmpmsg_put).
const icmpMsgPerLine = 16

// icmpMsg writes the IcmpMsg line pairs: the non-zero counts by type,
// received types first; nothing if all are 0.
func icmpMsg(b *strings.Builder, in, out *[256]atomic.Uint64) {
	var m mib
	for t := range in {
		if v := in[t].Load(); v != 0 {
			m.add(fmt.Sprintf("InType%d", t), v)
		}
	}
	for t := range out {
		if v := out[t].Load(); v != 0 {
			m.add(fmt.Sprintf("OutType%d", t), v)
		}
	}
	for i := 0; i < len(m.names); i += icmpMsgPerLine {
		j := min(i+icmpMsgPerLine, len(m.names))
		part := mib{names: m.names[i:j], vals: m.vals[i:j]}
		part.pair(b, "IcmpMsg")
	}
}

// tcpExtNames are the TcpExt columns of Linux 6.x, in order.
var tcpExtNames = strings.Fields(`SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled
RcvPruned OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled PAWSActive PAWSEstab
BeyondWindow TSEcrRejected PAWSOldAck PAWSTimewait DelayedACKs DelayedACKLocked DelayedACKLost ListenOverflows
ListenDrops TCPHPHits TCPPureAcks TCPHPAcks TCPRenoRecovery TCPSackRecovery TCPSACKReneging TCPSACKReorder
TCPRenoReorder TCPTSReorder TCPFullUndo TCPPartialUndo TCPDSACKUndo TCPLossUndo TCPLostRetransmit
TCPRenoFailures TCPSackFailures TCPLossFailures TCPFastRetrans TCPSlowStartRetrans TCPTimeouts TCPLossProbes
TCPLossProbeRecovery TCPRenoRecoveryFail TCPSackRecoveryFail TCPRcvCollapsed TCPBacklogCoalesce
TCPDSACKOldSent TCPDSACKOfoSent TCPDSACKRecv TCPDSACKOfoRecv TCPAbortOnData TCPAbortOnClose
TCPAbortOnMemory TCPAbortOnTimeout TCPAbortOnLinger TCPAbortFailed TCPMemoryPressures
TCPMemoryPressuresChrono TCPSACKDiscard TCPDSACKIgnoredOld TCPDSACKIgnoredNoUndo TCPSpuriousRTOs
TCPMD5NotFound TCPMD5Unexpected TCPMD5Failure TCPSackShifted TCPSackMerged TCPSackShiftFallback
TCPBacklogDrop PFMemallocDrop TCPMinTTLDrop TCPDeferAcceptDrop IPReversePathFilter TCPTimeWaitOverflow
TCPReqQFullDoCookies TCPReqQFullDrop TCPRetransFail TCPRcvCoalesce TCPOFOQueue TCPOFODrop TCPOFOMerge
TCPChallengeACK TCPSYNChallenge TCPFastOpenActive TCPFastOpenActiveFail TCPFastOpenPassive
TCPFastOpenPassiveFail TCPFastOpenListenOverflow TCPFastOpenCookieReqd TCPFastOpenBlackhole
TCPSpuriousRtxHostQueues BusyPollRxPackets TCPAutoCorking TCPFromZeroWindowAdv TCPToZeroWindowAdv
TCPWantZeroWindowAdv TCPSynRetrans TCPOrigDataSent TCPHystartTrainDetect TCPHystartTrainCwnd
TCPHystartDelayDetect TCPHystartDelayCwnd TCPACKSkippedSynRecv TCPACKSkippedPAWS TCPACKSkippedSeq
TCPACKSkippedFinWait2 TCPACKSkippedTimeWait TCPACKSkippedChallenge TCPWinProbe TCPKeepAlive TCPMTUPFail
TCPMTUPSuccess TCPDelivered TCPDeliveredCE TCPAckCompressed TCPZeroWindowDrop TCPRcvQDrop TCPWqueueTooBig
TCPFastOpenPassiveAltKey TcpTimeoutRehash TcpDuplicateDataRehash TCPDSACKRecvSegs TCPDSACKIgnoredDubious
TCPMigrateReqSuccess TCPMigrateReqFailure TCPPLBRehash TCPAORequired TCPAOBad TCPAOKeyNotFound TCPAOGood
TCPAODroppedIcmps`)

// netstat writes /proc/net/netstat: TcpExt and IpExt.
func netstat(b *strings.Builder, s *netstack.Stack) {
	c := counters(s)
	known := map[string]uint64{
		"ListenOverflows": c.tcp.ListenOverflows.Load(),
		"ListenDrops":     c.tcp.ListenDrops.Load(),
		"TCPTimeouts":     c.tcp.Timeouts.Load(),
		"TCPOFODrop":      c.tcp.OOODrops.Load(),
	}
	var t mib
	for _, n := range tcpExtNames {
		t.add(n, known[n])
	}
	t.pair(b, "TcpExt")

	var ip mib
	ip.zeros("InNoRoutes", "InTruncatedPkts", "InMcastPkts", "OutMcastPkts", "InBcastPkts", "OutBcastPkts")
	ip.add("InOctets", c.ext.InOctets[0].Load())
	ip.add("OutOctets", c.ext.OutOctets[0].Load())
	ip.zeros("InMcastOctets", "OutMcastOctets", "InBcastOctets", "OutBcastOctets", "InCsumErrors")
	// The stack neither sets nor reads ECN: every packet counts as
	// not ECN-capable.
	ip.add("InNoECTPkts", c.v4(func(s *netstack.Stats) *atomic.Uint64 { return &s.IPInReceives }))
	ip.zeros("InECT1Pkts", "InECT0Pkts", "InCEPkts", "ReasmOverlaps")
	ip.pair(b, "IpExt")
}

// icmp6Types are the ICMPv6 types snmp6 names, and their names.
var (
	icmp6Types = []uint8{1, 2, 3, 4, 128, 129, 130, 131, 132, 133, 134, 135, 136, 137, 143}
	icmp6Names = []string{"DestUnreachs", "PktTooBigs", "TimeExcds", "ParmProblems", "Echos", "EchoReplies",
		"GroupMembQueries", "GroupMembResponses", "GroupMembReductions", "RouterSolicits", "RouterAdvertisements",
		"NeighborSolicits", "NeighborAdvertisements", "Redirects", "MLDv2Reports"}
)

// snmp6 writes /proc/net/snmp6.
func snmp6(b *strings.Builder, s *netstack.Stack) {
	c := counters(s)
	v := c.v6
	var ip mib
	ip.add("InReceives", v.IPInReceives.Load())
	ip.add("InHdrErrors", v.IPInHdrErrors.Load())
	ip.zeros("InTooBigErrors", "InNoRoutes")
	ip.add("InAddrErrors", v.IPInAddrErrors.Load())
	ip.add("InUnknownProtos", v.IPInUnknownProtos.Load())
	ip.zeros("InTruncatedPkts", "InDiscards")
	ip.add("InDelivers", v.IPInDelivers.Load())
	ip.zeros("OutForwDatagrams")
	ip.add("OutRequests", v.IPOutRequests.Load())
	ip.add("OutDiscards", v.IPOutDiscards.Load())
	ip.add("OutNoRoutes", v.IPOutNoRoutes.Load())
	ip.zeros("ReasmTimeout")
	ip.add("ReasmReqds", v.ReasmReqds.Load())
	ip.add("ReasmOKs", v.ReasmOKs.Load())
	ip.add("ReasmFails", v.ReasmFails.Load())
	ip.add("FragOKs", v.FragOKs.Load())
	ip.zeros("FragFails")
	ip.add("FragCreates", v.FragCreates.Load())
	ip.zeros("InMcastPkts", "OutMcastPkts")
	ip.add("InOctets", c.ext.InOctets[1].Load())
	ip.add("OutOctets", c.ext.OutOctets[1].Load())
	ip.zeros("InMcastOctets", "OutMcastOctets", "InBcastOctets", "OutBcastOctets")
	ip.add("InNoECTPkts", v.IPInReceives.Load())
	ip.zeros("InECT1Pkts", "InECT0Pkts", "InCEPkts")
	ip.add("OutTransmits", c.ext.OutTransmits[1].Load())
	ip.column(b, "Ip6")

	in, out := &c.ext.ICMP6.In, &c.ext.ICMP6.Out
	var outMsgs uint64
	for i := range out {
		outMsgs += out[i].Load()
	}
	var icmp mib
	icmp.add("InMsgs", v.ICMPInMsgs.Load())
	icmp.add("InErrors", v.ICMPInErrors.Load())
	icmp.add("OutMsgs", outMsgs)
	icmp.zeros("OutErrors", "InCsumErrors", "OutRateLimitHost")
	for i, t := range icmp6Types {
		icmp.add("In"+icmp6Names[i], typeCount(in, t))
	}
	for i, t := range icmp6Types {
		icmp.add("Out"+icmp6Names[i], typeCount(out, t))
	}
	for t := range in {
		if n := in[t].Load(); n != 0 {
			icmp.add(fmt.Sprintf("InType%d", t), n)
		}
	}
	for t := range out {
		if n := out[t].Load(); n != 0 {
			icmp.add(fmt.Sprintf("OutType%d", t), n)
		}
	}
	icmp.column(b, "Icmp6")

	u := udpMIB(&c.udp.Stats, &c.udp.V6, true, true)
	u.column(b, "Udp6")
	lite := udpMIB(&c.lite.Stats, &c.lite.V6, true, false)
	lite.column(b, "UdpLite6")
}
