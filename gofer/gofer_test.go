package gofer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/gofer/protocol"
)

// startServer serves root on a socketpair and returns a client attached to
// it; cleanup closes the client and checks that Serve returned nil.
func startServer(t *testing.T, root string, readOnly bool) (*protocol.Client, protocol.Node) {
	t.Helper()
	cf, sf, err := protocol.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- Serve(sf, root, readOnly)
		sf.Close()
	}()
	c, err := protocol.NewClient(cf)
	cf.Close()
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	rootNode, ro, err := c.Attach()
	if err != nil {
		t.Fatalf("Attach: %v", err)
	}
	if ro != readOnly {
		t.Errorf("Attach reports read-only %v, want %v", ro, readOnly)
	}
	t.Cleanup(func() {
		unix.Close(rootNode.FD)
		c.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v, want nil", err)
		}
	})
	return c, rootNode
}

// makeTree builds:
//
//	dir/file      "hello, gofer"
//	dir/sub/deep  "deep"
//	dir/link  ->  /etc/passwd   (absolute, pointing out of the root)
//	dir/up    ->  ../..         (relative, pointing out of the root)
//	fifo
func makeTree(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(root, "dir", "sub"), 0o755))
	must(os.WriteFile(filepath.Join(root, "dir", "file"), []byte("hello, gofer"), 0o644))
	must(os.WriteFile(filepath.Join(root, "dir", "sub", "deep"), []byte("deep"), 0o600))
	must(os.Symlink("/etc/passwd", filepath.Join(root, "dir", "link")))
	must(os.Symlink("../..", filepath.Join(root, "dir", "up")))
	must(unix.Mkfifo(filepath.Join(root, "fifo"), 0o644))
	return root
}

func closeNodes(t *testing.T, c *protocol.Client, nodes []protocol.Node) {
	t.Helper()
	var ids []protocol.NodeID
	for _, n := range nodes {
		unix.Close(n.FD)
		ids = append(ids, n.ID)
	}
	if len(ids) > 0 {
		if err := c.CloseNodes(ids); err != nil {
			t.Errorf("CloseNodes: %v", err)
		}
	}
}

func TestWalkOpenRead(t *testing.T) {
	root := makeTree(t)
	c, r := startServer(t, root, true)
	nodes, err := c.Walk(r.ID, []string{"dir", "file"})
	if err != nil || len(nodes) != 2 {
		t.Fatalf("Walk(dir, file) = %d nodes, %v; want 2, nil", len(nodes), err)
	}
	defer closeNodes(t, c, nodes)
	if !nodes[0].Attr.IsDir() || nodes[1].Attr.FileType() != unix.S_IFREG || nodes[1].Attr.Size != 12 {
		t.Errorf("attrs = %+v, %+v; want a directory and a 12-byte regular file", nodes[0].Attr, nodes[1].Attr)
	}
	var st unix.Stat_t
	if err := unix.Fstat(nodes[1].FD, &st); err != nil || st.Ino != nodes[1].Attr.Ino {
		t.Errorf("donated O_PATH fd fstat ino = %d, %v; want %d", st.Ino, err, nodes[1].Attr.Ino)
	}
	fd, a, err := c.Open(nodes[1].ID, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("Open(file, O_RDONLY): %v", err)
	}
	defer unix.Close(fd)
	if a.Ino != nodes[1].Attr.Ino {
		t.Errorf("Open attr ino = %d, want %d", a.Ino, nodes[1].Attr.Ino)
	}
	buf := make([]byte, 64)
	n, err := unix.Pread(fd, buf, 7)
	if err != nil || string(buf[:n]) != "gofer" {
		t.Errorf("pread at 7 = %q, %v; want \"gofer\"", buf[:n], err)
	}
	if fl, _ := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0); fl&unix.O_NONBLOCK != 0 {
		t.Errorf("regular file opened without O_NONBLOCK has flags %#x", fl)
	}

	// Directories open for reading and list through getdents64.
	dfd, _, err := c.Open(nodes[0].ID, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		t.Fatalf("Open(dir, O_DIRECTORY): %v", err)
	}
	defer unix.Close(dfd)
	names := readDirNames(t, dfd)
	if want := "file,link,sub,up"; strings.Join(names, ",") != want {
		t.Errorf("dir entries = %v, want %s", names, want)
	}

	// Walking several components at once.
	deep, err := c.Walk(r.ID, []string{"dir", "sub", "deep"})
	defer closeNodes(t, c, deep)
	if err != nil || len(deep) != 3 || deep[2].Attr.Size != 4 {
		t.Errorf("Walk(dir, sub, deep) = %d nodes, %v; want 3 with the last of size 4", len(deep), err)
	}
}

