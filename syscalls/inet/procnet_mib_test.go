package inet

import (
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/netstack/tcp"
	"github.com/palisade-sandbox/palisade/netstack/udp"
)

// pairs parses a /proc/net/snmp-style file into prefix -> name -> value,
// checking that each header line has a value line with as many fields.
func pairs(t *testing.T, text string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines)%2 != 0 {
		t.Fatalf("odd number of lines:\n%s", text)
	}
	for i := 0; i < len(lines); i += 2 {
		h, v := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(h) != len(v) || h[0] != v[0] || !strings.HasSuffix(h[0], ":") {
			t.Fatalf("lines %d and %d do not pair:\n%s\n%s", i, i+1, lines[i], lines[i+1])
		}
		p := strings.TrimSuffix(h[0], ":")
		if out[p] == nil {
			out[p] = map[string]string{}
		}
		for j := 1; j < len(h); j++ {
			if _, err := strconv.ParseInt(v[j], 10, 64); err != nil {
				t.Errorf("%s %s: value %q", p, h[j], v[j])
			}
			out[p][h[j]] = v[j]
		}
	}
	return out
}

// testStack returns a stack with some counters set: IPv4 and IPv6
// traffic, so that each file must show only its family's share.
func testStack(t *testing.T) *netstack.Stack {
	s := NewStack(nil)
	s.Stats.IPInReceives.Add(7)
	s.MIB().V6.IPInReceives.Add(2)
	s.Stats.IPOutRequests.Add(4)
	s.MIB().V6.IPOutRequests.Add(1)
	s.MIB().ICMP4.In[8].Add(3)
	for typ := 0; typ < 20; typ++ {
		s.MIB().ICMP4.Out[typ].Add(1)
	}
	s.MIB().ICMP6.In[128].Add(5)
	u := s.Transport(unix.IPPROTO_UDP).(*udp.Protocol)
	u.Stats.OutDatagrams.Add(6)
	u.V6.OutDatagrams.Add(2)
	u.Stats.NoPorts.Add(1)
	tp := s.Transport(unix.IPPROTO_TCP).(*tcp.Protocol)
	tp.Stats().ActiveOpens.Add(11)
	tp.Stats().ListenDrops.Add(12)
	return s
}

func TestSnmp(t *testing.T) {
	var b strings.Builder
	snmp(&b, testStack(t))
	m := pairs(t, b.String())
	for _, c := range []struct{ group, name, want string }{
		{"Ip", "Forwarding", "2"},
		{"Ip", "DefaultTTL", "64"},
		{"Ip", "InReceives", "5"},
		{"Ip", "OutRequests", "3"},
		{"Icmp", "InEchos", "3"},
		{"Icmp", "OutMsgs", "20"},
		{"Icmp", "OutEchoReps", "1"},
		{"IcmpMsg", "InType8", "3"},
		{"IcmpMsg", "OutType19", "1"},
		{"Tcp", "MaxConn", "-1"},
		{"Tcp", "ActiveOpens", "11"},
		{"Tcp", "CurrEstab", "0"},
		{"Udp", "OutDatagrams", "4"},
		{"Udp", "NoPorts", "1"},
		{"UdpLite", "InDatagrams", "0"},
	} {
		if got := m[c.group][c.name]; got != c.want {
			t.Errorf("%s %s = %q, want %q", c.group, c.name, got, c.want)
		}
	}
	// Linux's columns, in order.
	if !strings.HasPrefix(b.String(), "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits\n") {
		t.Errorf("Ip header:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n") {
		t.Errorf("Tcp header:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n") {
		t.Errorf("Udp header:\n%s", b.String())
	}
	// 21 non-zero types: 16 in the first IcmpMsg pair, 5 in the second.
	if n := strings.Count(b.String(), "\nIcmpMsg:"); n != 4 {
		t.Errorf("%d IcmpMsg lines, want 4", n)
	}
}

func TestSnmpWithoutICMPHasNoIcmpMsg(t *testing.T) {
	var b strings.Builder
	snmp(&b, NewStack(nil))
	if strings.Contains(b.String(), "IcmpMsg") {
		t.Errorf("IcmpMsg without ICMP traffic:\n%s", b.String())
	}
	pairs(t, b.String())
}

func TestNetstat(t *testing.T) {
	var b strings.Builder
	netstat(&b, testStack(t))
	m := pairs(t, b.String())
	if len(m["TcpExt"]) != len(tcpExtNames) || len(m["IpExt"]) != 18 {
		t.Errorf("TcpExt has %d columns, IpExt %d", len(m["TcpExt"]), len(m["IpExt"]))
	}
	if got := m["TcpExt"]["ListenDrops"]; got != "12" {
		t.Errorf("ListenDrops = %q", got)
	}
	if got := m["IpExt"]["InNoECTPkts"]; got != "5" {
		t.Errorf("InNoECTPkts = %q", got)
	}
}

func TestSnmp6(t *testing.T) {
	var b strings.Builder
	snmp6(&b, testStack(t))
	vals := map[string]string{}
	for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		name, v, ok := strings.Cut(l, "\t")
		if !ok || len(name) < 32 || strings.TrimRight(name, " ") == "" {
			t.Fatalf("line %q is not \"%%-32s\\t%%d\"", l)
		}
		vals[strings.TrimRight(name, " ")] = v
	}
	for name, want := range map[string]string{
		"Ip6InReceives": "2", "Ip6OutRequests": "1", "Icmp6InEchos": "5", "Icmp6InType128": "5",
		"Udp6OutDatagrams": "2", "Udp6IgnoredMulti": "0", "UdpLite6MemErrors": "0",
	} {
		if got := vals[name]; got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if _, ok := vals["UdpLite6IgnoredMulti"]; ok {
		t.Errorf("UdpLite6 has no IgnoredMulti on Linux")
	}
	if _, ok := vals["Icmp6OutType128"]; ok {
		t.Errorf("zero per-type counts are listed")
	}
}
