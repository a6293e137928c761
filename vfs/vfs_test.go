package vfs_test

import (
	"context"
	"encoding/binary"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
)

// env is a VFS with a tmpfs root, a tmpfs on /tmp and a read-only tmpfs on
// /ro.
type env struct {
	t    *testing.T
	ctx  context.Context
	vfs  *vfs.VirtualFilesystem
	mem  *memory.File
	root vfs.VirtualDentry
	ns   *vfs.MountNamespace
	// roots are the roots of the mount trees the test made besides ns's
	// (copies, new roots), for the release at its end.
	roots []vfs.VirtualDentry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	refs.CheckLeaks(t)
	mem, err := memory.New("vfs-test")
	if err != nil {
		t.Fatalf("memory.New: %v", err)
	}
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	e := &env{t: t, ctx: ctx, vfs: vfs.New(), mem: mem}
	rootfs := e.newTmpfs()
	ns, err := e.vfs.NewMountNamespace(ctx, rootfs, 0)
	if err != nil {
		t.Fatalf("NewMountNamespace: %v", err)
	}
	rootfs.DecRef(ctx)
	e.ns = ns
	e.root = ns.Root()
	t.Cleanup(func() {
		e.root.DecRef(ctx)
		// Take the namespace apart so that CheckLeaks sees every object
		// the test left behind, and check that the memory went too.
		e.vfs.ReleaseMountsForTest(ctx, append(e.roots, e.root)...)
		if n := mem.Usage(); n != 0 {
			t.Errorf("memory file usage after the mounts' release = %d, want 0", n)
		}
	})
	e.mkdir("/tmp", 0o777)
	e.mkdir("/ro", 0o755)
	e.mount("/tmp", 0)
	e.mount("/ro", unix.MS_RDONLY)
	return e
}

func (e *env) newTmpfs() *vfs.Filesystem {
	fs, err := tmpfs.New(e.ctx, tmpfs.Options{Mem: e.mem, RootMode: 0o755})
	if err != nil {
		e.t.Fatalf("tmpfs.New: %v", err)
	}
	return fs
}

func (e *env) mount(path string, flags uint32) {
	e.t.Helper()
	fs := e.newTmpfs()
	defer fs.DecRef(e.ctx)
	if err := e.vfs.MountAt(e.ctx, e.pop(path, true), fs, flags); err != nil {
		e.t.Fatalf("MountAt(%q): %v", path, err)
	}
}

func (e *env) pop(path string, follow bool) *vfs.PathOperation {
	return &vfs.PathOperation{Root: e.root, Start: e.root, Path: path, FollowFinalSymlink: follow}
}

func (e *env) mkdir(path string, mode uint32) {
	e.t.Helper()
	if err := e.vfs.MkdirAt(e.ctx, e.pop(path, false), mode); err != nil {
		e.t.Fatalf("MkdirAt(%q): %v", path, err)
	}
}

func (e *env) symlink(path, target string) {
	e.t.Helper()
	if err := e.vfs.SymlinkAt(e.ctx, e.pop(path, false), target); err != nil {
		e.t.Fatalf("SymlinkAt(%q): %v", path, err)
	}
}

func (e *env) writeFile(path, data string) {
	e.t.Helper()
	fd, err := e.vfs.OpenAt(e.ctx, e.pop(path, true), vfs.OpenOptions{Flags: unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, Mode: 0o644})
	if err != nil {
		e.t.Fatalf("OpenAt(%q, O_CREAT): %v", path, err)
	}
	defer fd.DecRef(e.ctx)
	if n, err := fd.Write(e.ctx, []byte(data)); err != nil || n != len(data) {
		e.t.Fatalf("Write(%q) = %d, %v; want %d, nil", path, n, err, len(data))
	}
}

func (e *env) readFile(path string) string {
	e.t.Helper()
	fd, err := e.vfs.OpenAt(e.ctx, e.pop(path, true), vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		e.t.Fatalf("OpenAt(%q): %v", path, err)
	}
	defer fd.DecRef(e.ctx)
	var sb strings.Builder
	buf := make([]byte, 3)
	for {
		n, err := fd.Read(e.ctx, buf)
		if err != nil {
			e.t.Fatalf("Read(%q): %v", path, err)
		}
		if n == 0 {
			return sb.String()
		}
		sb.Write(buf[:n])
	}
}

func (e *env) ino(path string) uint64 {
	e.t.Helper()
	st, err := e.vfs.StatAt(e.ctx, e.pop(path, true))
	if err != nil {
		e.t.Fatalf("StatAt(%q): %v", path, err)
	}
	return st.Ino
}

// buildTree makes the tree the walk tests use.
func (e *env) buildTree() {
	e.mkdir("/a", 0o755)
	e.mkdir("/a/b", 0o755)
	e.writeFile("/a/b/c", "hello")
	e.symlink("/a/link", "b")
	e.symlink("/abs", "/a/b")
	e.symlink("/loop1", "loop2")
	e.symlink("/loop2", "loop1")
	e.symlink("/dangling", "nowhere")
	e.symlink("/dotdot", "a/b/../..")
	e.mkdir("/private", 0o700)
	e.mkdir("/private/x", 0o777)
	e.writeFile("/tmp/x", "tmp")
	e.writeFile("/file", "f")
	// A chain of 40 symlinks is fine, 41 is too many.
	e.writeFile("/target", "t")
	prev := "/target"
	for i := 1; i <= 41; i++ {
		name := "/chain" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		e.symlink(name, prev)
		prev = name
	}
}

