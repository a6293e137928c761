package inet

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
)

// registry holds the open inet sockets, for /proc/net/{tcp,udp}[6].
type registry struct {
	mu sync.Mutex
	// sockets are the sockets not yet released. Protected by mu.
	sockets map[*Socket]struct{}
}

// live are the sandbox's open inet sockets (a Sentry serves one sandbox).
var live registry

func (r *registry) add(s *Socket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sockets == nil {
		r.sockets = make(map[*Socket]struct{})
	}
	r.sockets[s] = struct{}{}
}

func (r *registry) remove(s *Socket) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.sockets, s)
}

// snapshot returns the open sockets, oldest (lowest inode) first.
func (r *registry) snapshot() []*Socket {
	r.mu.Lock()
	out := make([]*Socket, 0, len(r.sockets))
	for s := range r.sockets {
		out = append(out, s)
	}
	r.mu.Unlock()
	slices.SortFunc(out, func(a, b *Socket) int { return int(int64(a.ino) - int64(b.ino)) })
	return out
}

// ProcNet provides /proc/PID/net from the stack of the sandbox whose
// kernel is Kernel and its open sockets (proc.NetFiles).
type ProcNet struct {
	// Kernel is the sandbox's kernel (the key of its stack).
	Kernel any
	// Unix, if set, returns /proc/net/unix (the AF_UNIX sockets live in
	// a package this one does not import).
	Unix func() []byte
}

// stack returns the sandbox's stack (looked up on each use: boot may
// replace the loopback one it starts with).
func (p ProcNet) stack() *netstack.Stack { return StackFor(p.Kernel, nil) }

