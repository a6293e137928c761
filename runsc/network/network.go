// Package network does the privileged part of --network=sandbox, in runsc
// (host root) before the sandbox starts: in the network namespace the
// sandbox will use, it reads each Ethernet interface's addresses, routes,
// MAC and MTU over netlink (vishvananda/netlink), opens a packet socket
// bound to it for the Sentry, and removes the interface's IP addresses so
// that the host kernel no longer answers for them: the Sentry's netstack
// does. The loopback is left alone (the Sentry has its own).
package network

import (
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/runsc/boot"
)

// packetRcvBuf is the receive buffer asked for each packet socket
// (SO_RCVBUFFORCE; the host's rmem_max would cap SO_RCVBUF).
const packetRcvBuf = 4 << 20

// procNetInitIno is the inode number Linux gives the initial network
// namespace's nsfs file (PROC_NET_INIT_INO, fixed since Linux 3.8).
const procNetInitIno = 0xEFFFFFF9

// IsInitialNamespace reports whether the calling thread is in the host's
// initial network namespace: the same as PID 1's, or, when PID 1's is out
// of sight (a runsc with fewer capabilities than PID 1 may not look), the
// one whose inode is the initial namespace's fixed number. Either match
// counts: in doubt, the namespace is not taken over.
func IsInitialNamespace() (bool, error) {
	var self, init unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &self); err != nil {
		return false, os.NewSyscallError("stat /proc/thread-self/ns/net", err)
	}
	if self.Ino == procNetInitIno {
		return true, nil
	}
	if err := unix.Stat("/proc/1/ns/net", &init); err != nil {
		if err == unix.EACCES || err == unix.EPERM {
			return false, nil
		}
		return false, os.NewSyscallError("stat /proc/1/ns/net", err)
	}
	return self.Dev == init.Dev && self.Ino == init.Ino, nil
}

// Takeover is what TakeOver did to a namespace: the links for the
// sandbox (FD not yet set), their packet sockets, and what it removed.
type Takeover struct {
	// Links describe the interfaces; Files[i] is Links[i]'s socket.
	Links []boot.Link
	Files []*os.File

	nsPath  string
	removed []removedAddrs
}

type removedAddrs struct {
	link   netlink.Link
	addrs  []netlink.Addr
	routes []netlink.Route
}

