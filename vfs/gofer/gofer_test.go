package gofer

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	goferserver "github.com/palisade-sandbox/palisade/gofer"
	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/vfs"
)

// env is a VFS whose root is a gofer filesystem served from a temp dir.
type env struct {
	t    *testing.T
	ctx  context.Context
	host string
	vfs  *vfs.VirtualFilesystem
	root vfs.VirtualDentry
}

// makeTree builds:
//
//	a/file     "hello, gofer"
//	a/b/deep   "deep"
//	a/rel  ->  b/deep
//	a/abs  ->  /a/file
//	a/out  ->  ../../../etc/passwd
//	empty/
func makeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, step := range []error{
		os.MkdirAll(filepath.Join(root, "a", "b"), 0o755),
		os.Mkdir(filepath.Join(root, "empty"), 0o700),
		os.WriteFile(filepath.Join(root, "a", "file"), []byte("hello, gofer"), 0o644),
		os.WriteFile(filepath.Join(root, "a", "b", "deep"), []byte("deep"), 0o600),
		os.Symlink("b/deep", filepath.Join(root, "a", "rel")),
		os.Symlink("/a/file", filepath.Join(root, "a", "abs")),
		os.Symlink("../../../etc/passwd", filepath.Join(root, "a", "out")),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	return root
}

