package vfs_test

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// newLockedEnv is newEnv's tree (/tmp, /ro read-only) plus /tmp/sub
// (nosuid, noexec, relatime) and the plain directories /mnt and /etc, with
// every mount but the root locked, as the sandbox's are.
func newLockedEnv(t *testing.T) *env {
	e := newEnv(t)
	e.mkdir("/tmp/sub", 0o755)
	e.mount("/tmp/sub", unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_RELATIME)
	e.mkdir("/mnt", 0o755)
	e.mkdir("/etc", 0o755)
	e.vfs.LockMountTree(e.ns)
	return e
}

// popFrom is pop with root as the caller's root.
func (e *env) popFrom(root vfs.VirtualDentry, path string) *vfs.PathOperation {
	return &vfs.PathOperation{Root: root, Start: root, Path: path, FollowFinalSymlink: true}
}

// mntID returns the ID of the mount path is on, walking from start.
func (e *env) mntID(start vfs.VirtualDentry, path string) uint64 {
	e.t.Helper()
	st, err := e.vfs.StatAt(e.ctx, &vfs.PathOperation{Root: e.root, Start: start, Path: path, FollowFinalSymlink: true})
	if err != nil {
		e.t.Fatalf("StatAt(%q): %v", path, err)
	}
	return st.Mnt_id
}

func TestLockedMountsCannotBeUnmounted(t *testing.T) {
	e := newLockedEnv(t)
	cases := []struct {
		path  string
		flags int
		want  error
	}{
		{"/tmp", 0, unix.EINVAL}, // not EBUSY: the lock is checked first
		{"/tmp", unix.MNT_DETACH, unix.EINVAL},
		{"/tmp/sub", 0, unix.EINVAL},
		{"/tmp/sub", unix.MNT_DETACH | unix.MNT_FORCE, unix.EINVAL},
		{"/ro", unix.MNT_DETACH, unix.EINVAL},
		{"/", 0, unix.EBUSY}, // the namespace root is not locked
		{"/", unix.MNT_DETACH, unix.EINVAL},
	}
	for _, c := range cases {
		if err := e.vfs.UmountAt(e.ctx, e.pop(c.path, true), c.flags); err != c.want {
			t.Errorf("UmountAt(%q, %#x) = %v, want %v", c.path, c.flags, err, c.want)
		}
	}
	// A mount of the guest's own, even stacked on a locked one, goes.
	before := e.mntID(e.root, "/tmp")
	e.mount("/tmp", 0)
	if err := e.vfs.UmountAt(e.ctx, e.pop("/tmp", true), 0); err != nil {
		t.Errorf("umount of a mount on a locked one: %v", err)
	}
	if got := e.mntID(e.root, "/tmp"); got != before {
		t.Errorf("after the umount /tmp is on mount %d, want the locked %d", got, before)
	}
	// So does a mount of its own on a directory of a locked mount.
	e.mkdir("/tmp/own", 0o755)
	e.mount("/tmp/own", 0)
	if err := e.vfs.UmountAt(e.ctx, e.pop("/tmp/own", true), unix.MNT_DETACH); err != nil {
		t.Errorf("umount below a locked mount: %v", err)
	}
}

func TestLockedMountsCannotBeMoved(t *testing.T) {
	e := newLockedEnv(t)
	e.mkdir("/mnt/a", 0o755)
	e.mkdir("/mnt/b", 0o755)
	e.mount("/mnt/a", 0)
	e.mkdir("/mnt/a/in", 0o755)
	e.writeFile("/mnt/a/f", "x")
	cases := []struct {
		src, dst string
		want     error
	}{
		{"/tmp", "/mnt/b", unix.EINVAL},
		{"/tmp/sub", "/mnt/b", unix.EINVAL},
		{"/ro", "/mnt/b", unix.EINVAL},
		{"/", "/mnt/b", unix.EINVAL},    // the namespace root
		{"/etc", "/mnt/b", unix.EINVAL}, // not a mount point
		{"/mnt/a", "/mnt/a/in", unix.ELOOP},
		{"/mnt/a", "/mnt/b", nil},   // the guest's own mount moves
		{"/mnt/b", "/tmp/sub", nil}, // onto a locked mount too
	}
	for _, c := range cases {
		if err := e.vfs.MoveAt(e.ctx, e.pop(c.src, true), e.pop(c.dst, true)); err != c.want {
			t.Errorf("MoveAt(%q, %q) = %v, want %v", c.src, c.dst, err, c.want)
		}
	}
	if got := e.readFile("/tmp/sub/f"); got != "x" {
		t.Errorf("moved mount holds %q, want x", got)
	}
	if mps := e.mountPoints(e.root); !equalStrings(mps, []string{"/", "/tmp", "/tmp/sub", "/tmp/sub", "/ro"}) {
		t.Errorf("mount points after the moves: %v", mps)
	}
}

