package filter

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/gofer"
	"github.com/palisade-sandbox/palisade/gofer/protocol"
)

// Environment of the test binary re-executed as a child: childEnv names
// what it does, rootEnv the directory it serves or works in. They exist
// only in this test binary.
const (
	childEnv = "PALISADE_GOFER_FILTER_TEST_CHILD"
	rootEnv  = "PALISADE_GOFER_FILTER_TEST_ROOT"
)

func TestMain(m *testing.M) {
	if what := os.Getenv(childEnv); what != "" {
		os.Exit(runChild(what, os.Getenv(rootEnv)))
	}
	code := m.Run()
	if childPath != "" {
		os.RemoveAll(filepath.Dir(childPath))
	}
	os.Exit(code)
}

// forbidden are calls that kill a confined gofer, made raw so that
// nothing in Go runs before the filter sees them. Arguments are junk: the
// filter decides before the kernel looks at them.
var forbidden = map[string]struct {
	nr   uintptr
	args [6]uintptr
}{
	"socket":            {unix.SYS_SOCKET, [6]uintptr{unix.AF_INET, unix.SOCK_STREAM}},
	"socketpair":        {unix.SYS_SOCKETPAIR, [6]uintptr{unix.AF_UNIX, unix.SOCK_STREAM}},
	"connect":           {unix.SYS_CONNECT, [6]uintptr{3}},
	"bind":              {unix.SYS_BIND, [6]uintptr{3}},
	"listen":            {unix.SYS_LISTEN, [6]uintptr{3}},
	"accept4":           {unix.SYS_ACCEPT4, [6]uintptr{3}},
	"execve":            {unix.SYS_EXECVE, [6]uintptr{}},
	"execveat":          {unix.SYS_EXECVEAT, [6]uintptr{}},
	"fork":              {unix.SYS_FORK, [6]uintptr{}},
	"clone fork":        {unix.SYS_CLONE, [6]uintptr{uintptr(unix.SIGCHLD)}},
	"ptrace":            {unix.SYS_PTRACE, [6]uintptr{unix.PTRACE_TRACEME}},
	"mount":             {unix.SYS_MOUNT, [6]uintptr{}},
	"chroot":            {unix.SYS_CHROOT, [6]uintptr{}},
	"unshare":           {unix.SYS_UNSHARE, [6]uintptr{unix.CLONE_NEWNS}},
	"setns":             {unix.SYS_SETNS, [6]uintptr{3}},
	"process_vm_readv":  {unix.SYS_PROCESS_VM_READV, [6]uintptr{1}},
	"process_vm_writev": {unix.SYS_PROCESS_VM_WRITEV, [6]uintptr{1}},
	"bpf":               {unix.SYS_BPF, [6]uintptr{}},
	"kexec_load":        {unix.SYS_KEXEC_LOAD, [6]uintptr{}},
	"kill":              {unix.SYS_KILL, [6]uintptr{1, 0}},
	"ioctl":             {unix.SYS_IOCTL, [6]uintptr{0, unix.TIOCSTI}},
	"fcntl F_DUPFD":     {unix.SYS_FCNTL, [6]uintptr{0, unix.F_DUPFD}},
	// A read-only gofer changes nothing on the host.
	"unlinkat read-only":  {unix.SYS_UNLINKAT, [6]uintptr{3}},
	"mkdirat read-only":   {unix.SYS_MKDIRAT, [6]uintptr{3}},
	"renameat2 read-only": {unix.SYS_RENAMEAT2, [6]uintptr{3, 0, 3}},
	"ftruncate read-only": {unix.SYS_FTRUNCATE, [6]uintptr{3}},
	"fchownat read-only":  {unix.SYS_FCHOWNAT, [6]uintptr{3, 0, 0, 0, unix.AT_EMPTY_PATH | unix.AT_SYMLINK_NOFOLLOW}},
}