func readDirNames(t *testing.T, fd int) []string {
	t.Helper()
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.Getdents(fd, buf)
		if err != nil {
			t.Fatalf("getdents: %v", err)
		}
		if n == 0 {
			break
		}
		_, _, got := unix.ParseDirent(buf[:n], -1, nil)
		names = append(names, got...)
	}
	for i := 1; i < len(names); i++ {
		for j := i; j > 0 && names[j] < names[j-1]; j-- {
			names[j], names[j-1] = names[j-1], names[j]
		}
	}
	return names
}

func TestWalkStopsAtMissing(t *testing.T) {
	c, r := startServer(t, makeTree(t), true)
	nodes, err := c.Walk(r.ID, []string{"dir", "nope", "x"})
	defer closeNodes(t, c, nodes)
	if err != unix.ENOENT || len(nodes) != 1 || !nodes[0].Attr.IsDir() {
		t.Errorf("Walk(dir, nope, x) = %d nodes, %v; want the directory and ENOENT", len(nodes), err)
	}
	more, err := c.Walk(r.ID, []string{"dir", "file", "x"})
	defer closeNodes(t, c, more)
	if err != unix.ENOTDIR || len(more) != 2 {
		t.Errorf("Walk(dir, file, x) = %d nodes, %v; want 2 and ENOTDIR", len(more), err)
	}
}

func TestBadNamesRejected(t *testing.T) {
	c, r := startServer(t, makeTree(t), true)
	tests := []struct {
		name string
		want unix.Errno
	}{
		{"..", unix.EINVAL},
		{".", unix.EINVAL},
		{"", unix.ENOENT},
		{"/", unix.EINVAL},
		{"dir/file", unix.EINVAL},
		{"/etc", unix.EINVAL},
		{"a\x00b", unix.EINVAL},
		{strings.Repeat("n", 256), unix.ENAMETOOLONG},
	}
	for _, tc := range tests {
		nodes, err := c.Walk(r.ID, []string{tc.name})
		closeNodes(t, c, nodes)
		if err != tc.want || len(nodes) != 0 {
			t.Errorf("Walk(%q) = %d nodes, %v; want none and %v", tc.name, len(nodes), err, tc.want)
		}
	}
	// ".." after a real directory is refused just the same.
	nodes, err := c.Walk(r.ID, []string{"dir", "..", ".."})
	closeNodes(t, c, nodes)
	if err != unix.EINVAL || len(nodes) != 1 {
		t.Errorf("Walk(dir, .., ..) = %d nodes, %v; want 1 and EINVAL", len(nodes), err)
	}
}

