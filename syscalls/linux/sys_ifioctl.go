package linux

import (
	"bytes"
	"encoding/binary"
	"net/netip"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/unixsocket"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// The interface ioctls of netdevice(7), answered from the sandbox's stack
// for a socket of any family, as Linux's dev_ioctl does. The address
// ioctls (SIOCGIFADDR, SIOCGIFNETMASK, SIOCGIFBRDADDR) belong to AF_INET
// and are ENOTTY on the other families, as on Linux.

const (
	ifreqSize  = 40 // struct ifreq: a 16-byte name and a 24-byte union
	ifconfSize = 16 // struct ifconf: int ifc_len, padding, a pointer
	// maxIfconf bounds the entries SIOCGIFCONF writes whatever the
	// guest's ifc_len says.
	maxIfconf = 1024

	arphrdEther    = 1
	arphrdLoopback = 772
)

// isIfIoctl reports whether cmd is one of the interface ioctls served here.
func isIfIoctl(cmd uint32) bool {
	switch cmd {
	case unix.SIOCGIFCONF, unix.SIOCGIFINDEX, unix.SIOCGIFNAME, unix.SIOCGIFFLAGS,
		unix.SIOCGIFADDR, unix.SIOCGIFNETMASK, unix.SIOCGIFBRDADDR, unix.SIOCGIFMTU,
		unix.SIOCGIFHWADDR, unix.SIOCGIFTXQLEN:
		return true
	}
	return false
}

// isSocketFile reports whether f is a socket, and whether it is AF_INET.
func isSocketFile(f *vfs.FileDescription) (sock, inet4 bool) {
	if s := inet.FromImpl(f.Impl()); s != nil {
		return true, s.Family == unix.AF_INET
	}
	if unixsocket.FromImpl(f.Impl()) != nil || netlinkFromFile(f) != nil {
		return true, false
	}
	return false, false
}

// ifIoctl serves an interface ioctl on a socket file.
func ifIoctl(t *kernel.Task, inet4 bool, cmd uint32, arg uint64) (uint64, error) {
	var ifs []netstack.InterfaceInfo
	if hs := inet.HostInterfacesFor(t.Kernel()); hs != nil && inet.EndpointFactoryFor(t.Kernel()) != nil {
		ifs = hs.Interfaces() // --network=host: the host namespace's
	} else {
		ifs = stackOf(t).Interfaces()
	}
	if cmd == unix.SIOCGIFCONF {
		return 0, ifconf(t, ifs, arg)
	}
	var req [ifreqSize]byte
	if err := copyIn(t, arg, req[:]); err != nil {
		return 0, err
	}
	out, err := ifreq(ifs, inet4, cmd, req)
	if err != nil {
		return 0, err
	}
	return 0, copyOut(t, arg, out[:])
}

// ifreqName returns the NUL-terminated name at the start of an ifreq.
func ifreqName(req []byte) string {
	n := req[:unix.IFNAMSIZ]
	if i := bytes.IndexByte(n, 0); i >= 0 {
		n = n[:i]
	}
	return string(n)
}

// ifFlags returns an interface's SIOCGIFFLAGS/ifi_flags bits.
func ifFlags(i *netstack.InterfaceInfo) uint32 {
	var f uint32
	if i.Up {
		f |= unix.IFF_UP | unix.IFF_RUNNING | unix.IFF_LOWER_UP
	}
	if i.Loopback {
		f |= unix.IFF_LOOPBACK
	} else {
		f |= unix.IFF_BROADCAST | unix.IFF_MULTICAST
	}
	return f
}

// firstIPv4 returns the first IPv4 address of i.
func firstIPv4(i *netstack.InterfaceInfo) (netip.Prefix, bool) {
	for _, p := range i.Addrs {
		if p.Addr().Is4() {
			return p, true
		}
	}
	return netip.Prefix{}, false
}

// broadcast4 returns p's broadcast address: none (0.0.0.0) on loopback
// and for /31 and /32, as Linux assigns.
func broadcast4(i *netstack.InterfaceInfo, p netip.Prefix) netip.Addr {
	if i.Loopback || p.Bits() >= 31 {
		return netip.IPv4Unspecified()
	}
	a := p.Addr().As4()
	v := binary.BigEndian.Uint32(a[:]) | (1<<(32-p.Bits()) - 1)
	binary.BigEndian.PutUint32(a[:], v)
	return netip.AddrFrom4(a)
}

// putSockaddrIn writes a sockaddr_in for a into b.
func putSockaddrIn(b []byte, a netip.Addr) {
	clear(b[:16])
	binary.LittleEndian.PutUint16(b[0:], unix.AF_INET)
	a4 := a.As4()
	copy(b[4:8], a4[:])
}

// mask4 returns the netmask of a prefix length.
func mask4(bits int) netip.Addr {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], ^uint32(0)<<(32-bits))
	if bits == 0 {
		a = [4]byte{}
	}
	return netip.AddrFrom4(a)
}