// runChild is the re-executed test binary. For "serve-ro" and
// "serve-rw" it is a gofer: it sets up a server for root on descriptor
// 3, installs the filter and serves until the parent hangs up. For
// "refused-ro" and "refused-rw" it installs the filter and checks the
// calls that must fail with EPERM. Any other name is a call of forbidden,
// made under the read-only filter. It returns the exit status; failures
// are reported on stderr.
func runChild(what, root string) int {
	// A process killed by seccomp dumps core; don't.
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
	var failures []string
	fail := func(format string, args ...any) {
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	switch what {
	case "serve-ro", "serve-rw":
		readOnly := what == "serve-ro"
		sock := os.NewFile(3, "gofer-socket")
		srv, err := gofer.NewServer(sock, root, readOnly)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		sock.Close()
		if err := Install(readOnly); err != nil {
			fmt.Fprintf(os.Stderr, "Install: %v\n", err)
			return 2
		}
		if err := srv.Serve(); err != nil {
			fail("Serve: %v", err)
		}

	case "refused-ro", "refused-rw":
		dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		readOnly := what == "refused-ro"
		if err := Install(readOnly); err != nil {
			fmt.Fprintf(os.Stderr, "Install: %v\n", err)
			return 2
		}
		for _, tc := range []struct {
			name  string
			err   error
			allow bool // the writable filter allows it
		}{
			{"open", errOf(unix.Open(filepath.Join(root, "dir/file"), unix.O_RDONLY, 0)), false},
			{"openat AT_FDCWD", errOf(unix.Openat(unix.AT_FDCWD, filepath.Join(root, "dir/file"), unix.O_RDONLY|unix.O_NOFOLLOW, 0)), false},
			{"openat without O_NOFOLLOW", errOf(unix.Openat(dir, "dir", unix.O_RDONLY, 0)), false},
			{"openat with O_TRUNC", errOf(unix.Openat(dir, "dir", unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_TRUNC, 0)), false},
			{"openat with O_TMPFILE", errOf(unix.Openat(dir, "dir", unix.O_TMPFILE|unix.O_RDWR|unix.O_NOFOLLOW, 0o600)), false},
			{"openat with O_CREAT", errOf(unix.Openat(dir, "new", unix.O_CREAT|unix.O_WRONLY|unix.O_NOFOLLOW, 0o600)), false},
			{"openat with O_CREAT|O_EXCL", errOf(unix.Openat(dir, "new", unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_NOFOLLOW, 0o600)), true},
			{"openat2", errOf(unix.Openat2(dir, "dir", &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_NOFOLLOW})), false},
			{"creat", errOf(unix.Creat(filepath.Join(root, "new2"), 0o600)), false},
			{"os.ReadFile", errOf(0, readFile(filepath.Join(root, "dir/file"))), false},
			{"prctl(PR_SET_DUMPABLE)", unix.Prctl(unix.PR_SET_DUMPABLE, 1, 0, 0, 0), false},
		} {
			want := error(unix.EPERM)
			if tc.allow && !readOnly {
				want = nil
			}
			if !errors.Is(tc.err, want) && !(want == nil && tc.err == nil) {
				fail("%s = %v, want %v", tc.name, tc.err, want)
			}
		}
		// The calls a gofer makes work.
		fd, err := unix.Openat(dir, "dir", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			fail("openat(dir, O_NOFOLLOW) = %v, want a descriptor", err)
		} else {
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
				fail("fstat = mode %#o, %v; want a directory", st.Mode, err)
			}
			unix.Close(fd)
		}

	default:
		call, ok := forbidden[what]
		if !ok {
			fmt.Fprintf(os.Stderr, "unknown check %q\n", what)
			return 2
		}
		if err := Install(true); err != nil {
			fmt.Fprintf(os.Stderr, "Install: %v\n", err)
			return 2
		}
		a := call.args
		_, _, errno := unix.RawSyscall6(call.nr, a[0], a[1], a[2], a[3], a[4], a[5])
		fail("%s returned (errno %v)", what, errno)
	}
	for _, f := range failures {
		fmt.Fprintln(os.Stderr, f)
	}
	if len(failures) > 0 {
		return 1
	}
	return 0
}

// errOf returns the error of a call that also returns a descriptor,
// closing the descriptor if there is one.
func errOf(fd int, err error) error {
	if err == nil && fd >= 0 {
		unix.Close(fd)
	}
	return err
}

