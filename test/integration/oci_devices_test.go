package integration

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestOCIDevices runs a container whose spec lists linux.devices and
// checks the nodes its /dev gets (type, numbers, mode, owner), that a
// device the Sentry has no driver for fails to open with ENXIO (no host
// device is ever reached), that the default devices work, and that /dev
// is a tmpfs the guest can add names to, as under runc.
func TestOCIDevices(t *testing.T) {
	e := newOCIEnv(t)
	mode := os.FileMode(0o646)
	uid, gid := uint32(5), uint32(6)
	script := strings.Join([]string{
		"busybox stat -c '%n %F %t:%T %a %u:%g' /dev/test1 /dev/sub/blk /dev/fifo1 /dev/null",
		"cat /dev/test1 /dev/sub/blk 2>&1",
		"echo data >/dev/null && busybox head -c 4 /dev/zero | busybox wc -c",
		"busybox mkdir /dev/newdir && busybox ln -s /dev/null /dev/link && echo dev-writable",
		"busybox readlink /dev/ptmx; busybox readlink /dev/fd",
	}, "; ")
	spec := e.spec("sh", "-c", script)
	spec.Root.Readonly = false
	spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/test1", Type: "c", Major: 10, Minor: 666, FileMode: &mode, UID: &uid, GID: &gid},
		{Path: "/dev/sub/blk", Type: "b", Major: 8, Minor: 1},
		{Path: "/dev/fifo1", Type: "p"},
	}
	id := e.id("devices")
	e.deleteAtCleanup(id)
	r := e.runsc("run", "--bundle", e.bundle(spec, nil), id)
	if r.status != 0 {
		t.Fatalf("runsc run: status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
	}
	want := strings.Join([]string{
		"/dev/test1 character special file a:29a 646 5:6",
		"/dev/sub/blk block special file 8:1 666 0:0",
		"/dev/fifo1 fifo 0:0 666 0:0",
		"/dev/null character special file 1:3 666 0:0",
		"cat: can't open '/dev/test1': No such device or address",
		"cat: can't open '/dev/sub/blk': No such device or address",
		"4",
		"dev-writable",
		"pts/ptmx",
		"/proc/self/fd",
	}, "\n") + "\n"
	if r.stdout != want {
		t.Errorf("container printed\n%s\nwant\n%s", r.stdout, want)
	}

	// A bad device entry fails create, naming the field.
	bad := e.spec("true")
	bad.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x", Type: "q"}}
	r = e.runsc("create", "--bundle", e.bundle(bad, nil), e.id("baddevice"))
	if r.status != 1 || !strings.Contains(r.stderr, "linux.devices[0] (/dev/x)") {
		t.Errorf("create with a bad device type: status %d, stderr %q; want 1 and an error naming linux.devices[0]", r.status, r.stderr)
	}
}
