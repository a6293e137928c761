package overlay

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	goferserver "github.com/palisade-sandbox/palisade/gofer"
	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
	vfsgofer "github.com/palisade-sandbox/palisade/vfs/gofer"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
)

// env is a VFS whose root is an overlay of a tmpfs on a read-only gofer
// filesystem served from a host temp dir holding:
//
//	etc/motd      "hello"
//	etc/issue     "issue"
//	etc/sub/deep  "deep"
//	etc/link  ->  motd
//	empty/
type env struct {
	t    *testing.T
	ctx  context.Context
	host string
	vfs  *vfs.VirtualFilesystem
	root vfs.VirtualDentry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with more files made by extra in the host dir
// before the overlay is built.
func newEnvWith(t *testing.T, extra func(host string) error) *env {
	t.Helper()
	host := t.TempDir()
	if extra != nil {
		if err := extra(host); err != nil {
			t.Fatal(err)
		}
	}
	for _, step := range []error{
		os.MkdirAll(filepath.Join(host, "etc", "sub"), 0o755),
		os.Mkdir(filepath.Join(host, "empty"), 0o711),
		os.WriteFile(filepath.Join(host, "etc", "motd"), []byte("hello"), 0o640),
		os.WriteFile(filepath.Join(host, "etc", "issue"), []byte("issue"), 0o644),
		os.WriteFile(filepath.Join(host, "etc", "sub", "deep"), []byte("deep"), 0o600),
		os.Symlink("motd", filepath.Join(host, "etc", "link")),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	cf, sf, err := protocol.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- goferserver.Serve(sf, host, true)
		sf.Close()
	}()
	client, err := protocol.NewClient(cf)
	cf.Close()
	if err != nil {
		t.Fatal(err)
	}
	ctx := vfs.WithCredentials(context.Background(), vfs.RootCredentials())
	lower, _, err := vfsgofer.NewFilesystem(ctx, client, vfsgofer.Options{})
	if err != nil {
		t.Fatalf("gofer NewFilesystem: %v", err)
	}
	mem, err := memory.New("overlay-test")
	if err != nil {
		t.Fatal(err)
	}
	upper, err := tmpfs.New(ctx, tmpfs.Options{Mem: mem, SizeLimit: 1 << 24})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := New(ctx, Options{Lower: lower, Upper: upper})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	lower.DecRef(ctx)
	upper.DecRef(ctx)
	v := vfs.New()
	mntns, err := v.NewMountNamespace(ctx, fs, 0)
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

func (e *env) pop(path string) *vfs.PathOperation {
	return &vfs.PathOperation{Root: e.root, Start: e.root, Path: path}
}

func (e *env) open(path string, flags uint32) *vfs.FileDescription {
	e.t.Helper()
	fd, err := e.vfs.OpenAt(e.ctx, e.pop(path), vfs.OpenOptions{Flags: flags, Mode: 0o644})
	if err != nil {
		e.t.Fatalf("open(%q, %#x) = %v", path, flags, err)
	}
	return fd
}

func (e *env) read(fd *vfs.FileDescription) string {
	e.t.Helper()
	buf := make([]byte, 4096)
	n, err := fd.PRead(e.ctx, buf, 0)
	if err != nil {
		e.t.Fatalf("pread: %v", err)
	}
	return string(buf[:n])
}

func (e *env) readFile(path string) string {
	e.t.Helper()
	fd := e.open(path, unix.O_RDONLY)
	defer fd.DecRef(e.ctx)
	return e.read(fd)
}

func (e *env) write(path string, flags uint32, data string) {
	e.t.Helper()
	fd := e.open(path, unix.O_WRONLY|flags)
	defer fd.DecRef(e.ctx)
	if _, err := fd.Write(e.ctx, []byte(data)); err != nil {
		e.t.Fatalf("write %q: %v", path, err)
	}
}

func (e *env) stat(path string) (unix.Statx_t, error) {
	return e.vfs.StatAt(e.ctx, e.pop(path))
}

// list returns the sorted names in directory path, without "." and "..",
// and checks that no name appears twice.
func (e *env) list(path string) []string {
	e.t.Helper()
	fd := e.open(path, unix.O_RDONLY|unix.O_DIRECTORY)
	defer fd.DecRef(e.ctx)
	var names []string
	seen := map[string]bool{}
	buf := make([]byte, 64) // small: several getdents64 calls
	for {
		n, err := fd.Getdents64(e.ctx, buf)
		if err != nil {
			e.t.Fatalf("getdents64(%q): %v", path, err)
		}
		if n == 0 {
			break
		}
		for b := buf[:n]; len(b) > 0; {
			reclen := binary.NativeEndian.Uint16(b[16:])
			name := strings.TrimRight(string(b[19:reclen]), "\x00")
			if seen[name] {
				e.t.Errorf("getdents64(%q) lists %q twice", path, name)
			}
			seen[name] = true
			if name != "." && name != ".." {
				names = append(names, name)
			}
			b = b[reclen:]
		}
	}
	sort.Strings(names)
	return names
}

// hostFile returns the host file's content, which must never change.
func (e *env) hostFile(rel string) string {
	b, err := os.ReadFile(filepath.Join(e.host, rel))
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

func TestReadThrough(t *testing.T) {
	e := newEnv(t)
	if got := e.readFile("/etc/motd"); got != "hello" {
		t.Errorf("read /etc/motd = %q, want hello", got)
	}
	if got, err := e.vfs.ReadlinkAt(e.ctx, e.pop("/etc/link")); got != "motd" || err != nil {
		t.Errorf("readlink /etc/link = %q, %v; want motd", got, err)
	}
	if got := e.list("/etc"); strings.Join(got, " ") != "issue link motd sub" {
		t.Errorf("ls /etc = %v", got)
	}
}

func TestCopyUpOnWrite(t *testing.T) {
	e := newEnv(t)
	before, err := e.stat("/etc/motd")
	if err != nil {
		t.Fatal(err)
	}
	early := e.open("/etc/motd", unix.O_RDONLY)
	defer early.DecRef(e.ctx)
	e.write("/etc/motd", unix.O_APPEND, " world")
	if got := e.readFile("/etc/motd"); got != "hello world" {
		t.Errorf("after append: %q, want %q", got, "hello world")
	}
	if got := e.read(early); got != "hello" {
		t.Errorf("file opened before copy-up reads %q, want the lower data %q", got, "hello")
	}
	after, err := e.stat("/etc/motd")
	if err != nil {
		t.Fatal(err)
	}
	if after.Ino != before.Ino || after.Dev_major != before.Dev_major || after.Dev_minor != before.Dev_minor {
		t.Errorf("copy-up changed (dev, ino) from (%d:%d, %d) to (%d:%d, %d)", before.Dev_major, before.Dev_minor, before.Ino, after.Dev_major, after.Dev_minor, after.Ino)
	}
	if after.Mode != before.Mode || after.Uid != before.Uid || after.Size != 11 {
		t.Errorf("after copy-up: mode %o uid %d size %d; want mode %o uid %d size 11", after.Mode, after.Uid, after.Size, before.Mode, before.Uid)
	}
	e.write("/etc/sub/deep", unix.O_TRUNC, "new")
	if got := e.readFile("/etc/sub/deep"); got != "new" {
		t.Errorf("after O_TRUNC write: %q, want new", got)
	}
	if err := e.vfs.SetStatAt(e.ctx, e.pop("/etc/issue"), vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o600}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.stat("/etc/issue"); st.Mode&0o7777 != 0o600 {
		t.Errorf("chmod /etc/issue 600: mode %o", st.Mode)
	}
	if got := e.readFile("/etc/issue"); got != "issue" {
		t.Errorf("chmod copy-up lost data: %q", got)
	}
	for rel, want := range map[string]string{"etc/motd": "hello", "etc/sub/deep": "deep", "etc/issue": "issue"} {
		if got := e.hostFile(rel); got != want {
			t.Errorf("host %s = %q, want it untouched (%q)", rel, got, want)
		}
	}
	if fi, err := os.Stat(filepath.Join(e.host, "etc", "issue")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("host etc/issue mode changed: %v %v", fi.Mode(), err)
	}
}

func TestWhiteoutsAndOpaqueDirs(t *testing.T) {
	e := newEnv(t)
	if err := e.vfs.UnlinkAt(e.ctx, e.pop("/etc/issue")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.stat("/etc/issue"); err != unix.ENOENT {
		t.Errorf("stat of unlinked lower file = %v, want ENOENT", err)
	}
	if got := e.list("/etc"); strings.Join(got, " ") != "link motd sub" {
		t.Errorf("ls /etc after unlink = %v", got)
	}
	e.write("/etc/issue", unix.O_CREAT|unix.O_EXCL, "again")
	if got := e.readFile("/etc/issue"); got != "again" {
		t.Errorf("recreated file reads %q", got)
	}
	if err := e.vfs.RmdirAt(e.ctx, e.pop("/etc/sub")); err != unix.ENOTEMPTY {
		t.Errorf("rmdir of non-empty lower dir = %v, want ENOTEMPTY", err)
	}
	if err := e.vfs.UnlinkAt(e.ctx, e.pop("/etc/sub/deep")); err != nil {
		t.Fatal(err)
	}
	if err := e.vfs.RmdirAt(e.ctx, e.pop("/etc/sub")); err != nil {
		t.Fatalf("rmdir of emptied lower dir: %v", err)
	}
	if err := e.vfs.MkdirAt(e.ctx, e.pop("/etc/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := e.list("/etc/sub"); len(got) != 0 {
		t.Errorf("recreated dir is not opaque: %v", got)
	}
	if _, err := e.stat("/etc/sub/deep"); err != unix.ENOENT {
		t.Errorf("stat in opaque dir = %v, want ENOENT", err)
	}
	if got := e.hostFile("etc/sub/deep"); got != "deep" {
		t.Errorf("host file changed: %q", got)
	}
}

func TestCreateRenameLink(t *testing.T) {
	e := newEnv(t)
	if err := e.vfs.MkdirAt(e.ctx, e.pop("/etc/new"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.write("/etc/new/f", unix.O_CREAT, "f")
	if err := e.vfs.RenameAt(e.ctx, e.pop("/etc/new/f"), e.pop("/etc/g"), 0); err != nil {
		t.Fatal(err)
	}
	// A lower file renamed: copied up, a whiteout left behind, same inode.
	st, _ := e.stat("/etc/motd")
	if err := e.vfs.RenameAt(e.ctx, e.pop("/etc/motd"), e.pop("/etc/new/motd"), 0); err != nil {
		t.Fatal(err)
	}
	if st2, err := e.stat("/etc/new/motd"); err != nil || st2.Ino != st.Ino {
		t.Errorf("renamed lower file: ino %d, %v; want %d", st2.Ino, err, st.Ino)
	}
	if got := e.list("/etc"); strings.Join(got, " ") != "g issue link new sub" {
		t.Errorf("ls /etc after renames = %v", got)
	}
	// Over a lower file.
	if err := e.vfs.RenameAt(e.ctx, e.pop("/etc/g"), e.pop("/etc/issue"), 0); err != nil {
		t.Fatal(err)
	}
	if got := e.readFile("/etc/issue"); got != "f" {
		t.Errorf("renamed over lower file: %q", got)
	}
	// Directories with a lower part move too (through a redirect).
	if err := e.vfs.RenameAt(e.ctx, e.pop("/etc/sub"), e.pop("/sub"), 0); err != nil {
		t.Errorf("rename of lower dir: %v", err)
	}
	if err := e.vfs.RenameAt(e.ctx, e.pop("/sub"), e.pop("/etc/sub"), 0); err != nil {
		t.Errorf("rename of lower dir back: %v", err)
	}
	if err := e.vfs.RenameAt(e.ctx, e.pop("/etc/new"), e.pop("/new"), 0); err != nil {
		t.Errorf("rename of upper dir: %v", err)
	}
	// Hard link to a lower file copies it up; both names are one file.
	if err := e.vfs.LinkAt(e.ctx, e.pop("/etc/sub/deep"), e.pop("/deep2")); err != nil {
		t.Fatal(err)
	}
	a, _ := e.stat("/etc/sub/deep")
	b, _ := e.stat("/deep2")
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Errorf("hard link: inos %d %d, nlink %d; want equal, 2", a.Ino, b.Ino, a.Nlink)
	}
	e.write("/deep2", unix.O_TRUNC, "both")
	if got := e.readFile("/etc/sub/deep"); got != "both" {
		t.Errorf("write through link not seen: %q", got)
	}
	if got := e.list("/"); strings.Join(got, " ") != "deep2 empty etc new" {
		t.Errorf("ls / = %v", got)
	}
	if got := e.hostFile("etc/motd"); got != "hello" {
		t.Errorf("host etc/motd = %q", got)
	}
	if entries, _ := os.ReadDir(e.host); len(entries) != 2 {
		t.Errorf("host root changed: %d entries", len(entries))
	}
}

func TestInodeNumbersStable(t *testing.T) {
	e := newEnv(t)
	want := map[string]uint64{}
	for _, p := range []string{"/etc", "/etc/motd", "/etc/sub", "/empty"} {
		st, err := e.stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want[p] = st.Ino
	}
	e.write("/etc/sub/x", unix.O_CREAT, "x") // copies up /etc and /etc/sub
	e.write("/etc/motd", 0, "H")
	if err := e.vfs.SetStatAt(e.ctx, e.pop("/empty"), vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	for p, ino := range want {
		if st, err := e.stat(p); err != nil || st.Ino != ino {
			t.Errorf("%s: ino %d (%v) after copy-up, want %d", p, st.Ino, err, ino)
		}
	}
	x1, _ := e.stat("/etc/sub/x")
	x2, _ := e.stat("/etc/sub/x")
	if x1.Ino != x2.Ino || x1.Ino == 0 {
		t.Errorf("upper file ino unstable: %d %d", x1.Ino, x2.Ino)
	}
}

// renameTreeFiles are the regular files renameTree adds, with their
// contents.
var renameTreeFiles = map[string]string{"a/f1": "f1", "a/f2": "f2", "a/inner/g": "g", "b/h": "h", "d/x": "x"}

// renameTree adds to the host dir:
//
//	a/f1 "f1", a/f2 "f2", a/inner/g "g"
//	b/h "h"
//	c/            (empty)
//	d/x "x"
func renameTree(host string) error {
	for _, dir := range []string{"a/inner", "b", "c", "d"} {
		if err := os.MkdirAll(filepath.Join(host, dir), 0o755); err != nil {
			return err
		}
	}
	for name, data := range renameTreeFiles {
		if err := os.WriteFile(filepath.Join(host, name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ls is e.list joined with spaces.
func (e *env) ls(path string) string {
	e.t.Helper()
	return strings.Join(e.list(path), " ")
}

// expectLs fails the test unless ls(path) is want.
func (e *env) expectLs(path, want string) {
	e.t.Helper()
	if got := e.ls(path); got != want {
		e.t.Errorf("ls %s = %q, want %q", path, got, want)
	}
}

// expectRead fails the test unless the file at path holds want.
func (e *env) expectRead(path, want string) {
	e.t.Helper()
	if got := e.readFile(path); got != want {
		e.t.Errorf("read %s = %q, want %q", path, got, want)
	}
}

func (e *env) rename(from, to string, flags uint32) {
	e.t.Helper()
	if err := e.vfs.RenameAt(e.ctx, e.pop(from), e.pop(to), flags); err != nil {
		e.t.Fatalf("renameat2(%q, %q, %#x): %v", from, to, flags, err)
	}
}

// expectRenameErr fails the test unless renaming from to to with flags
// fails with want.
func (e *env) expectRenameErr(from, to string, flags uint32, want error) {
	e.t.Helper()
	if err := e.vfs.RenameAt(e.ctx, e.pop(from), e.pop(to), flags); err != want {
		e.t.Errorf("renameat2(%q, %q, %#x) = %v, want %v", from, to, flags, err, want)
	}
}

// move renames the directory from to to and checks that to lists want and
// from is gone.
func (e *env) move(from, to, want string) {
	e.t.Helper()
	e.rename(from, to, 0)
	e.expectLs(to, want)
	e.expectGone(from)
}

func (e *env) mkdir(path string) {
	e.t.Helper()
	if err := e.vfs.MkdirAt(e.ctx, e.pop(path), 0o755); err != nil {
		e.t.Fatalf("mkdir(%q): %v", path, err)
	}
}

func (e *env) unlink(path string) {
	e.t.Helper()
	if err := e.vfs.UnlinkAt(e.ctx, e.pop(path)); err != nil {
		e.t.Fatalf("unlink(%q): %v", path, err)
	}
}

func (e *env) ino(path string) uint64 {
	e.t.Helper()
	st, err := e.stat(path)
	if err != nil {
		e.t.Fatalf("stat(%q): %v", path, err)
	}
	return st.Ino
}

func (e *env) expectGone(path string) {
	e.t.Helper()
	if _, err := e.stat(path); err != unix.ENOENT {
		e.t.Errorf("stat(%q) = %v, want ENOENT", path, err)
	}
}

// checkHostTree fails if renameTree's host files changed.
func (e *env) checkHostTree() {
	e.t.Helper()
	for name, data := range renameTreeFiles {
		if got := e.hostFile(name); got != data {
			e.t.Errorf("host %s = %q, want it untouched (%q)", name, got, data)
		}
	}
	for dir, want := range map[string]int{"a": 3, "b": 1, "c": 0, "d": 1} {
		if ents, err := os.ReadDir(filepath.Join(e.host, dir)); err != nil || len(ents) != want {
			e.t.Errorf("host dir %s: %d entries (%v), want %d", dir, len(ents), err, want)
		}
	}
}

func TestRenameLowerDir(t *testing.T) {
	e := newEnvWith(t, renameTree)
	dirIno, fileIno := e.ino("/a"), e.ino("/a/f1")
	e.move("/a", "/a2", "f1 f2 inner")
	e.expectGone("/a/f1")
	e.expectLs("/", "a2 b c d empty etc")
	e.expectRead("/a2/f2", "f2")
	e.expectRead("/a2/inner/g", "g")
	if e.ino("/a2") != dirIno || e.ino("/a2/f1") != fileIno {
		t.Errorf("inode numbers changed by rename: dir %d -> %d, file %d -> %d", dirIno, e.ino("/a2"), fileIno, e.ino("/a2/f1"))
	}
	// Changes inside: copy-up of a lower file, create, unlink.
	e.write("/a2/f1", unix.O_APPEND, "+")
	e.expectRead("/a2/f1", "f1+")
	if e.ino("/a2/f1") != fileIno {
		t.Errorf("copy-up in renamed dir changed the inode number")
	}
	e.write("/a2/new", unix.O_CREAT, "new")
	e.unlink("/a2/f2")
	e.expectLs("/a2", "f1 inner new")
	// Rename back, and again into another directory.
	e.move("/a2", "/a", "f1 inner new")
	e.expectLs("/", "a b c d empty etc")
	e.move("/a", "/etc/a3", "f1 inner new")
	e.expectRead("/etc/a3/f1", "f1+")
	e.checkHostTree()
}

func TestRenameNestedDirs(t *testing.T) {
	e := newEnvWith(t, renameTree)
	// A lower dir into another lower dir, then the parent elsewhere.
	e.rename("/a/inner", "/b/inner2", 0)
	e.rename("/b", "/etc/sub/b2", 0)
	e.expectLs("/etc/sub/b2", "h inner2")
	e.expectLs("/etc/sub/b2/inner2", "g")
	// And the grandparent.
	e.rename("/etc/sub", "/sub", 0)
	e.write("/sub/b2/inner2/g", unix.O_APPEND, "2")
	e.expectRead("/sub/b2/inner2/g", "g2")
	e.expectLs("/sub", "b2 deep")
	e.expectLs("/a", "f1 f2")
	e.expectGone("/b")
	e.expectGone("/etc/sub")
	e.expectLs("/etc", "issue link motd")
	// A directory made where a renamed one was is new and empty.
	e.mkdir("/b")
	e.expectLs("/b", "")
	e.checkHostTree()
}

func TestRenameOverDirs(t *testing.T) {
	e := newEnvWith(t, renameTree)
	e.expectRenameErr("/a", "/d", 0, unix.ENOTEMPTY)
	e.expectRenameErr("/a", "/b", unix.RENAME_NOREPLACE, unix.EEXIST)
	// Over an empty lower dir.
	e.rename("/a", "/c", 0)
	e.expectLs("/c", "f1 f2 inner")
	// Over a merged dir emptied of its lower entries.
	e.unlink("/d/x")
	e.move("/b", "/d", "h")
	// An upper dir over an emptied lower dir hides the lower entries.
	e.unlink("/etc/sub/deep")
	e.mkdir("/up")
	e.rename("/up", "/etc/sub", 0)
	e.expectLs("/etc/sub", "")
	// A lower dir over an empty upper one.
	e.mkdir("/up2")
	e.rename("/c", "/up2", 0)
	e.expectLs("/up2", "f1 f2 inner")
	e.expectLs("/", "d empty etc up2")
	e.checkHostTree()
}

func TestRenameExchange(t *testing.T) {
	e := newEnvWith(t, renameTree)
	// A lower file with an upper file.
	e.write("/a/up", unix.O_CREAT, "upper")
	ino := e.ino("/a/f1")
	e.rename("/a/f1", "/a/up", unix.RENAME_EXCHANGE)
	e.expectRead("/a/f1", "upper")
	e.expectRead("/a/up", "f1")
	if e.ino("/a/up") != ino {
		t.Errorf("exchanged lower file changed inode number")
	}
	e.expectLs("/a", "f1 f2 inner up")
	// Two lower dirs, one merged.
	e.write("/b/new", unix.O_CREAT, "new")
	e.rename("/a", "/b", unix.RENAME_EXCHANGE)
	e.expectLs("/a", "h new")
	e.expectLs("/b", "f1 f2 inner up")
	e.expectRead("/b/inner/g", "g")
	e.write("/a/h", unix.O_APPEND, "!")
	e.expectRead("/a/h", "h!")
	// A lower dir with an upper dir, across parents.
	e.mkdir("/etc/u")
	e.write("/etc/u/x", unix.O_CREAT, "ux")
	e.rename("/d", "/etc/u", unix.RENAME_EXCHANGE)
	e.expectLs("/d", "x")
	e.expectRead("/d/x", "ux")
	e.expectLs("/etc/u", "x")
	e.expectRead("/etc/u/x", "x")
	// A dir with a lower file.
	e.rename("/c", "/etc/motd", unix.RENAME_EXCHANGE)
	e.expectRead("/c", "hello")
	e.expectLs("/etc/motd", "")
	e.expectLs("/", "a b c d empty etc")
	e.expectLs("/etc", "issue link motd sub u")
	// And back.
	e.rename("/etc/motd", "/c", unix.RENAME_EXCHANGE)
	e.expectRead("/etc/motd", "hello")
	e.expectRenameErr("/a", "/nothing", unix.RENAME_EXCHANGE, unix.ENOENT)
	e.checkHostTree()
}

func TestRenameWhiteoutFlag(t *testing.T) {
	e := newEnvWith(t, renameTree)
	e.write("/a/up", unix.O_CREAT, "upper")
	for _, from := range []string{"/a/f1", "/a/up"} {
		e.expectRenameErr(from, "/a/wh", unix.RENAME_WHITEOUT, unix.EINVAL)
	}
	e.expectLs("/a", "f1 f2 inner up")
}

func TestRenameDirsConcurrently(t *testing.T) {
	e := newEnvWith(t, renameTree)
	var wg sync.WaitGroup
	mover := func(x, y string) {
		defer wg.Done()
		for k := 0; k < 50; k++ {
			e.vfs.RenameAt(e.ctx, e.pop(x), e.pop(y), 0)
			e.vfs.RenameAt(e.ctx, e.pop(y), e.pop(x), 0)
			e.vfs.RenameAt(e.ctx, e.pop(x), e.pop("/etc/"+y[1:]), unix.RENAME_NOREPLACE)
			e.vfs.RenameAt(e.ctx, e.pop("/etc/"+y[1:]), e.pop(x), 0)
		}
	}
	reader := func(paths ...string) {
		defer wg.Done()
		for k := 0; k < 100; k++ {
			for _, p := range paths {
				if fd, err := e.vfs.OpenAt(e.ctx, e.pop(p), vfs.OpenOptions{Flags: unix.O_RDONLY}); err == nil {
					buf := make([]byte, 16)
					fd.PRead(e.ctx, buf, 0)
					fd.DecRef(e.ctx)
				}
			}
		}
	}
	wg.Add(5)
	go mover("/a", "/a2")
	go mover("/b", "/b2")
	go reader("/a/f1", "/a2/f1", "/etc/a2/f1", "/a/inner/g")
	go reader("/b/h", "/b2/h", "/etc/b2/h", "/")
	go func() {
		defer wg.Done()
		for k := 0; k < 50; k++ {
			fd, err := e.vfs.OpenAt(e.ctx, e.pop("/c/x"), vfs.OpenOptions{Flags: unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, Mode: 0o644})
			if err != nil {
				t.Errorf("create /c/x: %v", err)
				return
			}
			fd.DecRef(e.ctx)
			if err := e.vfs.UnlinkAt(e.ctx, e.pop("/c/x")); err != nil {
				t.Errorf("unlink /c/x: %v", err)
				return
			}
		}
	}()
	wg.Wait()
	e.expectLs("/a", "f1 f2 inner")
	e.expectLs("/b", "h")
	e.expectLs("/", "a b c d empty etc")
	e.expectLs("/etc", "issue link motd sub")
	e.checkHostTree()
}