func newEnv(t *testing.T, readOnly bool) *env {
	t.Helper()
	host := makeTree(t)
	cf, sf, err := protocol.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- goferserver.Serve(sf, host, readOnly)
		sf.Close()
	}()
	client, err := protocol.NewClient(cf)
	cf.Close()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	fs, ro, err := NewFilesystem(ctx, client, Options{})
	if err != nil {
		t.Fatalf("NewFilesystem: %v", err)
	}
	if ro != readOnly {
		t.Errorf("NewFilesystem read-only = %v, want %v", ro, readOnly)
	}
	var flags uint32
	if ro {
		flags = unix.MS_RDONLY
	}
	v := vfs.New()
	mntns, err := v.NewMountNamespace(ctx, fs, flags)
	if err != nil {
		t.Fatalf("NewMountNamespace: %v", err)
	}
	fs.DecRef(ctx)
	e := &env{t: t, ctx: ctx, host: host, vfs: v, root: mntns.Root()}
	t.Cleanup(func() {
		client.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return e
}

func (e *env) pop(path string, follow bool) *vfs.PathOperation {
	return &vfs.PathOperation{Root: e.root, Start: e.root, Path: path, FollowFinalSymlink: follow}
}

func (e *env) open(path string, flags uint32) (*vfs.FileDescription, error) {
	return e.vfs.OpenAt(e.ctx, e.pop(path, flags&unix.O_NOFOLLOW == 0), vfs.OpenOptions{Flags: flags})
}

func (e *env) readFile(path string) (string, error) {
	fd, err := e.open(path, unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	defer fd.DecRef(e.ctx)
	var out []byte
	buf := make([]byte, 5)
	for {
		n, err := fd.Read(e.ctx, buf)
		out = append(out, buf[:n]...)
		if err != nil {
			return string(out), err
		}
		if n == 0 {
			return string(out), nil
		}
	}
}

func (e *env) readDir(path string, bufSize int) ([]string, error) {
	fd, err := e.open(path, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return nil, err
	}
	defer fd.DecRef(e.ctx)
	var names []string
	buf := make([]byte, bufSize)
	for {
		n, err := fd.Getdents64(e.ctx, buf)
		if err != nil {
			return names, err
		}
		if n == 0 {
			break
		}
		for b := buf[:n]; len(b) > 0; {
			reclen := binary.LittleEndian.Uint16(b[16:])
			name := b[19:reclen]
			names = append(names, strings.TrimRight(string(name), "\x00"))
			b = b[reclen:]
		}
	}
	sort.Strings(names)
	return names, nil
}

func TestReadFiles(t *testing.T) {
	e := newEnv(t, true)
	tests := []struct {
		path string
		want string
	}{
		{"a/file", "hello, gofer"},
		{"/a/b/deep", "deep"},
		{"a/b/../file", "hello, gofer"},
		{"a/rel", "deep"},
		{"a/abs", "hello, gofer"},
		{"/../../a/file", "hello, gofer"},
	}
	for _, tc := range tests {
		got, err := e.readFile(tc.path)
		if err != nil || got != tc.want {
			t.Errorf("read %s = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
	// Twice: the second time from the lookup cache.
	if got, err := e.readFile("a/file"); err != nil || got != "hello, gofer" {
		t.Errorf("second read of a/file = %q, %v", got, err)
	}
}

func TestPRead(t *testing.T) {
	e := newEnv(t, true)
	fd, err := e.open("a/file", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer fd.DecRef(e.ctx)
	buf := make([]byte, 100)
	n, err := fd.PRead(e.ctx, buf, 7)
	if err != nil || string(buf[:n]) != "gofer" {
		t.Errorf("pread(7) = %q, %v; want \"gofer\"", buf[:n], err)
	}
	if off, err := fd.Seek(e.ctx, -2, unix.SEEK_END); err != nil || off != 10 {
		t.Errorf("lseek(-2, SEEK_END) = %d, %v; want 10", off, err)
	}
	n, _ = fd.Read(e.ctx, buf)
	if string(buf[:n]) != "er" {
		t.Errorf("read after seek = %q, want \"er\"", buf[:n])
	}
}

func TestOpenErrors(t *testing.T) {
	e := newEnv(t, true)
	tests := []struct {
		path  string
		flags uint32
		want  unix.Errno
	}{
		{"a/missing", unix.O_RDONLY, unix.ENOENT},
		{"a/file/x", unix.O_RDONLY, unix.ENOTDIR},
		{"a/out", unix.O_RDONLY, unix.ENOENT}, // ../../../etc/passwd stays inside: /etc/passwd does not exist there
		{"a/rel", unix.O_RDONLY | unix.O_NOFOLLOW, unix.ELOOP},
		{"a/file", unix.O_WRONLY, unix.EROFS},
		{"a/new", unix.O_WRONLY | unix.O_CREAT, unix.EROFS},
		{"a", unix.O_WRONLY, unix.EISDIR},
		{"a/file", unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
	}
	for _, tc := range tests {
		fd, err := e.open(tc.path, tc.flags)
		if err == nil {
			fd.DecRef(e.ctx)
		}
		if err != tc.want {
			t.Errorf("open(%s, %#x) = %v, want %v", tc.path, tc.flags, err, tc.want)
		}
	}
}

func TestReaddir(t *testing.T) {
	e := newEnv(t, true)
	for _, size := range []int{4096, 40} { // 40 bytes: one record per call
		names, err := e.readDir("a", size)
		if want := ".,..,abs,b,file,out,rel"; err != nil || strings.Join(names, ",") != want {
			t.Errorf("readdir(a) with a %d-byte buffer = %v, %v; want %s", size, names, err, want)
		}
	}
	names, err := e.readDir("/", 4096)
	if want := ".,..,a,empty"; err != nil || strings.Join(names, ",") != want {
		t.Errorf("readdir(/) = %v, %v; want %s", names, err, want)
	}
}

func TestReadlink(t *testing.T) {
	e := newEnv(t, true)
	for path, want := range map[string]string{"a/rel": "b/deep", "a/abs": "/a/file", "a/out": "../../../etc/passwd"} {
		got, err := e.vfs.ReadlinkAt(e.ctx, e.pop(path, false))
		if err != nil || got != want {
			t.Errorf("readlink(%s) = %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := e.vfs.ReadlinkAt(e.ctx, e.pop("a/file", false)); err != unix.EINVAL {
		t.Errorf("readlink(a/file) err = %v, want EINVAL", err)
	}
}

func TestStat(t *testing.T) {
	e := newEnv(t, true)
	for _, path := range []string{"a", "a/file", "a/b/deep", "empty", "a/rel"} {
		st, err := e.vfs.StatAt(e.ctx, e.pop(path, false))
		if err != nil {
			t.Errorf("stat(%s): %v", path, err)
			continue
		}
		var host unix.Stat_t
		if err := unix.Lstat(filepath.Join(e.host, path), &host); err != nil {
			t.Fatal(err)
		}
		if uint32(st.Mode) != host.Mode || st.Size != uint64(host.Size) || st.Ino != host.Ino ||
			st.Uid != host.Uid || st.Nlink != uint32(host.Nlink) || st.Mtime.Sec != host.Mtim.Sec {
			t.Errorf("stat(%s) = mode %#o size %d ino %d nlink %d; host has mode %#o size %d ino %d nlink %d",
				path, st.Mode, st.Size, st.Ino, st.Nlink, host.Mode, host.Size, host.Ino, host.Nlink)
		}
		if unix.Mkdev(st.Dev_major, st.Dev_minor) == host.Dev {
			t.Errorf("stat(%s) shows the host's st_dev %#x", path, host.Dev)
		}
	}
	// Following the symlink.
	st, err := e.vfs.StatAt(e.ctx, e.pop("a/rel", true))
	if err != nil || st.Size != 4 || st.Mode&unix.S_IFMT != unix.S_IFREG {
		t.Errorf("stat(a/rel, follow) = size %d mode %#o, %v; want the 4-byte regular file", st.Size, st.Mode, err)
	}
}

func TestHostChangesSeen(t *testing.T) {
	e := newEnv(t, true)
	if _, err := e.readFile("a/file"); err != nil {
		t.Fatal(err)
	}
	// Removed on the host: the cached entry is dropped, not served.
	if err := os.Remove(filepath.Join(e.host, "a", "file")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.readFile("a/file"); err != unix.ENOENT {
		t.Errorf("read of a file removed on the host: err = %v, want ENOENT", err)
	}
	// Data written on the host is read through the host descriptor.
	if err := os.WriteFile(filepath.Join(e.host, "a", "b", "deep"), []byte("deeper"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := e.readFile("a/b/deep"); err != nil || got != "deeper" {
		t.Errorf("read after host write = %q, %v; want \"deeper\"", got, err)
	}
}

func TestWritable(t *testing.T) {
	e := newEnv(t, false)
	fd, err := e.vfs.OpenAt(e.ctx, e.pop("a/new", true), vfs.OpenOptions{Flags: unix.O_RDWR | unix.O_CREAT | unix.O_EXCL, Mode: 0o640})
	if err != nil {
		t.Fatalf("open(a/new, O_CREAT): %v", err)
	}
	if n, err := fd.Write(e.ctx, []byte("first ")); err != nil || n != 6 {
		t.Errorf("write = %d, %v", n, err)
	}
	fd.DecRef(e.ctx)
	fd, err = e.open("a/new", unix.O_WRONLY|unix.O_APPEND)
	if err != nil {
		t.Fatal(err)
	}
	fd.Write(e.ctx, []byte("second"))
	fd.DecRef(e.ctx)
	if b, err := os.ReadFile(filepath.Join(e.host, "a", "new")); err != nil || string(b) != "first second" {
		t.Errorf("host sees %q, %v; want \"first second\"", b, err)
	}
	var st unix.Stat_t
	unix.Stat(filepath.Join(e.host, "a", "new"), &st)
	if st.Mode&0o777 != 0o640 {
		t.Errorf("created mode %#o, want 0640", st.Mode&0o777)
	}
	// O_TRUNC goes through SetStat.
	fd, err = e.open("a/new", unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	fd.DecRef(e.ctx)
	if b, _ := os.ReadFile(filepath.Join(e.host, "a", "new")); len(b) != 0 {
		t.Errorf("after O_TRUNC host sees %q", b)
	}
	if err := e.vfs.MkdirAt(e.ctx, e.pop("a/d", false), 0o755); err != nil {
		t.Errorf("mkdir: %v", err)
	}
	if err := e.vfs.SymlinkAt(e.ctx, e.pop("a/d/l", false), "../file"); err != nil {
		t.Errorf("symlink: %v", err)
	}
	if got, err := e.readFile("a/d/l"); err != nil || got != "hello, gofer" {
		t.Errorf("read through new symlink = %q, %v", got, err)
	}
	if err := e.vfs.RenameAt(e.ctx, e.pop("a/new", false), e.pop("a/d/moved", false), 0); err != nil {
		t.Errorf("rename: %v", err)
	}
	if err := e.vfs.UnlinkAt(e.ctx, e.pop("a/d/moved", false)); err != nil {
		t.Errorf("unlink: %v", err)
	}
	if err := e.vfs.UnlinkAt(e.ctx, e.pop("a/d/l", false)); err != nil {
		t.Errorf("unlink symlink: %v", err)
	}
	if err := e.vfs.RmdirAt(e.ctx, e.pop("a/d", false)); err != nil {
		t.Errorf("rmdir: %v", err)
	}
	if names, _ := e.readDir("a", 4096); strings.Join(names, ",") != ".,..,abs,b,file,out,rel" {
		t.Errorf("a after mutations = %v", names)
	}
}

func TestReadOnlyOpensShareOneHostDescriptor(t *testing.T) {
	e := newEnv(t, true)
	a, err := e.open("a/file", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.open("a/file", unix.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	ra, rb := a.Impl().(*regularFile), b.Impl().(*regularFile)
	if !ra.shared || !rb.shared || ra.hostFD != rb.hostFD {
		t.Errorf("read-only opens: fds %d (shared %v) and %d (shared %v); want one shared fd", ra.hostFD, ra.shared, rb.hostFD, rb.shared)
	}
	// Closing one leaves the other readable, offsets independent.
	buf := make([]byte, 5)
	if n, _ := b.Read(e.ctx, buf); string(buf[:n]) != "hello" {
		t.Errorf("read = %q", buf[:n])
	}
	a.DecRef(e.ctx)
	if n, _ := b.Read(e.ctx, buf); string(buf[:n]) != ", gof" {
		t.Errorf("read after the other file closed = %q", buf[:n])
	}
	b.DecRef(e.ctx)
	if got, err := e.readFile("a/file"); err != nil || got != "hello, gofer" {
		t.Errorf("reopen after both closed = %q, %v", got, err)
	}
}
