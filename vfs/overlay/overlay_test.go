package overlay

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
	host := t.TempDir()
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
	ctx := context.Background()
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
	// Directories with a lower part cannot move.
	if err := e.vfs.RenameAt(e.ctx, e.pop("/etc/sub"), e.pop("/sub"), 0); err != unix.EXDEV {
		t.Errorf("rename of lower dir = %v, want EXDEV", err)
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
