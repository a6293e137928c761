package inet

import (
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/vfs/sys"
)

// SysNetInterfaces returns the provider of /sys/class/net for the
// sandbox whose kernel is k: its stack's interfaces as sysfs shows them.
func SysNetInterfaces(k any) func() []sys.NetInterface {
	return func() []sys.NetInterface {
		s := StackFor(k, nil)
		var out []sys.NetInterface
		for _, i := range s.Interfaces() {
			out = append(out, sysInterface(s, &i))
		}
		return out
	}
}

// sysInterface describes interface i of s as sysfs does (Linux's
// values for lo and for an Ethernet device).
func sysInterface(s *netstack.Stack, i *netstack.InterfaceInfo) sys.NetInterface {
	n := sys.NetInterface{
		Index: i.ID, Name: i.Name, MTU: i.MTU, TxQueueLen: 1000, Carrier: i.Up,
		RxBytes: i.RxBytes, RxPackets: i.RxPackets, TxBytes: i.TxBytes, TxPackets: i.TxPackets, TxDropped: i.TxDrops,
	}
	if i.Up {
		n.Flags |= unix.IFF_UP
	}
	if i.Loopback {
		n.Type = unix.ARPHRD_LOOPBACK
		n.Flags |= unix.IFF_LOOPBACK
		n.Address, n.Broadcast = make([]byte, 6), make([]byte, 6)
	} else {
		n.Type = unix.ARPHRD_ETHER
		n.Flags |= unix.IFF_BROADCAST | unix.IFF_MULTICAST
		n.Address = s.LinkAddress(i.ID)
		if len(n.Address) == 0 {
			n.Address = make([]byte, 6)
		}
		n.Broadcast = []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	}
	switch {
	case !i.Up:
		n.OperState = "down"
	case i.Loopback:
		n.OperState = "unknown" // as Linux reports lo
	default:
		n.OperState = "up"
	}
	return n
}