// procNetFiles are the files ProcNet serves.
var procNetFiles = []string{"dev", "if_inet6", "netstat", "raw", "raw6", "route", "snmp", "snmp6", "tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "unix"}

// Names implements proc.NetFiles.Names.
func (ProcNet) Names() []string { return procNetFiles }

// Generate implements proc.NetFiles.Generate.
func (p ProcNet) Generate(name string) ([]byte, error) {
	var b strings.Builder
	switch name {
	case "dev":
		p.dev(&b)
	case "if_inet6":
		p.ifInet6(&b)
	case "route":
		p.route(&b)
	case "tcp":
		sockets(&b, unix.SOCK_STREAM, false, unix.IPPROTO_TCP)
	case "tcp6":
		sockets(&b, unix.SOCK_STREAM, true, unix.IPPROTO_TCP)
	case "udp":
		sockets(&b, unix.SOCK_DGRAM, false, unix.IPPROTO_UDP)
	case "udp6":
		sockets(&b, unix.SOCK_DGRAM, true, unix.IPPROTO_UDP)
	case "udplite":
		sockets(&b, unix.SOCK_DGRAM, false, unix.IPPROTO_UDPLITE)
	case "udplite6":
		sockets(&b, unix.SOCK_DGRAM, true, unix.IPPROTO_UDPLITE)
	case "raw":
		sockets(&b, unix.SOCK_RAW, false, -1)
	case "raw6":
		sockets(&b, unix.SOCK_RAW, true, -1)
	case "snmp":
		snmp(&b, p.stack())
	case "snmp6":
		snmp6(&b, p.stack())
	case "netstat":
		netstat(&b, p.stack())
	case "unix":
		if p.Unix == nil {
			return []byte("Num       RefCount Protocol Flags    Type St Inode Path\n"), nil
		}
		return p.Unix(), nil
	default:
		return nil, unix.ENOENT
	}
	return []byte(b.String()), nil
}

// dev is /proc/net/dev: the counters of each interface, in Linux's
// layout. The stack counts packets, bytes and transmit drops; errors,
// FIFO, frame, collision, carrier and compression events do not happen
// to it, and multicast is not counted apart.
func (p ProcNet) dev(b *strings.Builder) {
	b.WriteString("Inter-|   Receive                                                |  Transmit\n")
	b.WriteString(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n")
	for _, i := range p.stack().Interfaces() {
		fmt.Fprintf(b, "%6s:%8d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			i.Name, i.RxBytes, i.RxPackets, 0, 0, 0, 0, 0, 0, i.TxBytes, i.TxPackets, 0, i.TxDrops, 0, 0, 0, 0)
	}
}

// ifInet6 is /proc/net/if_inet6: one line per IPv6 address.
func (p ProcNet) ifInet6(b *strings.Builder) {
	for _, i := range p.stack().Interfaces() {
		for _, a := range i.Addrs {
			if !a.Addr().Is6() || a.Addr().Is4In6() {
				continue
			}
			var scope int
			switch {
			case a.Addr().IsLoopback():
				scope = 0x10
			case a.Addr().IsLinkLocalUnicast():
				scope = 0x20
			}
			raw := a.Addr().As16()
			// IFA_F_PERMANENT: the addresses are configured, not learnt.
			fmt.Fprintf(b, "%x %02x %02x %02x %02x %8s\n", raw, i.ID, a.Bits(), scope, 0x80, i.Name)
		}
	}
}

// route is /proc/net/route: the IPv4 routes of the main table. Loopback
// routes live in Linux's local table, which this file does not show.
func (p ProcNet) route(b *strings.Builder) {
	fmt.Fprintf(b, "%-127s\n", "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT")
	names := map[int32]string{}
	loop := map[int32]bool{}
	for _, i := range p.stack().Interfaces() {
		names[i.ID], loop[i.ID] = i.Name, i.Loopback
	}
	for _, r := range p.stack().Routes() {
		if !r.Dst.Addr().Is4() || loop[r.NIC] {
			continue
		}
		flags := unix.RTF_UP
		gw := uint32(0)
		if r.Gateway.IsValid() {
			flags |= unix.RTF_GATEWAY
			gw = hostOrder4(r.Gateway)
		}
		mask := uint32(0)
		if r.Dst.Bits() > 0 {
			mask = ^uint32(0) << (32 - r.Dst.Bits())
		}
		var m [4]byte
		binary.BigEndian.PutUint32(m[:], mask)
		line := fmt.Sprintf("%s\t%08X\t%08X\t%04X\t%d\t%d\t%d\t%08X\t%d\t%d\t%d",
			names[r.NIC], hostOrder4(r.Dst.Masked().Addr()), gw, flags, 0, 0, 0, binary.NativeEndian.Uint32(m[:]), 0, 0, 0)
		fmt.Fprintf(b, "%-127s\n", line)
	}
}

// hostOrder4 is an IPv4 address as the 32-bit word /proc/net prints: its
// network-order bytes read in the host's order.
func hostOrder4(a netip.Addr) uint32 {
	b := a.Unmap().As4()
	return binary.NativeEndian.Uint32(b[:])
}

// Linux's TCP states as /proc/net/tcp numbers them (TCP_INFO's tcpi_state).
const (
	tcpEstablished = 1
	tcpClose       = 7
	tcpListen      = 10
)

// sockets writes /proc/net/{tcp,udp,udplite,raw}[6]: the open sockets of
// type stype and protocol proto (-1: any; a datagram socket's 0 is UDP),
// IPv4 ones (v6 false; AF_INET sockets) or IPv6 ones (AF_INET6 sockets,
// dual-stack ones included, with v4-mapped addresses as Linux shows them).
// A raw socket's local port is its protocol.
func sockets(b *strings.Builder, stype int, v6 bool, proto int) {
	if v6 {
		b.WriteString("  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	} else {
		b.WriteString("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n")
	}
	n := 0
	for _, s := range live.snapshot() {
		p := s.Protocol
		if stype == unix.SOCK_DGRAM && p == 0 {
			p = unix.IPPROTO_UDP
		}
		if s.Type != stype || (s.Family == unix.AF_INET6) != v6 || (proto >= 0 && stype != unix.SOCK_STREAM && p != proto) {
			continue
		}
		local, err := s.ep.LocalAddress()
		if err != nil {
			continue
		}
		remote, rerr := s.ep.RemoteAddress()
		st := socketState(s, rerr == nil)
		q := queuesOf(s.ep)
		fmt.Fprintf(b, "%4d: %s %s %02X %08X:%08X 00:00000000 00000000 %5d %8d %d\n",
			n, addrPort(local, v6), addrPort(remote, v6), st, q.tx, q.rx, s.uid, 0, s.ino)
		n++
	}
}

// socketState is the state column: TCP's own (TCP_INFO), or for UDP
// established when connected and closed otherwise, as Linux shows it.
func socketState(s *Socket, connected bool) int {
	if s.Type == unix.SOCK_STREAM {
		var info [1]byte
		if n, err := s.ep.GetSockOpt(unix.SOL_TCP, unix.TCP_INFO, info[:]); err == nil && n == 1 {
			return int(info[0])
		}
		return tcpClose
	}
	if connected {
		return tcpEstablished
	}
	return tcpClose
}

// addrPort formats an address and port as /proc/net does: IPv4 as one
// word, IPv6 as four, each in host order, and the port in hex.
func addrPort(a netstack.FullAddress, v6 bool) string {
	if !v6 {
		w := uint32(0)
		if a.Addr.IsValid() {
			w = hostOrder4(a.Addr)
		}
		return fmt.Sprintf("%08X:%04X", w, a.Port)
	}
	var raw [16]byte
	if a.Addr.IsValid() {
		raw = a.Addr.As16() // a 4-byte Addr becomes ::ffff:a.b.c.d
	}
	var sb strings.Builder
	for i := 0; i < 16; i += 4 {
		fmt.Fprintf(&sb, "%08X", binary.NativeEndian.Uint32(raw[i:i+4]))
	}
	fmt.Fprintf(&sb, ":%04X", a.Port)
	return sb.String()
}
