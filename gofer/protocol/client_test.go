package protocol

import (
	"errors"
	"os"
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