func TestSymlinksNotFollowed(t *testing.T) {
	c, r := startServer(t, makeTree(t), true)
	for _, name := range []string{"link", "up"} {
		nodes, err := c.Walk(r.ID, []string{"dir", name})
		if err != nil || len(nodes) != 2 {
			t.Fatalf("Walk(dir, %s) = %d nodes, %v", name, len(nodes), err)
		}
		l := nodes[1]
		if !l.Attr.IsSymlink() {
			t.Errorf("%s: mode %#o, want a symlink (not its target)", name, l.Attr.Mode)
		}
		if _, _, err := c.Open(l.ID, unix.O_RDONLY); err != unix.ELOOP {
			t.Errorf("Open(%s) err = %v, want ELOOP", name, err)
		}
		// Walking through the symlink does not follow it either.
		through, err := c.Walk(l.ID, []string{"passwd"})
		closeNodes(t, c, through)
		if err != unix.ENOTDIR {
			t.Errorf("Walk(%s, passwd) err = %v, want ENOTDIR", name, err)
		}
		target, err := c.Readlink(l.ID)
		want := map[string]string{"link": "/etc/passwd", "up": "../.."}[name]
		if err != nil || target != want {
			t.Errorf("Readlink(%s) = %q, %v; want %q", name, target, err, want)
		}
		// The client can read the link itself from the O_PATH descriptor.
		buf := make([]byte, 256)
		n, err := unix.Readlinkat(l.FD, "", buf)
		if err != nil || string(buf[:n]) != want {
			t.Errorf("readlinkat(O_PATH fd of %s) = %q, %v; want %q", name, buf[:n], err, want)
		}
		closeNodes(t, c, nodes)
	}
	if _, err := c.Readlink(r.ID); err != unix.EINVAL {
		t.Errorf("Readlink(root dir) err = %v, want EINVAL", err)
	}
}

