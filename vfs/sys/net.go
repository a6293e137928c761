package sys

import (
	"context"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// NetInterface is a network interface as /sys/class/net shows it: a
// snapshot of the stack's view, taken when a file is opened.
type NetInterface struct {
	// Index is the interface index (ifindex, and iflink: no interface
	// here sits on another).
	Index int32
	// Name is the interface name ("lo").
	Name string
	// Type is the ARPHRD_* hardware type (772 for loopback, 1 for
	// Ethernet).
	Type uint16
	// Address and Broadcast are the hardware addresses (addr_len is
	// their length).
	Address, Broadcast []byte
	// MTU is the interface MTU.
	MTU int
	// Flags are the IFF_* bits of the device (Linux: dev->flags, without
	// the operational IFF_RUNNING and IFF_LOWER_UP).
	Flags uint32
	// OperState is RFC 2863's state as Linux names it: "up", "down",
	// "unknown" (loopback).
	OperState string
	// Carrier says the link has carrier.
	Carrier bool
	// TxQueueLen is the transmit queue length.
	TxQueueLen int
	// The counters of statistics/.
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
}

// netStatNames are the files of statistics/ (Linux: struct
// rtnl_link_stats64's netdev attributes), all of which read 0 unless
// counted in NetInterface.
var netStatNames = []string{"collisions", "multicast", "rx_bytes", "rx_compressed", "rx_crc_errors",
	"rx_dropped", "rx_errors", "rx_fifo_errors", "rx_frame_errors", "rx_length_errors", "rx_missed_errors",
	"rx_nohandler", "rx_over_errors", "rx_packets", "tx_aborted_errors", "tx_bytes", "tx_carrier_errors",
	"tx_compressed", "tx_dropped", "tx_errors", "tx_fifo_errors", "tx_heartbeat_errors", "tx_packets",
	"tx_window_errors"}

// hwAddr formats a hardware address as sysfs does: hex bytes joined by
// ':'.
func hwAddr(a []byte) string {
	parts := make([]string, len(a))
	for i, c := range a {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":") + "\n"
}

// netAttr returns attribute name of interface i (ok false for a name
// that is not one).
func netAttr(i *NetInterface, name string) (string, bool) {
	switch name {
	case "address":
		return hwAddr(i.Address), true
	case "broadcast":
		return hwAddr(i.Broadcast), true
	case "addr_len":
		return fmt.Sprintf("%d\n", len(i.Address)), true
	case "mtu":
		return fmt.Sprintf("%d\n", i.MTU), true
	case "ifindex", "iflink":
		return fmt.Sprintf("%d\n", i.Index), true
	case "type":
		return fmt.Sprintf("%d\n", i.Type), true
	case "flags":
		return fmt.Sprintf("0x%x\n", i.Flags), true
	case "operstate":
		return i.OperState + "\n", true
	case "carrier":
		if i.Carrier {
			return "1\n", true
		}
		return "0\n", true
	case "tx_queue_len":
		return fmt.Sprintf("%d\n", i.TxQueueLen), true
	case "uevent":
		return fmt.Sprintf("INTERFACE=%s\nIFINDEX=%d\n", i.Name, i.Index), true
	}
	var v uint64
	switch name {
	case "rx_bytes":
		v = i.RxBytes
	case "rx_packets":
		v = i.RxPackets
	case "rx_errors":
		v = i.RxErrors
	case "rx_dropped":
		v = i.RxDropped
	case "tx_bytes":
		v = i.TxBytes
	case "tx_packets":
		v = i.TxPackets
	case "tx_errors":
		v = i.TxErrors
	case "tx_dropped":
		v = i.TxDropped
	}
	return fmt.Sprintf("%d\n", v), true
}

// addNet fills /sys/devices/virtual/net/IF/ and the /sys/class/net/IF
// links to it, for the interfaces that exist when the tree is built (the
// stack's set of interfaces is fixed at boot); each attribute is read
// from a fresh snapshot at open.
func (fs *filesystem) addNet(root *dir, list func() []NetInterface) {
	class := root.mkdirAll("class", "net")
	if list == nil {
		return
	}
	devs := root.mkdirAll("devices", "virtual", "net")
	for _, i := range list() {
		if i.Name == "" || strings.ContainsAny(i.Name, "/\x00") || i.Name == "." || i.Name == ".." {
			continue
		}
		d := devs.mkdirAll(i.Name)
		index := i.Index
		attr := func(name string) func() string {
			return func() string {
				for _, c := range list() {
					if c.Index == index {
						v, _ := netAttr(&c, name)
						return v
					}
				}
				return ""
			}
		}
		for _, name := range []string{"address", "addr_len", "broadcast", "carrier", "flags", "ifindex", "iflink", "mtu", "operstate", "tx_queue_len", "type", "uevent"} {
			d.addGenFile(name, attr(name))
		}
		for name, v := range map[string]string{"addr_assign_type": "0\n", "dev_id": "0x0\n", "dev_port": "0\n",
			"dormant": "0\n", "link_mode": "0\n", "netdev_group": "0\n", "proto_down": "0\n", "ifalias": "\n"} {
			d.addFile(name, v)
		}
		st := d.mkdirAll("statistics")
		for _, name := range netStatNames {
			st.addGenFile(name, attr(name))
		}
		d.addSymlink("subsystem", "../../../../class/net")
		class.addSymlink(i.Name, "../../devices/virtual/net/"+i.Name)
	}
}

// symlink is a symbolic link with a fixed target.
type symlink struct {
	node
	// target is the link's text. Immutable.
	target string
}

var _ vfs.SymlinkInode = (*symlink)(nil)

// Stat implements vfs.Inode.Stat: a sysfs link's size is 0, as Linux's.
func (s *symlink) Stat(ctx context.Context) (unix.Statx_t, error) {
	st, err := s.node.Stat(ctx)
	st.Size = 0
	return st, err
}

// Readlink implements vfs.SymlinkInode.Readlink.
func (s *symlink) Readlink(ctx context.Context) (string, error) { return s.target, nil }

// addSymlink adds a symbolic link. Only while the tree is built.
func (d *dir) addSymlink(name, target string) {
	d.Add(name, &symlink{node: node{fs: d.fs, ino: d.fs.lastIno.Add(1), mode: unix.S_IFLNK | 0o777}, target: target})
}