func readFile(path string) error {
	_, err := os.ReadFile(path)
	return err
}

// makeRoot builds the tree a child serves:
//
//	dir/file  "palisade ok\n"
//	dir/fifo
//	link -> dir/file
func makeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "dir", "file"), []byte("palisade ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "dir", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("dir/file", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	return root
}

var (
	childOnce sync.Once
	childPath string
	childErr  error
)

// childBinary returns the test binary to re-execute as a child. runsc is
// always built with CGO_ENABLED=0, and the filter is made for such a
// binary: with cgo (here, because package net links runtime/cgo) the Go
// runtime starts threads through libc, whose clone flags and rseq the
// filter rightly kills. So a cgo test binary rebuilds itself once without
// cgo and runs that copy as its children.
func childBinary(t *testing.T) string {
	t.Helper()
	if !testBinaryUsesCgo {
		return os.Args[0]
	}
	childOnce.Do(func() {
		dir, err := os.MkdirTemp("", "gofer-filter-test")
		if err != nil {
			childErr = err
			return
		}
		childPath = filepath.Join(dir, "filter.test")
		cmd := exec.Command("go", "test", "-c", "-o", childPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			childErr = fmt.Errorf("building the test binary with CGO_ENABLED=0: %v\n%s", err, out)
		}
	})
	if childErr != nil {
		t.Fatal(childErr)
	}
	return childPath
}