func chainName(i int) string { return "/chain" + string(rune('a'+i/26)) + string(rune('a'+i%26)) }

func TestWalk(t *testing.T) {
	e := newEnv(t)
	e.buildTree()
	user := vfs.WithCredentials(e.ctx, &vfs.Credentials{UID: 1000, GID: 1000})
	for _, tc := range []struct {
		name   string
		path   string
		follow bool
		ctx    context.Context
		want   string // path whose inode the result must be, if no error
		mode   uint32 // else expected file type
		err    error
	}{
		{name: "empty path", path: "", err: unix.ENOENT},
		{name: "root", path: "/", want: "/"},
		{name: "many slashes", path: "///a//b///c", want: "/a/b/c"},
		{name: "file", path: "/a/b/c", want: "/a/b/c"},
		{name: "trailing slash on file", path: "/a/b/c/", err: unix.ENOTDIR},
		{name: "dot after file", path: "/a/b/c/.", err: unix.ENOTDIR},
		{name: "file in the middle", path: "/a/b/c/d", err: unix.ENOTDIR},
		{name: "missing", path: "/a/nope", err: unix.ENOENT},
		{name: "missing in the middle", path: "/nope/x", err: unix.ENOENT},
		{name: "dot and dotdot", path: "/a/./b/../b/./c", want: "/a/b/c"},
		{name: "dotdot above root", path: "/../../../a", want: "/a"},
		{name: "relative symlink mid path", path: "/a/link/c", want: "/a/b/c"},
		{name: "absolute symlink mid path", path: "/abs/c", want: "/a/b/c"},
		{name: "final symlink followed", path: "/a/link", follow: true, want: "/a/b"},
		{name: "final symlink not followed", path: "/a/link", mode: unix.S_IFLNK},
		{name: "trailing slash follows symlink", path: "/a/link/", want: "/a/b"},
		{name: "symlink with dotdot", path: "/dotdot/a", want: "/a"},
		{name: "symlink loop", path: "/loop1", follow: true, err: unix.ELOOP},
		{name: "symlink loop mid path", path: "/loop1/x", err: unix.ELOOP},
		{name: "symlink loop unfollowed", path: "/loop1", mode: unix.S_IFLNK},
		{name: "dangling symlink", path: "/dangling", follow: true, err: unix.ENOENT},
		{name: "40 symlinks", path: chainName(40), follow: true, want: "/target"},
		{name: "41 symlinks", path: chainName(41), follow: true, err: unix.ELOOP},
		{name: "component too long", path: "/" + strings.Repeat("x", 256), err: unix.ENAMETOOLONG},
		{name: "component of 255 bytes", path: "/" + strings.Repeat("x", 255), err: unix.ENOENT},
		{name: "path too long", path: strings.Repeat("/a", 2048), err: unix.ENAMETOOLONG},
		{name: "into mount", path: "/tmp/x", want: "/tmp/x"},
		{name: "dotdot out of mount", path: "/tmp/../a/b/c", want: "/a/b/c"},
		{name: "dotdot at mount root", path: "/tmp/..", want: "/"},
		{name: "no search permission", path: "/private/x", ctx: user, err: unix.EACCES},
		{name: "search permission as root", path: "/private/x", want: "/private/x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := tc.ctx
			if ctx == nil {
				ctx = e.ctx
			}
			st, err := e.vfs.StatAt(ctx, e.pop(tc.path, tc.follow))
			if tc.err != nil {
				if err != tc.err {
					t.Fatalf("StatAt(%q) = %v, want %v", tc.path, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("StatAt(%q) = %v, want success", tc.path, err)
			}
			if tc.want != "" {
				if want := e.ino(tc.want); st.Ino != want {
					t.Errorf("StatAt(%q) ino = %d, want %d (%s)", tc.path, st.Ino, want, tc.want)
				}
			}
			if tc.mode != 0 && uint32(st.Mode)&unix.S_IFMT != tc.mode {
				t.Errorf("StatAt(%q) mode = %#o, want type %#o", tc.path, st.Mode, tc.mode)
			}
		})
	}
}

func TestChrootAndPathname(t *testing.T) {
	e := newEnv(t)
	e.buildTree()
	a, err := e.vfs.GetDentryAt(e.ctx, e.pop("/a", true), vfs.GetDentryOptions{CheckSearchable: true})
	if err != nil {
		t.Fatalf("GetDentryAt(/a): %v", err)
	}
	defer a.DecRef(e.ctx)
	// With /a as root, ".." and absolute symlinks stay inside it.
	pop := &vfs.PathOperation{Root: a, Start: a, Path: "../../b/c"}
	st, err := e.vfs.StatAt(e.ctx, pop)
	if err != nil || st.Ino != e.ino("/a/b/c") {
		t.Errorf("StatAt(../../b/c) in chroot /a = ino %d, %v; want /a/b/c", st.Ino, err)
	}
	b, err := e.vfs.GetDentryAt(e.ctx, e.pop("/a/b", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatalf("GetDentryAt(/a/b): %v", err)
	}
	defer b.DecRef(e.ctx)
	for _, tc := range []struct {
		root, vd vfs.VirtualDentry
		want     string
	}{
		{e.root, b, "/a/b"},
		{a, b, "/b"},
		{a, a, "/"},
		{b, a, "(unreachable)/a"},
	} {
		if got, err := e.vfs.PathnameReachable(e.ctx, tc.root, tc.vd); err != nil || got != tc.want {
			t.Errorf("PathnameReachable = %q, %v; want %q", got, err, tc.want)
		}
	}
	tmpx, err := e.vfs.GetDentryAt(e.ctx, e.pop("/tmp", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatalf("GetDentryAt(/tmp): %v", err)
	}
	defer tmpx.DecRef(e.ctx)
	if got, _ := e.vfs.PathnameReachable(e.ctx, e.root, tmpx); got != "/tmp" {
		t.Errorf("PathnameReachable(/tmp mount root) = %q, want /tmp", got)
	}
	// A removed cwd: getcwd fails with ENOENT, /proc shows " (deleted)".
	e.mkdir("/gone", 0o755)
	gone, err := e.vfs.GetDentryAt(e.ctx, e.pop("/gone", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatalf("GetDentryAt(/gone): %v", err)
	}
	defer gone.DecRef(e.ctx)
	if err := e.vfs.RmdirAt(e.ctx, e.pop("/gone", false)); err != nil {
		t.Fatalf("RmdirAt(/gone): %v", err)
	}
	if _, err := e.vfs.PathnameReachable(e.ctx, e.root, gone); err != unix.ENOENT {
		t.Errorf("PathnameReachable(removed dir) = %v, want ENOENT", err)
	}
	if got := e.vfs.PathnameWithDeleted(e.ctx, e.root, gone); got != "/gone (deleted)" {
		t.Errorf("PathnameWithDeleted = %q, want %q", got, "/gone (deleted)")
	}
	// Relative walks from a removed directory find nothing.
	if err := e.vfs.MkdirAt(e.ctx, &vfs.PathOperation{Root: e.root, Start: gone, Path: "sub"}, 0o755); err != unix.ENOENT {
		t.Errorf("MkdirAt in removed dir = %v, want ENOENT", err)
	}
}

func TestOpen(t *testing.T) {
	e := newEnv(t)
	e.buildTree()
	e.writeFile("/ro-target", "x")
	for _, tc := range []struct {
		name   string
		path   string
		flags  uint32
		err    error
		errCtx context.Context
	}{
		{name: "create exclusive existing", path: "/file", flags: unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, err: unix.EEXIST},
		{name: "create exclusive through symlink", path: "/dangling", flags: unix.O_CREAT | unix.O_EXCL | unix.O_WRONLY, err: unix.EEXIST},
		{name: "create with trailing slash", path: "/newfile/", flags: unix.O_CREAT | unix.O_WRONLY, err: unix.EISDIR},
		{name: "create over a directory", path: "/a", flags: unix.O_CREAT | unix.O_RDONLY, err: unix.EISDIR},
		{name: "create root", path: "/", flags: unix.O_CREAT | unix.O_RDONLY, err: unix.EISDIR},
		{name: "create in missing dir", path: "/nope/x", flags: unix.O_CREAT | unix.O_WRONLY, err: unix.ENOENT},
		{name: "O_DIRECTORY on file", path: "/file", flags: unix.O_DIRECTORY, err: unix.ENOTDIR},
		{name: "write a directory", path: "/a", flags: unix.O_WRONLY, err: unix.EISDIR},
		{name: "O_NOFOLLOW on symlink", path: "/a/link", flags: unix.O_NOFOLLOW, err: unix.ELOOP},
		{name: "O_PATH|O_NOFOLLOW on symlink", path: "/a/link", flags: unix.O_PATH | unix.O_NOFOLLOW},
		{name: "open directory", path: "/a", flags: unix.O_RDONLY | unix.O_DIRECTORY},
		{name: "write on read-only mount", path: "/ro", flags: unix.O_RDONLY | unix.O_CREAT, err: unix.EISDIR},
		{name: "create on read-only mount", path: "/ro/new", flags: unix.O_WRONLY | unix.O_CREAT, err: unix.EROFS},
		{name: "read on read-only mount", path: "/ro", flags: unix.O_RDONLY},
		{name: "no write permission", path: "/file", flags: unix.O_WRONLY, err: unix.EACCES,
			errCtx: vfs.WithCredentials(e.ctx, &vfs.Credentials{UID: 1000, GID: 1000})},
		{name: "create via dangling symlink", path: "/dangling", flags: unix.O_CREAT | unix.O_WRONLY},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := e.ctx
			if tc.errCtx != nil {
				ctx = tc.errCtx
			}
			fd, err := e.vfs.OpenAt(ctx, e.pop(tc.path, true), vfs.OpenOptions{Flags: tc.flags, Mode: 0o644})
			if err != tc.err {
				t.Fatalf("OpenAt(%q, %#x) = %v, want %v", tc.path, tc.flags, err, tc.err)
			}
			if fd != nil {
				fd.DecRef(ctx)
			}
		})
	}
	// The dangling symlink's target now exists.
	if _, err := e.vfs.StatAt(e.ctx, e.pop("/nowhere", false)); err != nil {
		t.Errorf("O_CREAT through a dangling symlink did not create its target: %v", err)
	}
	// O_PATH descriptors only stat.
	fd, err := e.vfs.OpenAt(e.ctx, e.pop("/file", true), vfs.OpenOptions{Flags: unix.O_PATH | unix.O_RDWR})
	if err != nil {
		t.Fatalf("OpenAt(O_PATH): %v", err)
	}
	defer fd.DecRef(e.ctx)
	if _, err := fd.Read(e.ctx, make([]byte, 1)); err != unix.EBADF {
		t.Errorf("Read(O_PATH fd) = %v, want EBADF", err)
	}
	if _, err := fd.Stat(e.ctx); err != nil {
		t.Errorf("Stat(O_PATH fd) = %v, want success", err)
	}
	// O_TRUNC empties a file.
	trunc, err := e.vfs.OpenAt(e.ctx, e.pop("/file", true), vfs.OpenOptions{Flags: unix.O_RDWR | unix.O_TRUNC})
	if err != nil {
		t.Fatalf("OpenAt(O_TRUNC): %v", err)
	}
	trunc.DecRef(e.ctx)
	if got := e.readFile("/file"); got != "" {
		t.Errorf("after O_TRUNC file = %q, want empty", got)
	}
}

func TestReadWriteSeek(t *testing.T) {
	e := newEnv(t)
	fd, err := e.vfs.OpenAt(e.ctx, e.pop("/f", true), vfs.OpenOptions{Flags: unix.O_RDWR | unix.O_CREAT, Mode: 0o600})
	if err != nil {
		t.Fatalf("OpenAt: %v", err)
	}
	defer fd.DecRef(e.ctx)
	big := strings.Repeat("0123456789", 1000) // crosses pages
	if n, err := fd.Write(e.ctx, []byte(big)); n != len(big) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := e.readFile("/f"); got != big {
		t.Fatalf("read back %d bytes, want %d equal bytes", len(got), len(big))
	}
	if off, err := fd.Seek(e.ctx, 0, unix.SEEK_CUR); off != int64(len(big)) || err != nil {
		t.Errorf("Seek(0, SEEK_CUR) = %d, %v; want %d", off, err, len(big))
	}
	// A write far past the end leaves a hole of zeros.
	if n, err := fd.PWrite(e.ctx, []byte("end"), 1<<20); n != 3 || err != nil {
		t.Fatalf("PWrite far = %d, %v", n, err)
	}
	buf := make([]byte, 4)
	if n, err := fd.PRead(e.ctx, buf, 1<<19); n != 4 || err != nil || string(buf) != "\x00\x00\x00\x00" {
		t.Errorf("PRead(hole) = %d, %v, %q; want 4 zero bytes", n, err, buf)
	}
	st, _ := fd.Stat(e.ctx)
	if st.Size != 1<<20+3 || st.Blocks != 4*8 {
		t.Errorf("Stat = size %d blocks %d, want size %d blocks %d", st.Size, st.Blocks, 1<<20+3, 4*8)
	}
	if off, err := fd.Seek(e.ctx, -3, unix.SEEK_END); off != 1<<20 || err != nil {
		t.Errorf("Seek(-3, SEEK_END) = %d, %v", off, err)
	}
	if _, err := fd.Seek(e.ctx, -1, unix.SEEK_SET); err != unix.EINVAL {
		t.Errorf("Seek(-1) = %v, want EINVAL", err)
	}
	if _, err := fd.PRead(e.ctx, buf, -1); err != unix.EINVAL {
		t.Errorf("PRead(-1) = %v, want EINVAL", err)
	}
	// Truncate and re-extend: the cut bytes read as zeros.
	if err := fd.SetStat(e.ctx, vfs.SetStatOptions{Mask: unix.STATX_SIZE, Size: 5}); err != nil {
		t.Fatalf("ftruncate: %v", err)
	}
	if err := fd.SetStat(e.ctx, vfs.SetStatOptions{Mask: unix.STATX_SIZE, Size: 10}); err != nil {
		t.Fatalf("ftruncate: %v", err)
	}
	if got := e.readFile("/f"); got != "01234\x00\x00\x00\x00\x00" {
		t.Errorf("after truncate+extend file = %q", got)
	}
	// O_APPEND writes at the end whatever the offset.
	if err := fd.SetStatusFlags(e.ctx, unix.O_APPEND); err != nil {
		t.Fatal(err)
	}
	fd.Seek(e.ctx, 0, unix.SEEK_SET)
	fd.Write(e.ctx, []byte("AB"))
	if got := e.readFile("/f"); got != "01234\x00\x00\x00\x00\x00AB" {
		t.Errorf("after append file = %q", got)
	}
	// A read-only descriptor cannot write.
	ro, _ := e.vfs.OpenAt(e.ctx, e.pop("/f", true), vfs.OpenOptions{Flags: unix.O_RDONLY})
	defer ro.DecRef(e.ctx)
	if _, err := ro.Write(e.ctx, []byte("x")); err != unix.EBADF {
		t.Errorf("Write(O_RDONLY) = %v, want EBADF", err)
	}
	dir, _ := e.vfs.OpenAt(e.ctx, e.pop("/", true), vfs.OpenOptions{Flags: unix.O_RDONLY})
	defer dir.DecRef(e.ctx)
	if _, err := dir.Read(e.ctx, buf); err != unix.EISDIR {
		t.Errorf("Read(dir) = %v, want EISDIR", err)
	}
}

func TestUnlinkedFileStaysReadableUntilClosed(t *testing.T) {
	e := newEnv(t)
	e.writeFile("/f", strings.Repeat("x", 3*memory.PageSize))
	usage := e.mem.Usage()
	fd, err := e.vfs.OpenAt(e.ctx, e.pop("/f", true), vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.vfs.UnlinkAt(e.ctx, e.pop("/f", false)); err != nil {
		t.Fatalf("UnlinkAt: %v", err)
	}
	if _, err := e.vfs.StatAt(e.ctx, e.pop("/f", false)); err != unix.ENOENT {
		t.Errorf("StatAt(unlinked) = %v, want ENOENT", err)
	}
	buf := make([]byte, 10)
	if n, err := fd.Read(e.ctx, buf); n != 10 || err != nil {
		t.Errorf("Read(unlinked open file) = %d, %v", n, err)
	}
	if st, _ := fd.Stat(e.ctx); st.Nlink != 0 {
		t.Errorf("Nlink of unlinked file = %d, want 0", st.Nlink)
	}
	fd.DecRef(e.ctx)
	if got := e.mem.Usage(); got != usage-3*memory.PageSize {
		t.Errorf("memory usage after close = %d, want %d", got, usage-3*memory.PageSize)
	}
}

func TestNamespaceOps(t *testing.T) {
	e := newEnv(t)
	e.buildTree()
	e.mkdir("/d", 0o755)
	e.mkdir("/d/sub", 0o755)
	e.writeFile("/d/f", "f")
	user := vfs.WithCredentials(e.ctx, &vfs.Credentials{UID: 1000, GID: 1000})
	for _, tc := range []struct {
		name string
		op   func() error
		err  error
	}{
		{"mkdir existing", func() error { return e.vfs.MkdirAt(e.ctx, e.pop("/d", false), 0o755) }, unix.EEXIST},
		{"mkdir root", func() error { return e.vfs.MkdirAt(e.ctx, e.pop("/", false), 0o755) }, unix.EEXIST},
		{"mkdir trailing slash", func() error { return e.vfs.MkdirAt(e.ctx, e.pop("/newdir/", false), 0o755) }, nil},
		{"mkdir on read-only mount", func() error { return e.vfs.MkdirAt(e.ctx, e.pop("/ro/x", false), 0o755) }, unix.EROFS},
		{"mkdir without write permission", func() error { return e.vfs.MkdirAt(user, e.pop("/a/x", false), 0o755) }, unix.EACCES},
		{"rmdir not empty", func() error { return e.vfs.RmdirAt(e.ctx, e.pop("/d", false)) }, unix.ENOTEMPTY},
		{"rmdir file", func() error { return e.vfs.RmdirAt(e.ctx, e.pop("/d/f", false)) }, unix.ENOTDIR},
		{"rmdir dot", func() error { return e.vfs.RmdirAt(e.ctx, e.pop("/d/sub/.", false)) }, unix.EINVAL},
		{"rmdir mount point", func() error { return e.vfs.RmdirAt(e.ctx, e.pop("/tmp", false)) }, unix.EBUSY},
		{"rmdir on read-only mount", func() error { return e.vfs.RmdirAt(e.ctx, e.pop("/ro/x", false)) }, unix.EROFS},
		{"unlink dir", func() error { return e.vfs.UnlinkAt(e.ctx, e.pop("/d/sub", false)) }, unix.EISDIR},
		{"unlink file with slash", func() error { return e.vfs.UnlinkAt(e.ctx, e.pop("/d/f/", false)) }, unix.ENOTDIR},
		{"unlink missing", func() error { return e.vfs.UnlinkAt(e.ctx, e.pop("/d/none", false)) }, unix.ENOENT},
		{"link across mounts", func() error { return e.vfs.LinkAt(e.ctx, e.pop("/file", false), e.pop("/tmp/l", false)) }, unix.EXDEV},
		{"link a directory", func() error { return e.vfs.LinkAt(e.ctx, e.pop("/d", false), e.pop("/d2", false)) }, unix.EPERM},
		{"link", func() error { return e.vfs.LinkAt(e.ctx, e.pop("/file", false), e.pop("/file2", false)) }, nil},
		{"rename across mounts", func() error { return e.vfs.RenameAt(e.ctx, e.pop("/file", false), e.pop("/tmp/f", false), 0) }, unix.EXDEV},
		{"rename dir into itself", func() error { return e.vfs.RenameAt(e.ctx, e.pop("/d", false), e.pop("/d/sub/d", false), 0) }, unix.EINVAL},
		{"rename dir over file", func() error { return e.vfs.RenameAt(e.ctx, e.pop("/d/sub", false), e.pop("/file", false), 0) }, unix.ENOTDIR},
		{"rename file over dir", func() error { return e.vfs.RenameAt(e.ctx, e.pop("/file", false), e.pop("/d/sub", false), 0) }, unix.EISDIR},
		{"rename over nonempty dir", func() error { return e.vfs.RenameAt(e.ctx, e.pop("/a/b", false), e.pop("/d", false), 0) }, unix.ENOTEMPTY},
		{"rename mount point", func() error { return e.vfs.RenameAt(e.ctx, e.pop("/tmp", false), e.pop("/tmp2", false), 0) }, unix.EBUSY},
		{"rename noreplace", func() error {
			return e.vfs.RenameAt(e.ctx, e.pop("/file", false), e.pop("/file2", false), unix.RENAME_NOREPLACE)
		}, unix.EEXIST},
		{"rename hard links to each other", func() error { return e.vfs.RenameAt(e.ctx, e.pop("/file", false), e.pop("/file2", false), 0) }, nil},
		{"symlink empty target", func() error { return e.vfs.SymlinkAt(e.ctx, e.pop("/s", false), "") }, unix.ENOENT},
		{"readlink of file", func() error { _, err := e.vfs.ReadlinkAt(e.ctx, e.pop("/file", false)); return err }, unix.EINVAL},
		{"mknod device without CAP_MKNOD", func() error {
			return e.vfs.MknodAt(user, e.pop("/tmp/dev", false), unix.S_IFCHR|0o666, unix.Mkdev(1, 3))
		}, unix.EPERM},
		{"mknod fifo", func() error { return e.vfs.MknodAt(e.ctx, e.pop("/fifo", false), unix.S_IFIFO|0o666, 0) }, nil},
		{"access write on read-only mount", func() error { return e.vfs.AccessAt(e.ctx, e.pop("/ro", true), unix.W_OK, vfs.CheckEffectiveIDs) }, unix.EROFS},
		{"access read by other", func() error { return e.vfs.AccessAt(user, e.pop("/private", true), unix.R_OK, vfs.CheckEffectiveIDs) }, unix.EACCES},
		{"chmod by non-owner", func() error {
			return e.vfs.SetStatAt(user, e.pop("/file", true), vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o777})
		}, unix.EPERM},
		{"truncate dir", func() error {
			return e.vfs.SetStatAt(e.ctx, e.pop("/d", true), vfs.SetStatOptions{Mask: unix.STATX_SIZE})
		}, unix.EISDIR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.op(); err != tc.err {
				t.Errorf("got %v, want %v", err, tc.err)
			}
		})
	}
	if got, _ := e.vfs.ReadlinkAt(e.ctx, e.pop("/a/link", true)); got != "b" {
		t.Errorf("ReadlinkAt(/a/link) = %q, want b", got)
	}
	if st, _ := e.vfs.StatAt(e.ctx, e.pop("/file2", false)); st.Nlink != 2 {
		t.Errorf("Nlink after link = %d, want 2", st.Nlink)
	}
}

func TestRename(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/x", 0o755)
	e.mkdir("/x/y", 0o755)
	e.writeFile("/x/y/f", "data")
	e.writeFile("/g", "old")
	cwd, err := e.vfs.GetDentryAt(e.ctx, e.pop("/x/y", true), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cwd.DecRef(e.ctx)
	if err := e.vfs.RenameAt(e.ctx, e.pop("/x/y/f", false), e.pop("/g", false), 0); err != nil {
		t.Fatalf("rename file over file: %v", err)
	}
	if got := e.readFile("/g"); got != "data" {
		t.Errorf("/g = %q, want data", got)
	}
	if err := e.vfs.RenameAt(e.ctx, e.pop("/x/y", false), e.pop("/z", false), 0); err != nil {
		t.Fatalf("rename dir: %v", err)
	}
	// A cwd inside the moved directory follows it.
	if got, _ := e.vfs.PathnameReachable(e.ctx, e.root, cwd); got != "/z" {
		t.Errorf("cwd after rename = %q, want /z", got)
	}
	if st, _ := e.vfs.StatAt(e.ctx, e.pop("/x", true)); st.Nlink != 2 {
		t.Errorf("Nlink of old parent = %d, want 2", st.Nlink)
	}
	rel := &vfs.PathOperation{Root: e.root, Start: cwd, Path: "../g"}
	if _, err := e.vfs.StatAt(e.ctx, rel); err != nil {
		t.Errorf("StatAt(../g) from moved cwd: %v", err)
	}
	// An empty directory may replace another.
	e.mkdir("/e1", 0o755)
	e.mkdir("/e2", 0o755)
	if err := e.vfs.RenameAt(e.ctx, e.pop("/e1", false), e.pop("/e2", false), 0); err != nil {
		t.Errorf("rename dir over empty dir: %v", err)
	}
}

func readdir(t *testing.T, fd *vfs.FileDescription, ctx context.Context, bufSize int) []string {
	t.Helper()
	var names []string
	buf := make([]byte, bufSize)
	for {
		n, err := fd.Getdents64(ctx, buf)
		if err != nil {
			t.Fatalf("Getdents64: %v", err)
		}
		if n == 0 {
			return names
		}
		for off := 0; off < n; {
			reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
			name := buf[off+19 : off+reclen]
			names = append(names, string(name[:strings.IndexByte(string(name), 0)]))
			off += reclen
		}
	}
}

func TestGetdents(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d", 0o755)
	want := []string{".", ".."}
	for _, n := range []string{"one", "two", "three", strings.Repeat("l", 200)} {
		e.writeFile("/d/"+n, "")
		want = append(want, n)
	}
	fd, err := e.vfs.OpenAt(e.ctx, e.pop("/d", true), vfs.OpenOptions{Flags: unix.O_RDONLY | unix.O_DIRECTORY})
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef(e.ctx)
	if _, err := fd.Getdents64(e.ctx, make([]byte, 10)); err != unix.EINVAL {
		t.Errorf("Getdents64(10-byte buffer) = %v, want EINVAL", err)
	}
	got := readdir(t, fd, e.ctx, 250) // one or two records per call
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("entries = %v, want %v", got, want)
	}
	// Rewind; a removal during iteration does not repeat or skip others.
	if _, err := fd.Seek(e.ctx, 0, unix.SEEK_SET); err != nil {
		t.Fatal(err)
	}
	if got := readdir(t, fd, e.ctx, 4096); len(got) != len(want) {
		t.Errorf("after rewind %d entries, want %d", len(got), len(want))
	}
}

func TestMountCrossing(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/tmp/sub", 0o755)
	tmpIno := e.ino("/tmp")
	rootSt, _ := e.vfs.StatAt(e.ctx, e.pop("/", true))
	tmpSt, _ := e.vfs.StatAt(e.ctx, e.pop("/tmp", true))
	if tmpSt.Dev_minor == rootSt.Dev_minor || tmpSt.Mnt_id == rootSt.Mnt_id {
		t.Errorf("/tmp has the root's device or mount ID")
	}
	// Stacked mounts: the newest hides the older.
	e.mount("/tmp", 0)
	if _, err := e.vfs.StatAt(e.ctx, e.pop("/tmp/sub", true)); err != unix.ENOENT {
		t.Errorf("/tmp/sub through the top mount = %v, want ENOENT", err)
	}
	if e.ino("/tmp") == tmpIno && func() bool { st, _ := e.vfs.StatAt(e.ctx, e.pop("/tmp", true)); return st.Mnt_id == tmpSt.Mnt_id }() {
		t.Errorf("/tmp still resolves to the lower mount")
	}
	// ".." from the top mount's root goes to the real root.
	if e.ino("/tmp/..") != e.ino("/") {
		t.Errorf("/tmp/.. is not /")
	}
	// Mounting requires CAP_SYS_ADMIN.
	fs := e.newTmpfs()
	defer fs.DecRef(e.ctx)
	user := vfs.WithCredentials(e.ctx, &vfs.Credentials{UID: 1000})
	if err := e.vfs.MountAt(user, e.pop("/tmp", true), fs, 0); err != unix.EPERM {
		t.Errorf("MountAt by user = %v, want EPERM", err)
	}
}

func TestInterruptedIsNotAnErrno(t *testing.T) {
	var errno unix.Errno
	if errors.As(vfs.ErrInterrupted, &errno) {
		t.Errorf("ErrInterrupted is an errno (%v); the syscall layer must tell it apart", errno)
	}
}

func TestFIFOInTmpfs(t *testing.T) {
	e := newEnv(t)
	if err := e.vfs.MknodAt(e.ctx, e.pop("/tmp/fifo", false), unix.S_IFIFO|0o644, 0); err != nil {
		t.Fatalf("MknodAt(fifo): %v", err)
	}
	if _, err := e.vfs.OpenAt(e.ctx, e.pop("/tmp/fifo", true), vfs.OpenOptions{Flags: unix.O_WRONLY | unix.O_NONBLOCK}); err != unix.ENXIO {
		t.Errorf("open FIFO for writing with no reader = %v, want ENXIO", err)
	}
	r, err := e.vfs.OpenAt(e.ctx, e.pop("/tmp/fifo", true), vfs.OpenOptions{Flags: unix.O_RDONLY | unix.O_NONBLOCK})
	if err != nil {
		t.Fatalf("open FIFO for reading: %v", err)
	}
	defer r.DecRef(e.ctx)
	w, err := e.vfs.OpenAt(e.ctx, e.pop("/tmp/fifo", true), vfs.OpenOptions{Flags: unix.O_WRONLY})
	if err != nil {
		t.Fatalf("open FIFO for writing: %v", err)
	}
	defer w.DecRef(e.ctx)
	w.Write(e.ctx, []byte("through the fifo"))
	buf := make([]byte, 64)
	if n, err := r.Read(e.ctx, buf); err != nil || string(buf[:n]) != "through the fifo" {
		t.Errorf("Read(FIFO) = %q, %v", buf[:n], err)
	}
	if st, err := r.Stat(e.ctx); err != nil || uint32(st.Mode)&unix.S_IFMT != unix.S_IFIFO {
		t.Errorf("Stat(FIFO) mode = %#o, %v", st.Mode, err)
	}
}

func TestRenameExchange(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/d1", 0o755)
	e.writeFile("/f", "file")
	d1, _ := e.vfs.GetDentryAt(e.ctx, e.pop("/d1", true), vfs.GetDentryOptions{})
	defer d1.DecRef(e.ctx)
	if err := e.vfs.RenameAt(e.ctx, e.pop("/d1", false), e.pop("/f", false), unix.RENAME_EXCHANGE); err != nil {
		t.Fatalf("RENAME_EXCHANGE: %v", err)
	}
	if got := e.readFile("/d1"); got != "file" {
		t.Errorf("/d1 after exchange = %q, want the file", got)
	}
	if got, err := e.vfs.PathnameReachable(e.ctx, e.root, d1); got != "/f" || err != nil {
		t.Errorf("exchanged directory is at %q, %v; want /f", got, err)
	}
}

// TestConcurrentOps runs namespace operations in parallel on a shared
// tree; under -race it checks the locking, and it must not deadlock.
func TestConcurrentOps(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/c", 0o777)
	e.mkdir("/c/a", 0o777)
	e.mkdir("/c/b", 0o777)
	done := make(chan struct{})
	names := []string{"/c/a/x", "/c/b/x", "/c/a/y", "/c/b/y"}
	for w := 0; w < 6; w++ {
		go func(w int) {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 300; i++ {
				n := names[(w+i)%len(names)]
				m := names[(w+i+1)%len(names)]
				switch (w + i) % 6 {
				case 0:
					if fd, err := e.vfs.OpenAt(e.ctx, e.pop(n, true), vfs.OpenOptions{Flags: unix.O_CREAT | unix.O_RDWR, Mode: 0o644}); err == nil {
						fd.Write(e.ctx, []byte("data"))
						fd.DecRef(e.ctx)
					}
				case 1:
					e.vfs.RenameAt(e.ctx, e.pop(n, false), e.pop(m, false), 0)
				case 2:
					e.vfs.UnlinkAt(e.ctx, e.pop(n, false))
				case 3:
					e.vfs.StatAt(e.ctx, e.pop(n+"/../../a/../b", true))
				case 4:
					e.vfs.MkdirAt(e.ctx, e.pop(n, false), 0o755)
				case 5:
					e.vfs.RmdirAt(e.ctx, e.pop(n, false))
				}
			}
		}(w)
	}
	for w := 0; w < 6; w++ {
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			t.Fatal("concurrent operations deadlocked")
		}
	}
}