func TestBindOfLockedMounts(t *testing.T) {
	cases := []struct {
		src       string
		recursive bool
		want      error
	}{
		{"/", false, unix.EINVAL},    // /tmp and /ro are locked below it
		{"/tmp", false, unix.EINVAL}, // /tmp/sub is
		{"/tmp/sub", false, nil},     // locked itself, nothing below
		{"/etc", false, nil},         // no locked mount at or below /etc
		{"/ro", false, nil},
		{"/", true, nil},
		{"/tmp", true, nil},
	}
	for _, c := range cases {
		e := newLockedEnv(t)
		if err := e.vfs.BindAt(e.ctx, e.pop(c.src, true), e.pop("/mnt", true), c.recursive); err != c.want {
			t.Errorf("BindAt(%q, rec %v) = %v, want %v", c.src, c.recursive, err, c.want)
		}
	}
}

func TestRecursiveBindCopiesTheLocks(t *testing.T) {
	e := newLockedEnv(t)
	if err := e.vfs.BindAt(e.ctx, e.pop("/", true), e.pop("/mnt", true), true); err != nil {
		t.Fatalf("rbind: %v", err)
	}
	cases := []struct {
		path  string
		flags int
		want  error
	}{
		{"/mnt/tmp/sub", unix.MNT_DETACH, unix.EINVAL},
		{"/mnt/tmp", unix.MNT_DETACH, unix.EINVAL},
		{"/mnt/ro", unix.MNT_DETACH, unix.EINVAL},
		{"/mnt", unix.MNT_DETACH, nil}, // the top of the copy is not locked
	}
	for _, c := range cases {
		if err := e.vfs.UmountAt(e.ctx, e.pop(c.path, true), c.flags); err != c.want {
			t.Errorf("UmountAt(%q) = %v, want %v", c.path, err, c.want)
		}
	}
	// The copy of a locked mount that is also unbindable can't be left
	// out of a recursive bind.
	if err := e.vfs.SetPropagationAt(e.ctx, e.pop("/tmp/sub", true), unix.MS_UNBINDABLE, false); err != nil {
		t.Fatal(err)
	}
	if err := e.vfs.BindAt(e.ctx, e.pop("/tmp", true), e.pop("/mnt", true), true); err != unix.EPERM {
		t.Errorf("rbind over a locked unbindable mount: %v, want EPERM", err)
	}
}