// child returns the test binary as a child doing what with root.
func child(t *testing.T, what, root string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.Command(childBinary(t), "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+what, rootEnv+"="+root)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// killedBySIGSYS reports whether cmd's process was killed by SIGSYS.
func killedBySIGSYS(cmd *exec.Cmd) bool {
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == unix.SIGSYS
}

// serve starts a confined gofer child for root and returns a client
// connected to it and a function that hangs up and waits for the child,
// failing the test unless it exited cleanly.
func serve(t *testing.T, root string, readOnly bool) (*protocol.Client, func()) {
	t.Helper()
	clientEnd, serverEnd, err := protocol.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	what := "serve-rw"
	if readOnly {
		what = "serve-ro"
	}
	cmd, stderr := child(t, what, root)
	cmd.ExtraFiles = []*os.File{serverEnd}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serverEnd.Close()
	client, err := protocol.NewClient(clientEnd)
	clientEnd.Close()
	if err != nil {
		t.Fatal(err)
	}
	return client, func() {
		t.Helper()
		client.Close()
		err := cmd.Wait()
		if killedBySIGSYS(cmd) {
			t.Fatalf("the confined gofer was killed by SIGSYS (a call it needs is missing; see dmesg for type=1326)\n%s", stderr)
		}
		if err != nil {
			t.Fatalf("confined gofer: %v\n%s", err, stderr)
		}
	}
}

// readAll reads fd from offset 0 and closes it.
func readAll(t *testing.T, fd int) string {
	t.Helper()
	defer unix.Close(fd)
	buf := make([]byte, 256)
	n, err := unix.Pread(fd, buf, 0)
	if err != nil {
		t.Fatalf("pread of a donated descriptor: %v", err)
	}
	return string(buf[:n])
}

// walk walks path (components separated by '/') from node and returns the
// last node, closing the O_PATH descriptors of the others.
func walk(t *testing.T, c *protocol.Client, from protocol.NodeID, path string) protocol.Node {
	t.Helper()
	nodes, err := c.Walk(from, strings.Split(path, "/"))
	if err != nil {
		t.Fatalf("Walk(%q): %v", path, err)
	}
	for _, n := range nodes[:len(nodes)-1] {
		unix.Close(n.FD)
	}
	return nodes[len(nodes)-1]
}

func TestConfinedGoferServesReadOnly(t *testing.T) {
	root := makeRoot(t)
	c, done := serve(t, root, true)
	defer done()

	r, ro, err := c.Attach()
	if err != nil || !ro {
		t.Fatalf("Attach() = read-only %v, %v; want a read-only root", ro, err)
	}
	file := walk(t, c, r.ID, "dir/file")
	fd, attr, err := c.Open(file.ID, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("Open(dir/file): %v", err)
	}
	if got := readAll(t, fd); got != "palisade ok\n" || attr.Size != 12 {
		t.Errorf("dir/file reads %q, size %d; want %q, 12", got, attr.Size, "palisade ok\n")
	}
	if a, err := c.Stat(file.ID); err != nil || a.Size != 12 {
		t.Errorf("Stat(dir/file) = size %d, %v; want 12", a.Size, err)
	}
	dir := walk(t, c, r.ID, "dir")
	dfd, _, err := c.Open(dir.ID, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		t.Fatalf("Open(dir): %v", err)
	}
	names := listDir(t, dfd)
	if !names["file"] || !names["fifo"] {
		t.Errorf("dir lists %v, want file and fifo", names)
	}
	fifo := walk(t, c, dir.ID, "fifo")
	if ffd, _, err := c.Open(fifo.ID, unix.O_WRONLY); err != nil && err != unix.ENXIO {
		// No reader: a non-blocking writable open of a FIFO is ENXIO.
		t.Errorf("Open(fifo, O_WRONLY) = %v, want ENXIO", err)
	} else if err == nil {
		unix.Close(ffd)
	}
	link := walk(t, c, r.ID, "link")
	if target, err := c.Readlink(link.ID); err != nil || target != "dir/file" {
		t.Errorf("Readlink(link) = %q, %v; want dir/file", target, err)
	}
	if _, err := c.Walk(link.ID, []string{"x"}); err != unix.ENOTDIR {
		t.Errorf("walking through a symlink = %v, want ENOTDIR", err)
	}
	if _, err := c.Walk(r.ID, []string{"missing"}); err != unix.ENOENT {
		t.Errorf("Walk(missing) = %v, want ENOENT", err)
	}
	// Refused by the server before any host call.
	if _, _, err := c.Open(file.ID, unix.O_RDWR|unix.O_TRUNC); err != unix.EROFS {
		t.Errorf("Open(dir/file, O_RDWR|O_TRUNC) = %v, want EROFS", err)
	}
	if _, _, err := c.Create(dir.ID, "new", unix.O_WRONLY, 0o644, protocol.NoID, protocol.NoID); err != unix.EROFS {
		t.Errorf("Create = %v, want EROFS", err)
	}

	// Many requests at once: the runtime starts threads under the filter.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nodes, err := c.Walk(r.ID, []string{"dir", "file"})
			for _, n := range nodes {
				unix.Close(n.FD)
			}
			if err == nil {
				var fd int
				fd, _, err = c.Open(nodes[1].ID, unix.O_RDONLY)
				if err == nil {
					unix.Close(fd)
				}
				c.CloseNodes([]protocol.NodeID{nodes[0].ID, nodes[1].ID})
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent walk and open: %v", err)
		}
	}
	if err := c.CloseNodes([]protocol.NodeID{file.ID, dir.ID, fifo.ID, link.ID}); err != nil {
		t.Errorf("CloseNodes: %v", err)
	}
}

// listDir returns the names in directory fd and closes it.
func listDir(t *testing.T, fd int) map[string]bool {
	t.Helper()
	defer unix.Close(fd)
	names := map[string]bool{}
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			t.Fatalf("getdents: %v", err)
		}
		if n == 0 {
			return names
		}
		_, _, got := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range got {
			names[name] = true
		}
	}
}