// ifreq answers one ifreq ioctl: ENODEV for an unknown interface,
// EADDRNOTAVAIL for an address ioctl on an interface without IPv4, ENOTTY
// for an address ioctl on a socket that is not AF_INET.
func ifreq(ifs []netstack.InterfaceInfo, inet4 bool, cmd uint32, req [ifreqSize]byte) ([ifreqSize]byte, error) {
	out := req
	u := out[unix.IFNAMSIZ:]
	if cmd == unix.SIOCGIFNAME {
		idx := int32(binary.LittleEndian.Uint32(u))
		for i := range ifs {
			if ifs[i].ID == idx {
				clear(out[:unix.IFNAMSIZ])
				copy(out[:unix.IFNAMSIZ-1], ifs[i].Name)
				return out, nil
			}
		}
		return out, unix.ENODEV
	}
	switch cmd {
	case unix.SIOCGIFADDR, unix.SIOCGIFNETMASK, unix.SIOCGIFBRDADDR:
		if !inet4 {
			return out, unix.ENOTTY
		}
	}
	name := ifreqName(req[:])
	var in *netstack.InterfaceInfo
	for i := range ifs {
		if ifs[i].Name == name {
			in = &ifs[i]
		}
	}
	if in == nil {
		return out, unix.ENODEV
	}
	switch cmd {
	case unix.SIOCGIFINDEX:
		binary.LittleEndian.PutUint32(u, uint32(in.ID))
	case unix.SIOCGIFFLAGS:
		// ifr_flags is a short: the bits above 16 (IFF_LOWER_UP) are not
		// reported here.
		binary.LittleEndian.PutUint16(u, uint16(ifFlags(in)))
	case unix.SIOCGIFMTU:
		binary.LittleEndian.PutUint32(u, uint32(in.MTU))
	case unix.SIOCGIFTXQLEN:
		binary.LittleEndian.PutUint32(u, uint32(txQueueLen(in)))
	case unix.SIOCGIFHWADDR:
		clear(u[:16])
		typ := uint16(arphrdEther)
		if in.Loopback {
			typ = arphrdLoopback
		}
		binary.LittleEndian.PutUint16(u, typ)
		if len(in.LinkAddr) == 6 {
			copy(u[2:8], in.LinkAddr) // ifr_hwaddr.sa_data
		}
	case unix.SIOCGIFADDR, unix.SIOCGIFNETMASK, unix.SIOCGIFBRDADDR:
		p, ok := firstIPv4(in)
		if !ok {
			return out, unix.EADDRNOTAVAIL
		}
		switch cmd {
		case unix.SIOCGIFADDR:
			putSockaddrIn(u, p.Addr())
		case unix.SIOCGIFNETMASK:
			putSockaddrIn(u, mask4(p.Bits()))
		default:
			putSockaddrIn(u, broadcast4(in, p))
		}
	}
	return out, nil
}

// txQueueLen is an interface's transmit queue length as Linux reports it:
// 1000 for loopback and Ethernet.
func txQueueLen(*netstack.InterfaceInfo) int { return 1000 }

// ifconfEntries returns the SIOCGIFCONF records: one per IPv4 address of
// each up interface, named after the interface.
func ifconfEntries(ifs []netstack.InterfaceInfo) [][ifreqSize]byte {
	var out [][ifreqSize]byte
	for i := range ifs {
		if !ifs[i].Up {
			continue
		}
		for _, p := range ifs[i].Addrs {
			if !p.Addr().Is4() || len(out) >= maxIfconf {
				continue
			}
			var r [ifreqSize]byte
			copy(r[:unix.IFNAMSIZ-1], ifs[i].Name)
			putSockaddrIn(r[unix.IFNAMSIZ:], p.Addr())
			out = append(out, r)
		}
	}
	return out
}

// ifconf implements SIOCGIFCONF: with a NULL ifc_buf it stores the bytes
// needed; otherwise it writes the whole records that fit in ifc_len and
// stores the bytes written.
func ifconf(t *kernel.Task, ifs []netstack.InterfaceInfo, arg uint64) error {
	var hdr [ifconfSize]byte
	if err := copyIn(t, arg, hdr[:]); err != nil {
		return err
	}
	n := int32(binary.LittleEndian.Uint32(hdr[0:]))
	buf := binary.LittleEndian.Uint64(hdr[8:])
	ents := ifconfEntries(ifs)
	var written int
	if buf == 0 {
		written = len(ents) * ifreqSize
	} else {
		for _, e := range ents {
			if int(n)-written < ifreqSize {
				break
			}
			if err := copyOut(t, buf+uint64(written), e[:]); err != nil {
				return err
			}
			written += ifreqSize
		}
	}
	binary.LittleEndian.PutUint32(hdr[0:], uint32(written))
	return copyOut(t, arg, hdr[:4])
}
