package gofer

import (
	"context"
	"encoding/binary"
	"fmt"
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
	t      *testing.T
	ctx    context.Context
	host   string
	vfs    *vfs.VirtualFilesystem
	root   vfs.VirtualDentry
	client *protocol.Client
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
	return newEnvAt(t, makeTree(t), readOnly, Options{})
}

// newEnvAt serves host with the given filesystem options.
func newEnvAt(t *testing.T, host string, readOnly bool, opts Options) *env {
	t.Helper()
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
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	fs, ro, err := NewFilesystem(ctx, client, opts)
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
	e := &env{t: t, ctx: ctx, host: host, vfs: v, root: mntns.Root(), client: client}
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
	names, err := e.readDirUnsorted(path, bufSize)
	sort.Strings(names)
	return names, err
}

// readDirUnsorted lists path, returning the names in the host's order.
func (e *env) readDirUnsorted(path string, bufSize int) ([]string, error) {
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

// makeBigDir builds a directory "many" of n entries under a makeTree:
// regular files of different sizes, subdirectories, symlinks inside and out
// of the root, and a FIFO.
func makeBigDir(t *testing.T, n int) string {
	t.Helper()
	host := makeTree(t)
	dir := filepath.Join(host, "many")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		p := filepath.Join(dir, fmt.Sprintf("e%04d", i))
		var err error
		switch i % 10 {
		case 0:
			err = os.Mkdir(p, 0o700)
		case 1:
			err = os.Symlink("../a/file", p)
		case 2:
			err = os.Symlink("../../../../etc/passwd", p)
		case 3:
			err = os.Symlink("e0000", p) // a symlink to a directory
		case 4:
			if i == 4 {
				err = unix.Mkfifo(p, 0o600)
				break
			}
			fallthrough
		default:
			err = os.WriteFile(p, make([]byte, i), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return host
}

// statResult is what the guest sees of one lstat or stat.
type statResult struct {
	mode, nlink uint32
	size, ino   uint64
	mtime       int64
	err         error
}

// statAll lists dir then stats each of its entries (lstat, or stat if
// follow) in sorted order, as ls -l does, and returns the results by name
// and the Walk and WalkSiblings requests the stats cost.
func (e *env) statAll(dir string, follow bool) (map[string]statResult, uint64) {
	return e.statAllOrdered(dir, follow, true)
}

// statAllOrdered is statAll, in the listing's order unless sorted.
func (e *env) statAllOrdered(dir string, follow, sorted bool) (map[string]statResult, uint64) {
	e.t.Helper()
	names, err := e.readDirUnsorted(dir, 4096)
	if sorted {
		sort.Strings(names)
	}
	if err != nil {
		e.t.Fatalf("readdir(%s): %v", dir, err)
	}
	before := e.client.Requests(protocol.MsgWalk) + e.client.Requests(protocol.MsgWalkSiblings)
	out := make(map[string]statResult)
	for _, n := range names {
		if n == "." || n == ".." {
			continue
		}
		st, err := e.vfs.StatAt(e.ctx, e.pop(dir+"/"+n, follow))
		out[n] = statResult{mode: uint32(st.Mode), nlink: st.Nlink, size: st.Size, ino: st.Ino, mtime: st.Mtime.Sec, err: err}
	}
	return out, e.client.Requests(protocol.MsgWalk) + e.client.Requests(protocol.MsgWalkSiblings) - before
}

func TestBatchedLookupsMatchSingleWalks(t *testing.T) {
	const n = 600
	host := makeBigDir(t, n)
	for _, follow := range []bool{false, true} {
		single := newEnvAt(t, host, true, Options{BatchLookups: 1})
		batched := newEnvAt(t, host, true, Options{})
		want, singleTrips := single.statAll("many", follow)
		got, batchedTrips := batched.statAll("many", follow)
		if len(got) != n || len(want) != n {
			t.Fatalf("follow=%v: %d and %d entries stated, want %d", follow, len(got), len(want), n)
		}
		for name, w := range want {
			if g := got[name]; g != w {
				t.Errorf("follow=%v: stat(many/%s) batched = %+v; one walk each gives %+v", follow, name, g, w)
			}
		}
		// The symlink out of the root is a symlink (lstat), and following
		// it stays inside the root (ENOENT), both ways.
		if w := want["e0002"]; (!follow && w.mode&unix.S_IFMT != unix.S_IFLNK) || (follow && w.err != unix.ENOENT) {
			t.Errorf("follow=%v: stat(many/e0002) = %+v", follow, w)
		}
		if singleTrips < n {
			t.Errorf("follow=%v: without batching %d stats took %d walks, want at least %d", follow, n, singleTrips, n)
		}
		// One request per DefaultBatchLookups names, plus, when
		// following, the walks of the symlinks' targets outside "many"
		// (a/file once; the missing etc each time: failures are not
		// cached).
		limit := uint64(n/DefaultBatchLookups + 1 + 4)
		if follow {
			limit += n / 10
		}
		if batchedTrips > limit {
			t.Errorf("follow=%v: with batching %d stats took %d walk requests, want at most %d", follow, n, batchedTrips, limit)
		}
		t.Logf("follow=%v: %d stats: %d walk requests one by one, %d batched", follow, n, singleTrips, batchedTrips)
	}
}

func TestBatchedLookupsSeeHostRemovals(t *testing.T) {
	host := makeBigDir(t, 300)
	e := newEnvAt(t, host, true, Options{})
	if _, err := e.readDir("many", 4096); err != nil {
		t.Fatal(err)
	}
	// Removed between the listing and the first lookup: the batch that
	// fetches the others reports ENOENT for these.
	for _, n := range []string{"e0005", "e0150", "e0299"} {
		if err := os.Remove(filepath.Join(host, "many", n)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.vfs.StatAt(e.ctx, e.pop("many/e0006", false)); err != nil {
		t.Fatalf("stat(many/e0006): %v", err)
	}
	// Removed after the batch cached it: revalidation drops it.
	if err := os.Remove(filepath.Join(host, "many", "e0007")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"e0005", "e0150", "e0299", "e0007"} {
		if _, err := e.vfs.StatAt(e.ctx, e.pop("many/"+n, false)); err != unix.ENOENT {
			t.Errorf("stat(many/%s) removed on the host: err = %v, want ENOENT", n, err)
		}
	}
	for _, n := range []string{"e0008", "e0151", "e0298"} {
		if _, err := e.vfs.StatAt(e.ctx, e.pop("many/"+n, false)); err != nil {
			t.Errorf("stat(many/%s): %v", n, err)
		}
	}
	// Created on the host after the listing: not in it, found by a walk.
	if err := os.WriteFile(filepath.Join(host, "many", "late"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st, err := e.vfs.StatAt(e.ctx, e.pop("many/late", false)); err != nil || st.Size != 1 {
		t.Errorf("stat(many/late) = size %d, %v; want 1, nil", st.Size, err)
	}
}

func TestBatchedLookupsSymlinksNotFollowed(t *testing.T) {
	host := makeBigDir(t, 40)
	e := newEnvAt(t, host, true, Options{})
	if _, err := e.readDir("many", 4096); err != nil {
		t.Fatal(err)
	}
	// The first lookup fetches the whole listing; the symlinks in it are
	// symlink inodes, read from their own descriptors.
	vd, err := e.vfs.GetDentryAt(e.ctx, e.pop("many/e0000", false), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vd.DecRef(e.ctx)
	trips := e.client.Requests(protocol.MsgWalk) + e.client.Requests(protocol.MsgWalkSiblings)
	for name, want := range map[string]string{"e0001": "../a/file", "e0002": "../../../../etc/passwd", "e0013": "e0000"} {
		got, err := e.vfs.ReadlinkAt(e.ctx, e.pop("many/"+name, false))
		if err != nil || got != want {
			t.Errorf("readlink(many/%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if got, err := e.readFile("many/e0011"); err != nil || got != "hello, gofer" {
		t.Errorf("read through many/e0011 = %q, %v", got, err)
	}
	if _, err := e.readFile("many/e0002"); err != unix.ENOENT {
		t.Errorf("read through the symlink out of the root: err = %v, want ENOENT", err)
	}
	if names, err := e.readDir("many/e0003", 4096); err != nil || strings.Join(names, ",") != ".,.." {
		t.Errorf("readdir through the symlink to a directory = %v, %v", names, err)
	}
	// The symlinks themselves came from the batch: only following them
	// out of "many" (to a/file, etc/passwd) walks.
	if n := e.client.Requests(protocol.MsgWalk) + e.client.Requests(protocol.MsgWalkSiblings) - trips; n > 4 {
		t.Errorf("%d walk requests after the batch, want at most 4", n)
	}
}

func TestBatchedLookupNamesChecked(t *testing.T) {
	e := newEnvAt(t, makeBigDir(t, 20), true, Options{})
	vd, err := e.vfs.GetDentryAt(e.ctx, e.pop("many", false), vfs.GetDentryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer vd.DecRef(e.ctx)
	d := baseOf(vd.Dentry().Inode())
	fs := d.fs
	// A listing only ever holds single components; feed it worse anyway.
	fs.noteListing(d, []string{".", "..", "", "e0001/x", "/e0002", "e\x00", strings.Repeat("n", 256), "e0005", "e0005", "e0006"}, true)
	if got := fs.takeSiblings(d, "e0005"); strings.Join(got, ",") != "e0005,e0006" {
		t.Errorf("takeSiblings(e0005) = %q; want e0005,e0006 (nothing else was a name)", got)
	}
	// Lookups of names with '/' or NUL never reach the server.
	trips := e.client.Requests(protocol.MsgWalk) + e.client.Requests(protocol.MsgWalkSiblings)
	for _, name := range []string{"e0001/x", "/e0002", "e\x00", "../a"} {
		if c, err := d.Lookup(e.ctx, name); err != unix.EINVAL {
			if c != nil {
				baseOf(c).DecRef(e.ctx)
			}
			t.Errorf("Lookup(%q) err = %v, want EINVAL", name, err)
		}
	}
	if n := e.client.Requests(protocol.MsgWalk) + e.client.Requests(protocol.MsgWalkSiblings) - trips; n != 0 {
		t.Errorf("lookups of names with '/' sent %d requests, want 0", n)
	}
}

func TestBatchedLookupsRespectCacheAndRelease(t *testing.T) {
	const n = 900
	host := makeBigDir(t, n)
	before := countFDs(t)
	t.Run("session", func(t *testing.T) {
		e := newEnvAt(t, host, true, Options{CacheSize: 64})
		// In the listing's order, so that what a batch brings is used
		// before the small cache evicts it.
		got, trips := e.statAllOrdered("many", false, false)
		for name, r := range got {
			if r.err != nil {
				t.Errorf("stat(many/%s): %v", name, r.err)
			}
		}
		// A 64-entry cache batches 16 names at a time.
		if trips > n/16+2 || trips < n/16 {
			t.Errorf("%d stats with a 64-entry cache took %d requests, want about %d", n, trips, n/16)
		}
		// Both ends hold only what the cache and the pending closes
		// hold: every donated descriptor was adopted or closed, every
		// evicted node released.
		if open := countFDs(t) - before; open > 2*(64+closeBatch)+16 {
			t.Errorf("%d descriptors open after %d batched lookups with a 64-entry cache", open, n)
		}
		// Sorted order (ls -l) with a cache smaller than the directory
		// still gives the right answers.
		got, _ = e.statAll("many", false)
		if len(got) != n {
			t.Errorf("%d entries stated, want %d", len(got), n)
		}
		for name, r := range got {
			if r.err != nil {
				t.Errorf("stat(many/%s): %v", name, r.err)
			}
		}
		if open := countFDs(t) - before; open > 2*(64+closeBatch)+16 {
			t.Errorf("%d descriptors open after %d more lookups with a 64-entry cache", open, n)
		}
	})
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}