func TestConfinedGoferServesWrites(t *testing.T) {
	root := makeRoot(t)
	c, done := serve(t, root, false)
	r, ro, err := c.Attach()
	if err != nil || ro {
		t.Fatalf("Attach() = read-only %v, %v; want a writable root", ro, err)
	}
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	dir := walk(t, c, r.ID, "dir")

	// Create: openat(O_CREAT|O_EXCL), fchmod, fchownat.
	n, fd, err := c.Create(dir.ID, "new", unix.O_RDWR, 0o640, uid, gid)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := unix.Pwrite(fd, []byte("written"), 0); err != nil {
		t.Errorf("pwrite of a created file: %v", err)
	}
	unix.Close(fd)
	// Open with O_TRUNC: ftruncate after the inode check.
	fd, _, err = c.Open(n.ID, unix.O_WRONLY|unix.O_TRUNC)
	if err != nil {
		t.Errorf("Open(new, O_TRUNC): %v", err)
	} else {
		unix.Pwrite(fd, []byte("again"), 0)
		unix.Close(fd)
	}
	// SetAttr: fchmodat2 (or a fallback), fchownat, ftruncate, utimensat.
	if _, err := c.SetAttr(protocol.SetAttrReq{Node: n.ID,
		Mask: protocol.SetAttrMode | protocol.SetAttrUID | protocol.SetAttrGID | protocol.SetAttrSize | protocol.SetAttrMtime | protocol.SetAttrAtimeNow,
		Mode: 0o600, UID: uid, GID: gid, Size: 3, Mtime: 1e9}); err != nil {
		t.Errorf("SetAttr: %v", err)
	}
	// Mkdir (mkdirat, fchmodat "."), Symlink, Link, Rename, Unlink.
	sub, err := c.Mkdir(dir.ID, "sub", 0o750, uid, gid)
	if err != nil {
		t.Errorf("Mkdir: %v", err)
	}
	if _, err := c.SetAttr(protocol.SetAttrReq{Node: sub.ID, Mask: protocol.SetAttrMode, Mode: 0o700}); err != nil {
		t.Errorf("SetAttr of a directory: %v", err)
	}
	if _, err := c.Symlink(dir.ID, "sym", "new", uid, gid); err != nil {
		t.Errorf("Symlink: %v", err)
	}
	if _, err := c.Link(dir.ID, "hard", n.ID); err != nil {
		t.Errorf("Link: %v", err)
	}
	if err := c.Rename(dir.ID, "hard", sub.ID, "moved", 0); err != nil {
		t.Errorf("Rename: %v", err)
	}
	if err := c.Rename(dir.ID, "new", dir.ID, "sym", unix.RENAME_EXCHANGE); err != nil {
		t.Errorf("Rename(RENAME_EXCHANGE): %v", err)
	}
	if err := c.Unlink(sub.ID, "moved", 0); err != nil {
		t.Errorf("Unlink: %v", err)
	}
	if err := c.Unlink(dir.ID, "sub", unix.AT_REMOVEDIR); err != nil {
		t.Errorf("Unlink(AT_REMOVEDIR): %v", err)
	}
	done()

	// What the host sees.
	b, err := os.ReadFile(filepath.Join(root, "dir", "sym"))
	if err != nil || string(b) != "aga" {
		t.Errorf("dir/sym (exchanged with new) reads %q, %v; want %q", b, err, "aga")
	}
	st, err := os.Lstat(filepath.Join(root, "dir", "sym"))
	if err != nil || st.Mode().Perm() != 0o600 || st.ModTime().Unix() != 1 {
		t.Errorf("dir/sym: %v, %v; want mode 0600 and mtime 1s", st, err)
	}
	if target, err := os.Readlink(filepath.Join(root, "dir", "new")); err != nil || target != "new" {
		t.Errorf("dir/new (exchanged with sym) = %q, %v; want a symlink to new", target, err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dir", "sub")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dir/sub after removal: %v, want it gone", err)
	}
}

func TestConfinedGoferRefusesPathsWithEPERM(t *testing.T) {
	for _, what := range []string{"refused-ro", "refused-rw"} {
		root := makeRoot(t)
		cmd, stderr := child(t, what, root)
		if err := cmd.Run(); err != nil {
			t.Errorf("%s: child ended with %v\n%s", what, err, stderr)
		}
		if _, err := os.Lstat(filepath.Join(root, "new2")); err == nil {
			t.Errorf("%s: creat made a file", what)
		}
	}
}

func TestConfinedGoferIsKilledForForbiddenCalls(t *testing.T) {
	for what := range forbidden {
		cmd, stderr := child(t, what, t.TempDir())
		err := cmd.Run()
		if !killedBySIGSYS(cmd) {
			t.Errorf("%s: child ended with %v, want it killed by SIGSYS\n%s", what, err, stderr)
		}
	}
}