func TestRemountKeepsLockedFlags(t *testing.T) {
	e := newLockedEnv(t)
	e.mkdir("/mnt/own", 0o755)
	e.mount("/mnt/own", unix.MS_RDONLY|unix.MS_NOSUID)
	const relatime = unix.MS_RELATIME
	cases := []struct {
		path  string
		flags uint32
		want  error
	}{
		{"/ro", 0, unix.EPERM}, // read-write
		{"/ro", unix.MS_RDONLY | unix.MS_NOATIME, unix.EPERM},
		{"/ro", unix.MS_RDONLY | unix.MS_STRICTATIME, nil}, // ro was mounted strictatime
		{"/ro", unix.MS_RDONLY, nil},
		{"/ro", unix.MS_RDONLY | unix.MS_NODEV | unix.MS_NOEXEC, nil}, // adding is fine
		{"/tmp/sub", unix.MS_NOSUID, unix.EPERM},                      // exec
		{"/tmp/sub", unix.MS_NOEXEC, unix.EPERM},                      // suid
		{"/tmp/sub", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_STRICTATIME, unix.EPERM},
		{"/tmp/sub", unix.MS_NOSUID | unix.MS_NOEXEC | relatime, nil},
		{"/tmp/sub", unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_RDONLY, nil}, // atime kept
		{"/", unix.MS_NOATIME, unix.EPERM},                                  // the root's flags are locked too
		{"/", unix.MS_RDONLY, nil},
		{"/", 0, nil},
		{"/mnt/own", unix.MS_NOATIME, nil}, // not locked
		{"/mnt/own", 0, nil},
	}
	for _, c := range cases {
		if err := e.vfs.RemountAt(e.ctx, e.pop(c.path, true), c.flags); err != c.want {
			t.Errorf("RemountAt(%q, %#x) = %v, want %v", c.path, c.flags, err, c.want)
		}
	}
	// A failed remount changes nothing.
	for _, m := range e.vfs.MountsFrom(e.ctx, e.root) {
		if m.MountPoint == "/ro" && m.Flags != unix.MS_RDONLY|unix.MS_NODEV|unix.MS_NOEXEC {
			t.Errorf("/ro flags = %#x after the remounts", m.Flags)
		}
	}
}

func TestCopiedTreeKeepsTheLocks(t *testing.T) {
	e := newLockedEnv(t)
	cp := e.vfs.CopyMountTree(e.ctx, e.root)
	defer cp[0].DecRef(e.ctx)
	e.roots = append(e.roots, cp[0])
	for _, p := range []string{"/tmp", "/tmp/sub", "/ro"} {
		if err := e.vfs.UmountAt(e.ctx, e.popFrom(cp[0], p), unix.MNT_DETACH); err != unix.EINVAL {
			t.Errorf("umount of %s in the copy: %v, want EINVAL", p, err)
		}
	}
	if err := e.vfs.BindAt(e.ctx, e.popFrom(cp[0], "/tmp"), e.popFrom(cp[0], "/mnt"), false); err != unix.EINVAL {
		t.Errorf("bind of /tmp in the copy: %v, want EINVAL", err)
	}
	if err := e.vfs.RemountAt(e.ctx, e.popFrom(cp[0], "/ro"), 0); err != unix.EPERM {
		t.Errorf("remount rw of /ro in the copy: %v, want EPERM", err)
	}
}

