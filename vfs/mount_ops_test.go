package vfs_test

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// mountPoints returns the mount points MountsFrom lists from root.
func (e *env) mountPoints(root vfs.VirtualDentry) []string {
	var out []string
	for _, m := range e.vfs.MountsFrom(e.ctx, root) {
		out = append(out, m.MountPoint)
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestMountsFromListsTheTreeParentsFirst(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/tmp/a", 0o755)
	e.mount("/tmp/a", unix.MS_NOEXEC)
	got := e.vfs.MountsFrom(e.ctx, e.root)
	want := []string{"/", "/tmp", "/tmp/a", "/ro"}
	if mps := e.mountPoints(e.root); !equalStrings(mps, want) {
		t.Fatalf("mount points = %v, want %v", mps, want)
	}
	if got[2].ParentID != got[1].ID || got[2].Flags != unix.MS_NOEXEC || got[2].FSType != "tmpfs" || got[2].Root != "/" {
		t.Errorf("/tmp/a = %+v, want parent %d, noexec, tmpfs, root /", got[2], got[1].ID)
	}
	if got[3].Flags&unix.MS_RDONLY == 0 {
		t.Errorf("/ro flags = %#x, want MS_RDONLY", got[3].Flags)
	}
	// Seen from /tmp (a chroot), the root mount and /ro are outside.
	tmp, err := e.vfs.GetDentryAt(e.ctx, e.pop("/tmp", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer tmp.DecRef(e.ctx)
	if mps := e.mountPoints(tmp); !equalStrings(mps, []string{"/", "/a"}) {
		t.Errorf("from /tmp: mount points = %v, want [/ /a]", mps)
	}
}

func TestUmountAt(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/tmp/d", 0o755)
	e.mount("/tmp/d", 0)
	if err := e.vfs.UmountAt(e.ctx, e.pop("/tmp", true), 0); err != unix.EBUSY {
		t.Errorf("umount of /tmp with a mount below: %v, want EBUSY", err)
	}
	if err := e.vfs.UmountAt(e.ctx, e.pop("/tmp/d/..", true), 0); err != unix.EBUSY {
		t.Errorf("umount of /tmp/d/..: %v, want EBUSY", err)
	}
	if err := e.vfs.UmountAt(e.ctx, e.pop("/ro/..", true), 0); err != unix.EBUSY {
		t.Errorf("umount of the namespace root: %v, want EBUSY", err)
	}
	e.mkdir("/tmp/plain", 0o755)
	if err := e.vfs.UmountAt(e.ctx, e.pop("/tmp/plain", true), 0); err != unix.EINVAL {
		t.Errorf("umount of a plain directory: %v, want EINVAL", err)
	}
	fd, err := e.vfs.OpenAt(e.ctx, e.pop("/tmp/d", true), vfs.OpenOptions{Flags: unix.O_RDONLY | unix.O_DIRECTORY})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.vfs.UmountAt(e.ctx, e.pop("/tmp/d", true), 0); err != unix.EBUSY {
		t.Errorf("umount with an open directory: %v, want EBUSY", err)
	}
	if err := e.vfs.UmountAt(e.ctx, e.pop("/tmp/d", true), unix.MNT_DETACH); err != nil {
		t.Errorf("lazy umount: %v", err)
	}
	fd.DecRef(e.ctx)
	if mps := e.mountPoints(e.root); !equalStrings(mps, []string{"/", "/tmp", "/ro"}) {
		t.Errorf("after umount: %v", mps)
	}
	noCaps := vfs.WithCredentials(e.ctx, &vfs.Credentials{UID: 1000})
	if err := e.vfs.UmountAt(noCaps, e.pop("/ro", true), 0); err != unix.EPERM {
		t.Errorf("umount without CAP_SYS_ADMIN: %v, want EPERM", err)
	}
}

func TestBindRemountPropagationAndCopy(t *testing.T) {
	e := newEnv(t)
	for _, d := range []string{"/tmp/a", "/tmp/a/sub", "/tmp/b", "/tmp/c"} {
		e.mkdir(d, 0o755)
	}
	e.mount("/tmp/a/sub", 0)
	if err := e.vfs.BindAt(e.ctx, e.pop("/tmp/a", true), e.pop("/tmp/b", true), true); err != nil {
		t.Fatalf("rbind: %v", err)
	}
	if err := e.vfs.BindAt(e.ctx, e.pop("/tmp/a", true), e.pop("/tmp/c", true), false); err != nil {
		t.Fatalf("bind: %v", err)
	}
	want := []string{"/", "/tmp", "/tmp/a/sub", "/tmp/b", "/tmp/b/sub", "/tmp/c", "/ro"}
	if mps := e.mountPoints(e.root); !equalStrings(mps, want) {
		t.Fatalf("mount points = %v, want %v", mps, want)
	}
	if ms := e.vfs.MountsFrom(e.ctx, e.root); ms[3].Root != "/a" {
		t.Errorf("bind of /tmp/a: root %q, want /a", ms[3].Root)
	}
	if err := e.vfs.RemountAt(e.ctx, e.pop("/tmp/c", true), unix.MS_RDONLY); err != nil {
		t.Fatal(err)
	}
	if err := e.vfs.MkdirAt(e.ctx, e.pop("/tmp/c/x", false), 0o755); err != unix.EROFS {
		t.Errorf("mkdir on a read-only bind: %v, want EROFS", err)
	}
	e.mkdir("/tmp/a/x", 0o755)
	if err := e.vfs.SetPropagationAt(e.ctx, e.pop("/tmp/b", true), unix.MS_UNBINDABLE, true); err != nil {
		t.Fatal(err)
	}
	if err := e.vfs.BindAt(e.ctx, e.pop("/tmp/b/sub", true), e.pop("/tmp/a/x", true), false); err != unix.EINVAL {
		t.Errorf("bind of an unbindable mount: %v, want EINVAL", err)
	}
	if err := e.vfs.SetPropagationAt(e.ctx, e.pop("/tmp/a", true), unix.MS_SHARED, false); err != unix.EINVAL {
		t.Errorf("propagation change on a non-mount point: %v, want EINVAL", err)
	}

	// A copied tree is independent of the original.
	cp := e.vfs.CopyMountTree(e.ctx, e.root)
	defer cp[0].DecRef(e.ctx)
	e.roots = append(e.roots, cp[0])
	if err := e.vfs.UmountAt(e.ctx, &vfs.PathOperation{Root: cp[0], Start: cp[0], Path: "/tmp/c"}, 0); err != nil {
		t.Fatalf("umount in the copy: %v", err)
	}
	if mps := e.mountPoints(cp[0]); len(mps) != len(want)-1 {
		t.Errorf("copy after umount: %v", mps)
	}
	if mps := e.mountPoints(e.root); !equalStrings(mps, want) {
		t.Errorf("original after umount in the copy: %v, want %v", mps, want)
	}
}

func TestPivotRoot(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/tmp/new", 0o755)
	e.mkdir("/tmp/plain", 0o755)
	e.mount("/tmp/new", 0)
	e.mkdir("/tmp/new/old", 0o755)
	cases := []struct {
		newRoot, putOld string
		want            error
	}{
		{"/tmp/plain", "/tmp/plain", unix.EINVAL},
		{"/tmp/new", "/tmp/plain", unix.EINVAL},
		{"/", "/tmp/new/old", unix.EBUSY},
		{"/tmp/new", "/ro/..", unix.EBUSY},
		{"/tmp/new", "/tmp/missing", unix.ENOENT},
	}
	for _, c := range cases {
		if _, _, err := e.vfs.PivotRoot(e.ctx, nil, e.root, e.pop(c.newRoot, true), e.pop(c.putOld, true)); err != c.want {
			t.Errorf("PivotRoot(%q, %q) = %v, want %v", c.newRoot, c.putOld, err, c.want)
		}
	}
	oldVD, newVD, err := e.vfs.PivotRoot(e.ctx, nil, e.root, e.pop("/tmp/new", true), e.pop("/tmp/new/old", true))
	if err != nil {
		t.Fatalf("PivotRoot: %v", err)
	}
	defer oldVD.DecRef(e.ctx)
	defer newVD.DecRef(e.ctx)
	e.roots = append(e.roots, newVD)
	if !oldVD.Equal(e.root) {
		t.Errorf("old root is not the caller's root")
	}
	want := []string{"/", "/old", "/old/tmp", "/old/ro"}
	if mps := e.mountPoints(newVD); !equalStrings(mps, want) {
		t.Errorf("after pivot_root: %v, want %v", mps, want)
	}
}

// A filesystem whose root is a host directory (a gofer's bind mount)
// shows that directory in mountinfo's root field, as a bind mount does on
// Linux; a bind of a subdirectory of it shows the path below it.
func TestMountInfoRootPath(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/mnt", 0o755)
	fs := e.newTmpfs()
	fs.SetRootPath("/etc")
	if err := e.vfs.MountAt(e.ctx, e.pop("/mnt", true), fs, 0); err != nil {
		t.Fatal(err)
	}
	fs.DecRef(e.ctx)
	e.mkdir("/mnt/sub", 0o755)
	e.mkdir("/bound", 0o755)
	if err := e.vfs.BindAt(e.ctx, e.pop("/mnt/sub", true), e.pop("/bound", true), false); err != nil {
		t.Fatal(err)
	}
	roots := map[string]string{}
	for _, m := range e.vfs.MountsFrom(e.ctx, e.root) {
		roots[m.MountPoint] = m.Root
	}
	for mp, want := range map[string]string{"/mnt": "/etc", "/bound": "/etc/sub", "/tmp": "/", "/": "/"} {
		if roots[mp] != want {
			t.Errorf("root of %s = %q, want %q", mp, roots[mp], want)
		}
	}
}
