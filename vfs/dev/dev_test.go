package dev_test

import (
	"bytes"
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/dev"
)

func TestDevices(t *testing.T) {
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	v := vfs.New()
	if err := dev.Register(v); err != nil {
		t.Fatalf("Register: %v", err)
	}
	fs := dev.New(ctx)
	ns, err := v.NewMountNamespace(ctx, fs, 0)
	fs.DecRef(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root := ns.Root()
	defer root.DecRef(ctx)
	pop := func(p string, follow bool) *vfs.PathOperation {
		return &vfs.PathOperation{Root: root, Start: root, Path: p, FollowFinalSymlink: follow}
	}
	open := func(p string) *vfs.FileDescription {
		t.Helper()
		fd, err := v.OpenAt(ctx, pop(p, true), vfs.OpenOptions{Flags: unix.O_RDWR})
		if err != nil {
			t.Fatalf("OpenAt(%s): %v", p, err)
		}
		t.Cleanup(func() { fd.DecRef(ctx) })
		return fd
	}
	buf := bytes.Repeat([]byte{0xff}, 64)
	for _, tc := range []struct {
		path     string
		minor    uint32
		readN    int
		readZero bool
		writeErr error
	}{
		{"/null", dev.NullMinor, 0, false, nil},
		{"/zero", dev.ZeroMinor, 64, true, nil},
		{"/full", dev.FullMinor, 64, true, unix.ENOSPC},
		{"/random", dev.RandomMinor, 64, false, nil},
		{"/urandom", dev.URandMinor, 64, false, nil},
	} {
		st, err := v.StatAt(ctx, pop(tc.path, true))
		if err != nil || uint32(st.Mode) != unix.S_IFCHR|0o666 || st.Rdev_major != 1 || st.Rdev_minor != tc.minor {
			t.Errorf("StatAt(%s) = mode %#o rdev %d:%d, %v; want char 0666 1:%d", tc.path, st.Mode, st.Rdev_major, st.Rdev_minor, err, tc.minor)
		}
		fd := open(tc.path)
		n, err := fd.Read(ctx, buf)
		if n != tc.readN || err != nil {
			t.Errorf("Read(%s) = %d, %v; want %d", tc.path, n, err, tc.readN)
		}
		if tc.readZero && !bytes.Equal(buf, make([]byte, 64)) {
			t.Errorf("Read(%s) returned non-zero bytes", tc.path)
		}
		if n, err := fd.Write(ctx, []byte("abc")); err != tc.writeErr || (err == nil && n != 3) {
			t.Errorf("Write(%s) = %d, %v; want 3, %v", tc.path, n, err, tc.writeErr)
		}
	}
	for link, target := range map[string]string{"/fd": "/proc/self/fd", "/stdin": "/proc/self/fd/0", "/stdout": "/proc/self/fd/1", "/stderr": "/proc/self/fd/2"} {
		if got, err := v.ReadlinkAt(ctx, pop(link, false)); got != target || err != nil {
			t.Errorf("ReadlinkAt(%s) = %q, %v; want %q", link, got, err, target)
		}
	}
	for _, d := range []string{"/shm", "/pts"} {
		if st, err := v.StatAt(ctx, pop(d, true)); err != nil || uint32(st.Mode)&unix.S_IFMT != unix.S_IFDIR {
			t.Errorf("StatAt(%s) = %#o, %v; want a directory", d, st.Mode, err)
		}
	}
	if err := v.MkdirAt(ctx, pop("/x", false), 0o755); err != unix.EPERM {
		t.Errorf("MkdirAt in /dev = %v, want EPERM", err)
	}
	d, err := v.OpenAt(ctx, pop("/", true), vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		t.Fatal(err)
	}
	defer d.DecRef(ctx)
	n, err := d.Getdents64(ctx, make([]byte, 4096))
	if err != nil || n == 0 {
		t.Errorf("Getdents64(/dev) = %d, %v", n, err)
	}
}