// TakeOver takes over the Ethernet interfaces that are up in the network
// namespace at nsPath ("" for the caller's own). The initial namespace is
// refused: the host's own interfaces are never touched.
func TakeOver(nsPath string) (t *Takeover, err error) {
	t = &Takeover{nsPath: nsPath}
	err = t.inNamespace(func() error {
		initial, err := IsInitialNamespace()
		if err != nil {
			return err
		}
		if initial {
			return errors.New("refusing to take over the host's initial network namespace")
		}
		return t.takeOver()
	})
	if err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// inNamespace runs f on a locked thread in t's namespace.
func (t *Takeover) inNamespace(f func() error) error {
	runtime.LockOSThread()
	if t.nsPath == "" {
		defer runtime.UnlockOSThread()
		return f()
	}
	ns, err := os.Open(t.nsPath)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer ns.Close()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("joining network namespace %s: %w", t.nsPath, err)
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with its goroutine rather
		// than serve others in the wrong namespace.
		return errors.Join(ferr, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func (t *Takeover) takeOver() error {
	links, err := netlink.LinkList()
	if err != nil {
		return fmt.Errorf("listing interfaces: %w", err)
	}
	for _, l := range links {
		a := l.Attrs()
		if a.Flags&net.FlagLoopback != 0 || a.Flags&net.FlagUp == 0 || a.EncapType != "ether" || len(a.HardwareAddr) != 6 {
			continue
		}
		if err := t.take(l); err != nil {
			return fmt.Errorf("interface %s: %w", a.Name, err)
		}
	}
	return nil
}

// take describes l, opens its packet socket and removes its addresses.
func (t *Takeover) take(l netlink.Link) error {
	a := l.Attrs()
	desc := boot.Link{Name: a.Name, Index: int32(a.Index), MAC: a.HardwareAddr.String(), MTU: a.MTU}
	addrs, err := netlink.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("listing addresses: %w", err)
	}
	for _, ad := range addrs {
		desc.Addresses = append(desc.Addresses, ad.IPNet.String())
	}
	routes, err := netlink.RouteList(l, netlink.FAMILY_ALL)
	if err != nil {
		return fmt.Errorf("listing routes: %w", err)
	}
	var kept []netlink.Route
	for _, r := range routes {
		if r.Table != unix.RT_TABLE_MAIN || r.Type != unix.RTN_UNICAST {
			continue
		}
		lr := boot.LinkRoute{}
		switch {
		case r.Dst != nil:
			lr.Dst = r.Dst.String()
		case r.Family == unix.AF_INET6:
			lr.Dst = "::/0"
		default:
			lr.Dst = "0.0.0.0/0"
		}
		if r.Gw != nil {
			lr.Gateway = r.Gw.String()
		}
		desc.Routes = append(desc.Routes, lr)
		kept = append(kept, r)
	}
	f, err := openPacketSocket(a.Index)
	if err != nil {
		return err
	}
	t.Links = append(t.Links, desc)
	t.Files = append(t.Files, f)
	// Routes first go with the addresses they depend on; they are put
	// back by Restore.
	rm := removedAddrs{link: l, routes: kept}
	defer func() { t.removed = append(t.removed, rm) }()
	for _, ad := range addrs {
		if err := netlink.AddrDel(l, &ad); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("removing %s: %w", ad.IPNet, err)
		}
		rm.addrs = append(rm.addrs, ad)
	}
	return nil
}

// openPacketSocket opens the packet socket for interface index: created
// with protocol 0 so that nothing is queued before bind picks ETH_P_ALL
// on this interface alone; PACKET_VNET_HDR so that a local peer's partial
// checksums and GSO frames come with their description; our own frames
// are not looped back (PACKET_IGNORE_OUTGOING, Linux 4.20).
func openPacketSocket(index int) (*os.File, error) {
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket(AF_PACKET)", err)
	}
	f := os.NewFile(uintptr(fd), "packet")
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_VNET_HDR, 1); err != nil {
		f.Close()
		return nil, os.NewSyscallError("setsockopt(PACKET_VNET_HDR)", err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil && err != unix.ENOPROTOOPT {
		f.Close()
		return nil, os.NewSyscallError("setsockopt(PACKET_IGNORE_OUTGOING)", err)
	}
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, packetRcvBuf)
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, packetRcvBuf)
	sa := &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: index}
	if err := unix.Bind(fd, sa); err != nil {
		f.Close()
		return nil, os.NewSyscallError("bind(AF_PACKET)", err)
	}
	return f, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// CloseFiles closes runsc's copies of the packet sockets (the sandbox
// holds its own once started).
func (t *Takeover) CloseFiles() {
	for _, f := range t.Files {
		f.Close()
	}
	t.Files = nil
}

// Close closes the sockets and puts back what was removed.
func (t *Takeover) Close() error {
	t.CloseFiles()
	return t.Restore()
}

// Restore puts the removed addresses and routes back (runsc do, when the
// sandbox has exited). Addresses come back without duplicate address
// detection, as they were in use a moment ago.
func (t *Takeover) Restore() error {
	if len(t.removed) == 0 {
		return nil
	}
	removed := t.removed
	t.removed = nil
	return t.inNamespace(func() error {
		var errs []error
		for _, r := range removed {
			for _, ad := range r.addrs {
				ad := ad
				if ad.IP.To4() == nil {
					ad.Flags |= unix.IFA_F_NODAD
				}
				if err := netlink.AddrAdd(r.link, &ad); err != nil && !errors.Is(err, unix.EEXIST) {
					errs = append(errs, fmt.Errorf("restoring %s on %s: %w", ad.IPNet, r.link.Attrs().Name, err))
				}
			}
			for _, rt := range r.routes {
				rt := rt
				if err := netlink.RouteAdd(&rt); err != nil && !errors.Is(err, unix.EEXIST) {
					errs = append(errs, fmt.Errorf("restoring route %s on %s: %w", rt.Dst, r.link.Attrs().Name, err))
				}
			}
		}
		return errors.Join(errs...)
	})
}