func TestOwnershipRules(t *testing.T) {
	e := newEnv(t)
	alice := vfs.WithCredentials(e.ctx, &vfs.Credentials{UID: 1000, GID: 1000, Groups: []uint32{50}})
	bob := vfs.WithCredentials(e.ctx, &vfs.Credentials{UID: 1001, GID: 1001})
	// A sticky, world-writable directory: only a file's owner may remove it.
	e.mkdir("/sticky", 0o1777)
	if err := e.vfs.SetStatAt(e.ctx, e.pop("/sticky", true), vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o1777}); err != nil {
		t.Fatal(err)
	}
	fd, err := e.vfs.OpenAt(alice, e.pop("/sticky/a", true), vfs.OpenOptions{Flags: unix.O_CREAT | unix.O_WRONLY, Mode: 0o644})
	if err != nil {
		t.Fatalf("create as alice: %v", err)
	}
	fd.DecRef(e.ctx)
	if err := e.vfs.UnlinkAt(bob, e.pop("/sticky/a", false)); err != unix.EPERM {
		t.Errorf("bob unlinks alice's file in a sticky dir = %v, want EPERM", err)
	}
	if err := e.vfs.RenameAt(bob, e.pop("/sticky/a", false), e.pop("/sticky/b", false), 0); err != unix.EPERM {
		t.Errorf("bob renames alice's file in a sticky dir = %v, want EPERM", err)
	}
	// chgrp to a group alice is in is allowed; to another one is not; chown
	// to another user needs CAP_CHOWN.
	for _, tc := range []struct {
		name string
		opts vfs.SetStatOptions
		err  error
	}{
		{"chgrp to own group", vfs.SetStatOptions{Mask: unix.STATX_GID, GID: 50}, nil},
		{"chgrp to other group", vfs.SetStatOptions{Mask: unix.STATX_GID, GID: 7}, unix.EPERM},
		{"chown to other user", vfs.SetStatOptions{Mask: unix.STATX_UID, UID: 1001}, unix.EPERM},
		{"chown to -1", vfs.SetStatOptions{Mask: unix.STATX_UID, UID: ^uint32(0)}, nil},
		{"explicit utimes by owner", vfs.SetStatOptions{Mask: unix.STATX_MTIME, Mtime: unix.Timespec{Sec: 5}}, nil},
	} {
		if err := e.vfs.SetStatAt(alice, e.pop("/sticky/a", true), tc.opts); err != tc.err {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
	if err := e.vfs.SetStatAt(bob, e.pop("/sticky/a", true), vfs.SetStatOptions{Mask: unix.STATX_MTIME, Mtime: unix.Timespec{Sec: 5}}); err != unix.EPERM {
		t.Errorf("explicit utimes by non-owner = %v, want EPERM", err)
	}
	if err := e.vfs.SetStatAt(bob, e.pop("/sticky/a", true), vfs.SetStatOptions{Mask: unix.STATX_MTIME, Mtime: unix.Timespec{Nsec: unix.UTIME_NOW}}); err != unix.EACCES {
		t.Errorf("utimes(NOW) by non-owner without write permission = %v, want EACCES", err)
	}
	// chown by root clears set-user-ID.
	e.vfs.SetStatAt(e.ctx, e.pop("/sticky/a", true), vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o4755})
	e.vfs.SetStatAt(e.ctx, e.pop("/sticky/a", true), vfs.SetStatOptions{Mask: unix.STATX_UID, UID: 0})
	if st, _ := e.vfs.StatAt(e.ctx, e.pop("/sticky/a", true)); st.Mode&unix.S_ISUID != 0 || st.Uid != 0 {
		t.Errorf("after chown: mode %#o uid %d, want set-user-ID cleared and uid 0", st.Mode, st.Uid)
	}
	// A set-group-ID directory passes its group (and the bit, to
	// subdirectories) on.
	e.mkdir("/sgid", 0o777)
	e.vfs.SetStatAt(e.ctx, e.pop("/sgid", true), vfs.SetStatOptions{Mask: unix.STATX_MODE | unix.STATX_GID, Mode: 0o2777, GID: 77})
	if err := e.vfs.MkdirAt(alice, e.pop("/sgid/sub", false), 0o755); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.vfs.StatAt(e.ctx, e.pop("/sgid/sub", true)); st.Gid != 77 || st.Mode&unix.S_ISGID == 0 {
		t.Errorf("subdirectory of set-group-ID dir: gid %d mode %#o, want gid 77 with S_ISGID", st.Gid, st.Mode)
	}
	// access(2) with real IDs.
	realIDs := vfs.WithCredentials(e.ctx, &vfs.Credentials{UID: 0, EffectiveCaps: ^uint64(0), RealUID: 1000, RealGID: 1000, HasRealIDs: true})
	e.mkdir("/rootonly", 0o700)
	if err := e.vfs.AccessAt(realIDs, e.pop("/rootonly", true), unix.R_OK, vfs.CheckRealIDs); err != unix.EACCES {
		t.Errorf("access with real uid 1000 = %v, want EACCES", err)
	}
	if err := e.vfs.AccessAt(realIDs, e.pop("/rootonly", true), unix.R_OK, vfs.CheckEffectiveIDs); err != nil {
		t.Errorf("access with effective root = %v, want success", err)
	}
}
