package protocol

import (
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// fakeServer answers requests on conn with respond until the peer closes.
func fakeServer(t *testing.T, f *os.File, respond func(h Header, req Message) (Header, Message, []int)) {
	t.Helper()
	conn, err := NewConn(f)
	if err != nil {
		t.Fatalf("NewConn: %v", err)
	}
	f.Close()
	go func() {
		defer conn.Close()
		buf := make([]byte, MaxMessageSize)
		for {
			n, fds, err := conn.Recv(buf)
			CloseFDs(fds)
			if err != nil {
				return
			}
			h, payload, err := ParseHeader(buf[:n])
			if err != nil {
				continue
			}
			req, err := DecodeRequest(h, payload)
			if err != nil {
				continue
			}
			rh, resp, rfds := respond(h, req)
			conn.Send(Marshal(nil, rh, resp), rfds)
			CloseFDs(rfds)
		}
	}()
}

func newTestClient(t *testing.T, respond func(h Header, req Message) (Header, Message, []int)) *Client {
	t.Helper()
	cf, sf, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	fakeServer(t, sf, respond)
	c, err := NewClient(cf)
	cf.Close()
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func devNull(t *testing.T) int {
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return fd
}

func TestClientConcurrentCalls(t *testing.T) {
	c := newTestClient(t, func(h Header, req Message) (Header, Message, []int) {
		r := req.(*StatReq)
		return h, NewAttrResp(MsgStat, Attr{Ino: uint64(r.Node)}), nil
	})
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				id := NodeID(g*1000 + i)
				a, err := c.Stat(id)
				if err != nil || a.Ino != uint64(id) {
					t.Errorf("Stat(%d) = ino %d, %v; want ino %d", id, a.Ino, err, id)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestClientDescriptorCountChecked(t *testing.T) {
	c := newTestClient(t, func(h Header, req Message) (Header, Message, []int) {
		// Open must carry one descriptor; send two.
		return h, NewAttrResp(MsgOpen, Attr{}), []int{devNull(t), devNull(t)}
	})
	if _, _, err := c.Open(1, unix.O_RDONLY); !errors.Is(err, ErrMalformed) {
		t.Errorf("Open answered with 2 descriptors: err = %v, want ErrMalformed", err)
	}
}

func TestClientErrnoAndFD(t *testing.T) {
	c := newTestClient(t, func(h Header, req Message) (Header, Message, []int) {
		switch r := req.(type) {
		case *OpenReq:
			if r.Node == 1 {
				h.Errno = unix.ELOOP
				return h, nil, nil
			}
			return h, NewAttrResp(MsgOpen, Attr{Size: 42}), []int{devNull(t)}
		case *WalkReq:
			h.Errno = unix.ENOENT
			return h, &WalkResp{Entries: []WalkEntry{{Node: 5}}}, []int{devNull(t)}
		}
		h.Errno = unix.ENOSYS
		return h, nil, nil
	})
	if _, _, err := c.Open(1, unix.O_RDONLY); err != unix.ELOOP {
		t.Errorf("Open(1) err = %v, want ELOOP", err)
	}
	fd, a, err := c.Open(2, unix.O_RDONLY)
	if err != nil || a.Size != 42 {
		t.Fatalf("Open(2) = %d, %+v, %v; want a descriptor and size 42", fd, a, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR {
		t.Errorf("donated descriptor fstat = %+v, %v; want /dev/null", st, err)
	}
	unix.Close(fd)
	nodes, err := c.Walk(1, []string{"a", "b"})
	if err != unix.ENOENT || len(nodes) != 1 || nodes[0].ID != 5 {
		t.Errorf("Walk = %+v, %v; want one node 5 and ENOENT", nodes, err)
	}
	for _, n := range nodes {
		unix.Close(n.FD)
	}
	if _, err := c.Walk(1, []string{string(make([]byte, MaxNameLen+1))}); err != unix.ENAMETOOLONG {
		t.Errorf("Walk of a 256-byte name: err = %v, want ENAMETOOLONG", err)
	}
}

func TestClientWalkSiblings(t *testing.T) {
	var mu sync.Mutex
	var batches [][]string
	c := newTestClient(t, func(h Header, req Message) (Header, Message, []int) {
		r, ok := req.(*WalkSiblingsReq)
		if !ok {
			if cr, ok := req.(*CloseReq); ok && cr.Nodes[0] == 999 {
				return h, nil, nil
			}
			h.Errno = unix.ENOSYS
			return h, nil, nil
		}
		mu.Lock()
		batches = append(batches, r.Names)
		mu.Unlock()
		if r.Node == 2 {
			h.Errno = unix.ENOTDIR
			return h, nil, nil
		}
		if r.Node == 3 {
			// One entry short: malformed, and its node must be closed.
			return h, &WalkSiblingsResp{Entries: []SiblingEntry{{Node: 999}}}, []int{devNull(t)}
		}
		resp := &WalkSiblingsResp{}
		var fds []int
		for i, n := range r.Names {
			if n == "missing" {
				resp.Entries = append(resp.Entries, SiblingEntry{Errno: unix.ENOENT})
				continue
			}
			resp.Entries = append(resp.Entries, SiblingEntry{Node: NodeID(100 + i), Attr: Attr{Size: int64(len(n))}})
			fds = append(fds, devNull(t))
		}
		return h, resp, fds
	})
	names := make([]string, MaxSiblingNames+3)
	for i := range names {
		names[i] = strings.Repeat("x", 1+i%5)
	}
	names[1] = "missing"
	names[4] = strings.Repeat("l", MaxNameLen+1)
	got, err := c.WalkSiblings(1, names)
	if err != nil || len(got) != len(names) {
		t.Fatalf("WalkSiblings(%d names) = %d results, %v", len(names), len(got), err)
	}
	for i, s := range got {
		var want error
		switch i {
		case 1:
			want = unix.ENOENT
		case 4:
			want = unix.ENAMETOOLONG
		}
		if s.Err != want {
			t.Errorf("name %d: err = %v, want %v", i, s.Err, want)
			continue
		}
		if want == nil {
			if s.Node.Attr.Size != int64(len(names[i])) {
				t.Errorf("name %d: node %+v is not its own", i, s.Node)
			}
			unix.Close(s.Node.FD)
		}
	}
	// 130 sendable names: two requests, the first full; the long name was
	// never sent.
	mu.Lock()
	if len(batches) != 2 || len(batches[0]) != MaxSiblingNames || len(batches[1]) != 2 {
		t.Errorf("requests of %d batches (first %d names); want 2 with %d then 2", len(batches), len(batches[0]), MaxSiblingNames)
	}
	if n := c.Requests(MsgWalkSiblings); n != 2 {
		t.Errorf("Requests(WalkSiblings) = %d, want 2", n)
	}
	mu.Unlock()
	if got, err := c.WalkSiblings(2, []string{"a"}); err != unix.ENOTDIR || got != nil {
		t.Errorf("WalkSiblings on a non-directory = %v, %v; want nil, ENOTDIR", got, err)
	}
	if got, err := c.WalkSiblings(3, []string{"a", "b"}); !errors.Is(err, ErrMalformed) || got != nil {
		t.Errorf("WalkSiblings answered short = %v, %v; want nil, ErrMalformed", got, err)
	}
	if n := c.Requests(MsgClose); n != 1 {
		t.Errorf("nodes of a malformed response: %d Close requests, want 1", n)
	}
}

func TestMaxDescriptorsPassed(t *testing.T) {
	a, b, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewConn(a)
	a.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer ca.Close()
	cb, err := NewConn(b)
	b.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer cb.Close()
	fds := make([]int, MaxFDsPerMessage)
	for i := range fds {
		fds[i] = devNull(t)
	}
	defer CloseFDs(fds)
	if err := ca.Send([]byte("x"), fds); err != nil {
		t.Fatalf("Send with %d descriptors: %v", len(fds), err)
	}
	got, recvd, err := cb.Recv(make([]byte, MaxMessageSize))
	CloseFDs(recvd)
	if err != nil || got != 1 || len(recvd) != MaxFDsPerMessage {
		t.Errorf("Recv = %d bytes, %d descriptors, %v; want 1 byte and %d", got, len(recvd), err, MaxFDsPerMessage)
	}
	if err := ca.Send([]byte("x"), append(fds, fds[0])); err == nil {
		t.Errorf("Send with %d descriptors succeeded, want an error", len(fds)+1)
	}
}

func TestClientFailsWhenServerGone(t *testing.T) {
	cf, sf, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cf)
	cf.Close()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := make(chan error)
	go func() {
		_, err := c.Stat(1)
		done <- err
	}()
	sf.Close()
	if err := <-done; !errors.Is(err, ErrClientClosed) {
		t.Errorf("Stat after server exit: err = %v, want ErrClientClosed", err)
	}
	if _, err := c.Stat(1); !errors.Is(err, ErrClientClosed) {
		t.Errorf("second Stat: err = %v, want ErrClientClosed", err)
	}
}

func TestNewConnRejectsStream(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer a.Close()
	defer b.Close()
	if _, err := NewConn(a); err == nil {
		t.Error("NewConn accepted a SOCK_STREAM socket")
	}
}

func TestClientDoneWhenServerGoes(t *testing.T) {
	cf, sf, err := Socketpair()
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(cf)
	cf.Close()
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	defer c.Close()
	select {
	case <-c.Done():
		t.Fatal("Done is closed while the server is up")
	default:
	}
	if err := c.Err(); err != nil {
		t.Errorf("Err while the server is up = %v, want nil", err)
	}
	// The server's end closes, as when the gofer dies.
	sf.Close()
	<-c.Done()
	if err := c.Err(); !errors.Is(err, ErrClientClosed) {
		t.Errorf("Err after the server went = %v, want an error wrapping ErrClientClosed", err)
	}
	if _, err := c.Stat(1); !errors.Is(err, ErrClientClosed) {
		t.Errorf("Stat after the server went: %v, want ErrClientClosed", err)
	}
}