func TestLazyUmountKeepsLockedMountsAttached(t *testing.T) {
	e := newLockedEnv(t)
	if err := e.vfs.BindAt(e.ctx, e.pop("/", true), e.pop("/mnt", true), true); err != nil {
		t.Fatalf("rbind: %v", err)
	}
	e.mount("/mnt/etc", 0) // the guest's own, not locked
	top, err := e.vfs.GetDentryAt(e.ctx, e.pop("/mnt", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := e.vfs.GetDentryAt(e.ctx, e.pop("/mnt/tmp/sub", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.DecRef(e.ctx)
	topID, tmpID, subID := e.mntID(top, "."), e.mntID(top, "tmp"), e.mntID(top, "tmp/sub")
	if err := e.vfs.UmountAt(e.ctx, e.pop("/mnt", true), unix.MNT_DETACH); err != nil {
		t.Fatalf("umount -l: %v", err)
	}
	cases := []struct {
		path string
		want uint64
	}{
		{"tmp", tmpID},     // locked: still there
		{"tmp/sub", subID}, // below a locked one: still there
		{"etc", topID},     // the guest's own: detached, the directory shows
		{"tmp/sub/..", tmpID},
	}
	for _, c := range cases {
		if got := e.mntID(top, c.path); got != c.want {
			t.Errorf("after umount -l, %s is on mount %d, want %d", c.path, got, c.want)
		}
	}
	if err := e.vfs.UmountAt(e.ctx, &vfs.PathOperation{Root: e.root, Start: top, Path: "tmp", FollowFinalSymlink: true}, unix.MNT_DETACH); err != unix.EINVAL {
		t.Errorf("umount of a kept locked mount: %v, want EINVAL", err)
	}
	// With the last user of the detached top gone, the locked mounts
	// kept on it lose their parent: ".." at the root of one stays there.
	top.DecRef(e.ctx)
	if got := e.mntID(sub, ".."); got != subID {
		t.Errorf(".. from a kept mount whose parent is gone is on mount %d, want %d", got, subID)
	}
	e.mount("/mnt", 0)
	if err := e.vfs.UmountAt(e.ctx, e.pop("/mnt", true), 0); err != nil {
		t.Errorf("later umount: %v", err)
	}
	if got := e.mntID(sub, "../.."); got != subID {
		t.Errorf("../.. from a kept mount after the tidy-up is on mount %d, want %d", got, subID)
	}
}

func TestDotDotStaysAtTheRootOfADetachedBindMount(t *testing.T) {
	e := newLockedEnv(t)
	e.mkdir("/etc/inner", 0o755)
	if err := e.vfs.BindAt(e.ctx, e.pop("/etc", true), e.pop("/mnt", true), false); err != nil {
		t.Fatalf("bind: %v", err)
	}
	cwd, err := e.vfs.GetDentryAt(e.ctx, e.pop("/mnt", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cwd.DecRef(e.ctx)
	if err := e.vfs.UmountAt(e.ctx, e.pop("/mnt", true), unix.MNT_DETACH); err != nil {
		t.Fatal(err)
	}
	// ".." must not climb to the filesystem's root, where /tmp's
	// directory, no longer covered, would show.
	st, err := e.vfs.StatAt(e.ctx, &vfs.PathOperation{Root: e.root, Start: cwd, Path: "../inner", FollowFinalSymlink: true})
	if err != nil {
		t.Fatalf("../inner from the detached bind: %v", err)
	}
	if st.Ino != e.ino("/etc/inner") {
		t.Errorf("../inner is not /etc/inner")
	}
}

func TestPivotRootWithLockedMounts(t *testing.T) {
	e := newLockedEnv(t)
	e.mkdir("/tmp/x", 0o755)
	if _, _, err := e.vfs.PivotRoot(e.ctx, e.ns, e.root, e.pop("/tmp", true), e.pop("/tmp/x", true)); err != unix.EINVAL {
		t.Errorf("pivot_root to a locked mount: %v, want EINVAL", err)
	}
	// A root that is a locked mount passes the lock to the new root.
	sub, err := e.vfs.GetDentryAt(e.ctx, e.pop("/tmp/sub", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.DecRef(e.ctx)
	e.mkdir("/tmp/sub/new", 0o755)
	e.mount("/tmp/sub/new", 0)
	e.mkdir("/tmp/sub/new/old", 0o755)
	oldVD, newVD, err := e.vfs.PivotRoot(e.ctx, e.ns, sub, e.popFrom(sub, "/new"), e.popFrom(sub, "/new/old"))
	if err != nil {
		t.Fatalf("pivot_root: %v", err)
	}
	defer oldVD.DecRef(e.ctx)
	defer newVD.DecRef(e.ctx)
	if err := e.vfs.UmountAt(e.ctx, e.popFrom(newVD, "/"), unix.MNT_DETACH); err != unix.EINVAL {
		t.Errorf("umount of the new root: %v, want EINVAL (locked)", err)
	}
	if err := e.vfs.UmountAt(e.ctx, e.popFrom(newVD, "/old"), unix.MNT_DETACH); err != nil {
		t.Errorf("umount of the old root: %v, want success (no longer locked)", err)
	}
}

func TestLockingDoesNotChangeMountinfo(t *testing.T) {
	e := newEnv(t)
	before := e.vfs.MountsFrom(e.ctx, e.root)
	e.vfs.LockMountTree(e.ns)
	if after := e.vfs.MountsFrom(e.ctx, e.root); !reflect.DeepEqual(before, after) {
		t.Errorf("mountinfo changed:\n%+v\n%+v", before, after)
	}
}
