package sys_test

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/sys"
)

func TestClassNetShowsInterfaces(t *testing.T) {
	rx := uint64(10)
	opts := sys.Options{NetInterfaces: func() []sys.NetInterface {
		return []sys.NetInterface{
			{Index: 1, Name: "lo", Type: unix.ARPHRD_LOOPBACK, Address: make([]byte, 6), Broadcast: make([]byte, 6),
				MTU: 65536, Flags: unix.IFF_UP | unix.IFF_LOOPBACK, OperState: "unknown", Carrier: true, TxQueueLen: 1000, RxBytes: rx},
			{Index: 2, Name: "eth0", Type: unix.ARPHRD_ETHER, Address: []byte{2, 0x42, 0xac, 0x11, 0, 2},
				Broadcast: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, MTU: 1500,
				Flags: unix.IFF_UP | unix.IFF_BROADCAST | unix.IFF_MULTICAST, OperState: "up", Carrier: true, TxQueueLen: 1000, TxDropped: 4},
		}
	}}
	for _, tc := range []struct{ path, want string }{
		{"/class/net/lo/mtu", "65536\n"},
		{"/class/net/lo/ifindex", "1\n"},
		{"/class/net/lo/iflink", "1\n"},
		{"/class/net/lo/type", "772\n"},
		{"/class/net/lo/flags", "0x9\n"},
		{"/class/net/lo/operstate", "unknown\n"},
		{"/class/net/lo/address", "00:00:00:00:00:00\n"},
		{"/class/net/lo/addr_len", "6\n"},
		{"/class/net/lo/carrier", "1\n"},
		{"/class/net/lo/tx_queue_len", "1000\n"},
		{"/class/net/lo/statistics/rx_bytes", "10\n"},
		{"/class/net/lo/statistics/rx_crc_errors", "0\n"},
		{"/devices/virtual/net/eth0/address", "02:42:ac:11:00:02\n"},
		{"/class/net/eth0/broadcast", "ff:ff:ff:ff:ff:ff\n"},
		{"/class/net/eth0/flags", "0x1003\n"},
		{"/class/net/eth0/type", "1\n"},
		{"/class/net/eth0/operstate", "up\n"},
		{"/class/net/eth0/statistics/tx_dropped", "4\n"},
		{"/class/net/eth0/uevent", "INTERFACE=eth0\nIFINDEX=2\n"},
	} {
		if got := readAll(t, opts, tc.path); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.path, got, tc.want)
		}
	}
	// Counters are read at each open.
	rx = 99
	if got := readAll(t, opts, "/class/net/lo/statistics/rx_bytes"); got != "99\n" {
		t.Errorf("rx_bytes after traffic = %q, want 99", got)
	}
}

func TestClassNetEntriesAreLinks(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	v := vfs.New()
	opts := sys.Options{NetInterfaces: func() []sys.NetInterface {
		return []sys.NetInterface{{Index: 1, Name: "lo"}, {Index: 3, Name: "bad/name"}}
	}}
	ns, err := v.NewMountNamespace(ctx, sys.New(ctx, opts), 0)
	if err != nil {
		t.Fatal(err)
	}
	root := ns.Root()
	defer root.DecRef(ctx)
	got, err := v.ReadlinkAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: "/class/net/lo"})
	if err != nil || got != "../../devices/virtual/net/lo" {
		t.Fatalf("readlink /class/net/lo = %q, %v", got, err)
	}
	if _, err := v.ReadlinkAt(ctx, &vfs.PathOperation{Root: root, Start: root, Path: "/class/net/bad"}); err != unix.ENOENT {
		t.Errorf("an interface name with a slash: %v, want ENOENT", err)
	}
}