func TestReadOnlyRefusesMutations(t *testing.T) {
	root := makeTree(t)
	c, r := startServer(t, root, true)
	nodes, err := c.Walk(r.ID, []string{"dir", "file"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeNodes(t, c, nodes)
	dir, file := nodes[0].ID, nodes[1].ID
	check := func(op string, err error) {
		t.Helper()
		if err != unix.EROFS {
			t.Errorf("%s on a read-only server: err = %v, want EROFS", op, err)
		}
	}
	_, fd, err := c.Create(dir, "new", unix.O_WRONLY, 0o644, protocol.NoID, protocol.NoID)
	if err == nil {
		unix.Close(fd)
	}
	check("Create", err)
	_, err = c.Mkdir(dir, "d", 0o755, protocol.NoID, protocol.NoID)
	check("Mkdir", err)
	_, err = c.Symlink(dir, "s", "file", protocol.NoID, protocol.NoID)
	check("Symlink", err)
	_, err = c.Link(dir, "h", file)
	check("Link", err)
	check("Unlink", c.Unlink(dir, "file", 0))
	check("Rename", c.Rename(dir, "file", dir, "moved", 0))
	_, err = c.SetAttr(protocol.SetAttrReq{Node: file, Mask: protocol.SetAttrSize})
	check("SetAttr", err)
	for _, flags := range []uint32{unix.O_WRONLY, unix.O_RDWR, unix.O_RDONLY | unix.O_TRUNC} {
		fd, _, err := c.Open(file, flags)
		if err == nil {
			unix.Close(fd)
		}
		check("Open for writing", err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "dir", "file")); err != nil || string(b) != "hello, gofer" {
		t.Errorf("file after refused mutations = %q, %v", b, err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dir", "new")); !os.IsNotExist(err) {
		t.Errorf("refused Create left a file: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	c, r := startServer(t, makeTree(t), true)
	nodes, err := c.Walk(r.ID, []string{"dir", "file"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeNodes(t, c, nodes)
	fifo, err := c.Walk(r.ID, []string{"fifo"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeNodes(t, c, fifo)
	tests := []struct {
		name  string
		node  protocol.NodeID
		flags uint32
		want  unix.Errno
	}{
		{"O_CREAT", nodes[1].ID, unix.O_RDONLY | unix.O_CREAT, unix.EINVAL},
		{"O_DIRECTORY on a file", nodes[1].ID, unix.O_RDONLY | unix.O_DIRECTORY, unix.ENOTDIR},
		{"directory for writing", nodes[0].ID, unix.O_WRONLY, unix.EISDIR},
		{"unknown node", 1 << 40, unix.O_RDONLY, unix.EBADF},
		{"bad access mode", nodes[1].ID, unix.O_ACCMODE, unix.EINVAL},
	}
	for _, tc := range tests {
		fd, _, err := c.Open(tc.node, tc.flags)
		if err == nil {
			unix.Close(fd)
		}
		if err != tc.want {
			t.Errorf("Open %s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	// A FIFO opens without blocking, even with no writer.
	fd, _, err := c.Open(fifo[0].ID, unix.O_RDONLY)
	if err != nil {
		t.Errorf("Open(fifo, O_RDONLY) err = %v, want success without blocking", err)
	} else {
		unix.Close(fd)
	}
}

func TestDevicesRefused(t *testing.T) {
	// /dev/null exists on every test host; serve /dev itself.
	c, r := startServer(t, "/dev", true)
	nodes, err := c.Walk(r.ID, []string{"null"})
	if err != nil {
		t.Skipf("no /dev/null: %v", err)
	}
	defer closeNodes(t, c, nodes)
	if fd, _, err := c.Open(nodes[0].ID, unix.O_RDONLY); err != unix.EACCES {
		if err == nil {
			unix.Close(fd)
		}
		t.Errorf("Open(/dev/null) err = %v, want EACCES", err)
	}
}

func TestStaleNodeNotReopened(t *testing.T) {
	root := makeTree(t)
	c, r := startServer(t, root, true)
	nodes, err := c.Walk(r.ID, []string{"dir", "file"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeNodes(t, c, nodes)
	// Someone on the host replaces the file behind the server's back.
	p := filepath.Join(root, "dir", "file")
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("other"), 0o644); err != nil {
		t.Fatal(err)
	}
	if fd, _, err := c.Open(nodes[1].ID, unix.O_RDONLY); err != unix.ESTALE {
		if err == nil {
			unix.Close(fd)
		}
		t.Errorf("Open of a replaced file: err = %v, want ESTALE", err)
	}
}

func TestCloseNodes(t *testing.T) {
	c, r := startServer(t, makeTree(t), true)
	nodes, err := c.Walk(r.ID, []string{"dir", "sub"})
	if err != nil {
		t.Fatal(err)
	}
	// Close the parent first: the child keeps it alive on the server.
	if err := c.CloseNodes([]protocol.NodeID{nodes[0].ID}); err != nil {
		t.Fatalf("CloseNodes(dir): %v", err)
	}
	deep, err := c.Walk(nodes[1].ID, []string{"deep"})
	if err != nil {
		t.Fatalf("Walk from sub after closing dir: %v", err)
	}
	fd, _, err := c.Open(deep[0].ID, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("Open(deep) after closing its grandparent: %v", err)
	}
	unix.Close(fd)
	closeNodes(t, c, deep)
	if err := c.CloseNodes([]protocol.NodeID{nodes[0].ID}); err != unix.EBADF {
		t.Errorf("second CloseNodes(dir) = %v, want EBADF", err)
	}
	if _, err := c.Stat(nodes[0].ID); err != unix.EBADF {
		t.Errorf("Stat of a closed node = %v, want EBADF", err)
	}
	unix.Close(nodes[0].FD)
	closeNodes(t, c, nodes[1:])
}

func TestConcurrentWalks(t *testing.T) {
	c, r := startServer(t, makeTree(t), true)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				nodes, err := c.Walk(r.ID, []string{"dir", "sub", "deep"})
				if err != nil {
					t.Errorf("Walk: %v", err)
					return
				}
				fd, _, err := c.Open(nodes[2].ID, unix.O_RDONLY)
				if err != nil {
					t.Errorf("Open: %v", err)
				} else {
					unix.Close(fd)
				}
				closeNodes(t, c, nodes)
			}
		}()
	}
	wg.Wait()
}

func TestWritableMutations(t *testing.T) {
	root := makeTree(t)
	c, r := startServer(t, root, false)
	nodes, err := c.Walk(r.ID, []string{"dir"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeNodes(t, c, nodes)
	dir := nodes[0].ID

	n, fd, err := c.Create(dir, "new", unix.O_RDWR, 0o640, protocol.NoID, protocol.NoID)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if _, err := unix.Pwrite(fd, []byte("written"), 0); err != nil {
		t.Errorf("pwrite on created file: %v", err)
	}
	unix.Close(fd)
	if n.Attr.Mode != unix.S_IFREG|0o640 {
		t.Errorf("created mode = %#o, want %#o", n.Attr.Mode, unix.S_IFREG|0o640)
	}
	if _, _, err := c.Create(dir, "new", unix.O_RDWR, 0o640, protocol.NoID, protocol.NoID); err != unix.EEXIST {
		t.Errorf("second Create = %v, want EEXIST", err)
	}
	a, err := c.SetAttr(protocol.SetAttrReq{Node: n.ID, Mask: protocol.SetAttrSize | protocol.SetAttrMode | protocol.SetAttrMtime, Size: 3, Mode: 0o600, Mtime: 1e9})
	if err != nil || a.Size != 3 || a.Mode&0o7777 != 0o600 || a.Mtime != 1e9 {
		t.Errorf("SetAttr = %+v, %v; want size 3, mode 0600, mtime 1s", a, err)
	}
	m, err := c.Mkdir(dir, "d", 0o711, protocol.NoID, protocol.NoID)
	if err != nil || !m.Attr.IsDir() || m.Attr.Mode&0o7777 != 0o711 {
		t.Errorf("Mkdir = %+v, %v; want a 0711 directory", m.Attr, err)
	}
	s, err := c.Symlink(dir, "s", "new", protocol.NoID, protocol.NoID)
	if err != nil || !s.Attr.IsSymlink() {
		t.Errorf("Symlink = %+v, %v", s.Attr, err)
	}
	h, err := c.Link(m.ID, "hard", n.ID)
	if err != nil || h.Attr.Ino != n.Attr.Ino || h.Attr.Nlink != 2 {
		t.Errorf("Link = %+v, %v; want ino %d with 2 links", h.Attr, err, n.Attr.Ino)
	}
	if err := c.Rename(dir, "new", dir, "renamed", 0); err != nil {
		t.Errorf("Rename: %v", err)
	}
	// The renamed node still opens: the server followed the rename.
	if fd, _, err := c.Open(n.ID, unix.O_RDONLY); err != nil {
		t.Errorf("Open after Rename: %v", err)
	} else {
		buf := make([]byte, 16)
		k, _ := unix.Pread(fd, buf, 0)
		if string(buf[:k]) != "wri" {
			t.Errorf("renamed file holds %q, want \"wri\"", buf[:k])
		}
		unix.Close(fd)
	}
	if err := c.Unlink(m.ID, "hard", 0); err != nil {
		t.Errorf("Unlink(hard): %v", err)
	}
	if err := c.Unlink(dir, "d", 0); err != unix.EISDIR {
		t.Errorf("Unlink(d) without AT_REMOVEDIR = %v, want EISDIR", err)
	}
	if err := c.Unlink(dir, "d", unix.AT_REMOVEDIR); err != nil {
		t.Errorf("Unlink(d, AT_REMOVEDIR): %v", err)
	}
	if err := c.Unlink(dir, "..", unix.AT_REMOVEDIR); err != unix.EINVAL {
		t.Errorf("Unlink(..) = %v, want EINVAL", err)
	}
	got := readDirNamesPath(t, filepath.Join(root, "dir"))
	if want := "file,link,renamed,s,sub,up"; got != want {
		t.Errorf("dir after mutations = %s, want %s", got, want)
	}
	closeNodes(t, c, []protocol.Node{n, m, s, h})
}

func readDirNamesPath(t *testing.T, p string) string {
	t.Helper()
	ents, err := os.ReadDir(p)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}

func TestGarbageRequests(t *testing.T) {
	// Raw garbage on the wire: the server answers or drops it and keeps
	// serving.
	cf, sf, err := protocol.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Serve(sf, makeTree(t), true); sf.Close() }()
	conn, err := protocol.NewConn(cf)
	if err != nil {
		t.Fatal(err)
	}
	raw := int(cf.Fd())
	defer cf.Close()
	send := func(b []byte, fds []int) {
		if err := conn.Send(b, fds); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
	recv := func() (protocol.Header, []int) {
		buf := make([]byte, protocol.MaxMessageSize)
		n, fds, err := conn.Recv(buf)
		if err != nil {
			t.Fatalf("recv: %v", err)
		}
		h, _, err := protocol.ParseHeader(buf[:n])
		if err != nil {
			t.Fatalf("bad response: %v", err)
		}
		return h, fds
	}
	send([]byte{1, 2, 3}, nil) // no header: dropped
	bad := protocol.Marshal(nil, protocol.Header{Tag: 5, Type: protocol.MsgWalk}, nil)
	send(append(bad, 0xff, 0xff, 1), nil) // lying count
	if h, fds := recv(); h.Tag != 5 || h.Errno != unix.EINVAL || len(fds) != 0 {
		t.Errorf("garbage walk answered %+v with %d fds; want tag 5, EINVAL", h, len(fds))
	}
	// A malformed Walk still gets a decodable Walk response.
	send(append(protocol.Marshal(nil, protocol.Header{Tag: 8, Type: protocol.MsgWalk}, nil), 1), nil)
	buf := make([]byte, protocol.MaxMessageSize)
	n, fds, err := conn.Recv(buf)
	if err != nil {
		t.Fatal(err)
	}
	h, payload, err := protocol.ParseHeader(buf[:n])
	if err == nil {
		_, err = protocol.DecodeResponse(h, payload)
	}
	if err != nil || h.Tag != 8 || h.Errno != unix.EINVAL || len(fds) != 0 {
		t.Errorf("malformed walk answered %+v (%v) with %d fds; want tag 8, EINVAL, decodable", h, err, len(fds))
	}
	// A request carrying a descriptor is served; the descriptor is dropped.
	p := make([]int, 2)
	unix.Pipe2(p, unix.O_CLOEXEC)
	send(protocol.Marshal(nil, protocol.Header{Tag: 6, Type: protocol.MsgAttach}, &protocol.AttachReq{Version: protocol.Version}), p[:1])
	unix.Close(p[0])
	h, fds = recv()
	if h.Tag != 6 || h.Errno != 0 || len(fds) != 1 {
		t.Errorf("attach with a stray descriptor answered %+v with %d fds", h, len(fds))
	}
	protocol.CloseFDs(fds)
	// The server closed its copy of the pipe's read end: writing fails.
	if _, err := unix.Write(p[1], []byte("x")); err != unix.EPIPE {
		t.Errorf("write to pipe whose read end the server got: %v, want EPIPE", err)
	}
	unix.Close(p[1])
	// Oversized message: EINVAL.
	big := protocol.Marshal(nil, protocol.Header{Tag: 7, Type: protocol.MsgStat}, &protocol.StatReq{Node: 1})
	big = append(big, make([]byte, protocol.MaxMessageSize)...)
	if err := unix.Sendmsg(raw, big, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if h, _ := recv(); h.Tag != 7 || h.Errno != unix.EINVAL {
		t.Errorf("oversized request answered %+v; want tag 7, EINVAL", h)
	}
	conn.Close()
	cf.Close()
	if err := <-done; err != nil {
		t.Errorf("Serve = %v", err)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	return len(ents)
}

func TestNoDescriptorLeak(t *testing.T) {
	root := makeTree(t)
	before := countFDs(t)
	t.Run("session", func(t *testing.T) {
		c, r := startServer(t, root, false)
		for i := 0; i < 20; i++ {
			nodes, _ := c.Walk(r.ID, []string{"dir", "sub", "deep"})
			if fd, _, err := c.Open(nodes[len(nodes)-1].ID, unix.O_RDONLY); err == nil {
				unix.Close(fd)
			}
			// Close only the descriptors: the server releases the nodes
			// when the connection ends.
			for _, n := range nodes {
				unix.Close(n.FD)
			}
			partial, err := c.Walk(r.ID, []string{"dir", "nope"})
			if err != unix.ENOENT {
				t.Fatalf("walk: %v", err)
			}
			for _, n := range partial {
				unix.Close(n.FD)
			}
		}
	})
	if after := countFDs(t); after > before {
		t.Errorf("%d descriptors open after the session, %d before", after, before)
	}
}

// TestConfine runs a confined server in a child process (in a mount
// namespace of its own: confinement cannot be undone) and checks that it
// serves the temp dir as its root.
func TestConfine(t *testing.T) {
	if root := os.Getenv("GOFER_TEST_CONFINE_ROOT"); root != "" {
		// Child: mount a tmpfs holding a file inside root (in this
		// process's own mount namespace), confine, then serve
		// descriptor 3.
		if err := unix.Mount("test", filepath.Join(root, "mnt"), "tmpfs", 0, ""); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := os.WriteFile(filepath.Join(root, "mnt", "secret"), []byte("x"), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		paths, err := Confine([]string{root}, true)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := Serve(os.NewFile(3, "conn"), paths[0], true); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root")
	}
	root := makeTree(t)
	if err := os.Mkdir(filepath.Join(root, "mnt"), 0o755); err != nil {
		t.Fatal(err)
	}
	cf, sf, err := protocol.Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestConfine$")
	cmd.Env = append(os.Environ(), "GOFER_TEST_CONFINE_ROOT="+root)
	cmd.ExtraFiles = []*os.File{sf}
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sf.Close()
	c, err := protocol.NewClient(cf)
	cf.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := c.Attach()
	if err != nil {
		t.Fatalf("Attach to confined server: %v", err)
	}
	var st unix.Stat_t
	if err := unix.Stat(root, &st); err != nil {
		t.Fatal(err)
	}
	if r.Attr.Ino != st.Ino || r.Attr.Dev != st.Dev {
		t.Errorf("confined root is ino %d dev %#x, want the temp dir's ino %d dev %#x", r.Attr.Ino, r.Attr.Dev, st.Ino, st.Dev)
	}
	nodes, err := c.Walk(r.ID, []string{"dir", "file"})
	if err != nil {
		t.Fatalf("Walk in confined server: %v", err)
	}
	fd, _, err := c.Open(nodes[1].ID, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("Open in confined server: %v", err)
	}
	buf := make([]byte, 32)
	n, _ := unix.Pread(fd, buf, 0)
	if string(buf[:n]) != "hello, gofer" {
		t.Errorf("confined read = %q", buf[:n])
	}
	unix.Close(fd)
	// What was mounted inside the root is not served: the mount point is
	// the empty directory of the root's own file system.
	if _, err := c.Walk(r.ID, []string{"mnt", "secret"}); err != unix.ENOENT {
		t.Errorf("Walk to a file on a mount below the root: got %v, want ENOENT", err)
	}
	closeNodes(t, c, append(nodes, r))
	c.Close()
	if err := cmd.Wait(); err != nil {
		t.Errorf("confined server exited with %v", err)
	}
}

func TestWalkSiblings(t *testing.T) {
	root := makeTree(t)
	c, r := startServer(t, root, true)
	dirs, err := c.Walk(r.ID, []string{"dir"})
	if err != nil {
		t.Fatal(err)
	}
	defer closeNodes(t, c, dirs)
	dir := dirs[0]
	names := []string{"file", "nope", "sub", "link", "up", "..", ".", "", "sub/deep", "/etc", "a\x00b", "file"}
	want := []unix.Errno{0, unix.ENOENT, 0, 0, 0, unix.EINVAL, unix.EINVAL, unix.ENOENT, unix.EINVAL, unix.EINVAL, unix.EINVAL, 0}
	got, err := c.WalkSiblings(dir.ID, names)
	if err != nil || len(got) != len(names) {
		t.Fatalf("WalkSiblings = %d results, %v; want %d, nil", len(got), err, len(names))
	}
	var found []protocol.Node
	for i, s := range got {
		var errno unix.Errno
		if s.Err != nil {
			errno = s.Err.(unix.Errno)
		} else {
			found = append(found, s.Node)
		}
		if errno != want[i] {
			t.Errorf("WalkSiblings name %q: err = %v, want %v", names[i], s.Err, want[i])
		}
	}
	defer closeNodes(t, c, found)
	// Each node is the file a one-name Walk finds, with the same attributes
	// as lstat on the host: symlinks are nodes of their own, not followed.
	for i, name := range names {
		if got[i].Err != nil {
			continue
		}
		var host unix.Stat_t
		if err := unix.Lstat(filepath.Join(root, "dir", name), &host); err != nil {
			t.Fatal(err)
		}
		a := got[i].Node.Attr
		if a.Ino != host.Ino || a.Mode != host.Mode {
			t.Errorf("WalkSiblings(%s) = ino %d mode %#o; host lstat has ino %d mode %#o", name, a.Ino, a.Mode, host.Ino, host.Mode)
		}
		var st unix.Stat_t
		if err := unix.Fstat(got[i].Node.FD, &st); err != nil || st.Ino != host.Ino {
			t.Errorf("donated descriptor of %s: ino %d, %v; want %d", name, st.Ino, err, host.Ino)
		}
	}
	if !got[3].Node.Attr.IsSymlink() || !got[4].Node.Attr.IsSymlink() {
		t.Errorf("link and up came back as modes %#o and %#o, want symlinks", got[3].Node.Attr.Mode, got[4].Node.Attr.Mode)
	}
	// A symlink node is no directory to walk from.
	if _, err := c.WalkSiblings(got[4].Node.ID, []string{"etc"}); err != unix.ENOTDIR {
		t.Errorf("WalkSiblings from the symlink up: err = %v, want ENOTDIR", err)
	}
	if _, err := c.WalkSiblings(got[0].Node.ID, []string{"x"}); err != unix.ENOTDIR {
		t.Errorf("WalkSiblings from a file: err = %v, want ENOTDIR", err)
	}
	if _, err := c.WalkSiblings(1<<40, []string{"x"}); err != unix.EBADF {
		t.Errorf("WalkSiblings from an unknown node: err = %v, want EBADF", err)
	}
	// The nodes work like walked ones.
	fd, _, err := c.Open(got[0].Node.ID, unix.O_RDONLY)
	if err != nil {
		t.Fatalf("Open(sibling file): %v", err)
	}
	buf := make([]byte, 32)
	n, _ := unix.Read(fd, buf)
	unix.Close(fd)
	if string(buf[:n]) != "hello, gofer" {
		t.Errorf("read of sibling file = %q", buf[:n])
	}
}

func TestWalkSiblingsFullBatchNoLeak(t *testing.T) {
	root := t.TempDir()
	var names []string
	for i := 0; i < protocol.MaxSiblingNames+10; i++ {
		name := strings.Repeat("f", 1+i%200) + string(rune('a'+i%26))
		if i%3 == 0 {
			name += "-gone" // never created
		} else if err := os.WriteFile(filepath.Join(root, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	before := countFDs(t)
	t.Run("session", func(t *testing.T) {
		c, r := startServer(t, root, true)
		for round := 0; round < 3; round++ {
			got, err := c.WalkSiblings(r.ID, names)
			if err != nil || len(got) != len(names) {
				t.Fatalf("WalkSiblings = %d, %v", len(got), err)
			}
			var nodes []protocol.Node
			for i, s := range got {
				gone := strings.HasSuffix(names[i], "-gone")
				if gone != (s.Err == unix.ENOENT) || (!gone && s.Err != nil) {
					t.Errorf("name %d: err = %v", i, s.Err)
				}
				if s.Err == nil {
					nodes = append(nodes, s.Node)
				}
			}
			closeNodes(t, c, nodes)
		}
	})
	if after := countFDs(t); after > before {
		t.Errorf("%d descriptors open after the session, %d before", after, before)
	}
}
