package control

import (
	"encoding/binary"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// serve starts a server in dir whose handler echoes what it got.
func serve(t *testing.T, dir string, refuse uint32, h Handler) *Server {
	t.Helper()
	l, err := Listen(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(l, refuse, h)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(s.Close)
	return s
}

func TestCallRoundTripWithDescriptors(t *testing.T) {
	dir := t.TempDir()
	serve(t, dir, ^uint32(0), func(req *Request, fds []int) *Response {
		defer func() {
			for _, fd := range fds {
				unix.Close(fd)
			}
		}()
		e := req.GetExec()
		if e == nil {
			return &Response{Error: "want exec"}
		}
		// Write the argv to the descriptor that came along.
		if len(fds) != 1 {
			return &Response{Error: "want one descriptor"}
		}
		unix.Write(fds[0], []byte(strings.Join(e.Argv, " ")))
		return &Response{Result: &Response_Exec{Exec: &ExecResponse{Pid: 42}}}
	})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	resp, err := Call(dir, &Request{Op: &Request_Exec{Exec: &ExecRequest{Argv: []string{"echo", "hi"}}}}, []int{int(w.Fd())}, 10*time.Second)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetExec().Pid != 42 {
		t.Errorf("pid = %d, want 42", resp.GetExec().Pid)
	}
	buf := make([]byte, 64)
	n, _ := r.Read(buf)
	if string(buf[:n]) != "echo hi" {
		t.Errorf("descriptor got %q", buf[:n])
	}
}

func TestErrorsComeBackAsErrors(t *testing.T) {
	dir := t.TempDir()
	serve(t, dir, ^uint32(0), func(*Request, []int) *Response { return &Response{Error: "no such thing"} })
	if _, err := Call(dir, &Request{Op: &Request_State{State: &StateRequest{}}}, nil, 10*time.Second); err == nil || err.Error() != "no such thing" {
		t.Errorf("err = %v, want the handler's error", err)
	}
}

func TestRefusedPeer(t *testing.T) {
	dir := t.TempDir()
	called := false
	serve(t, dir, uint32(os.Geteuid()), func(*Request, []int) *Response { called = true; return &Response{} })
	_, err := Call(dir, &Request{Op: &Request_State{State: &StateRequest{}}}, nil, 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Errorf("err = %v, want refused", err)
	}
	if called {
		t.Error("the handler ran for a refused peer")
	}
}

func TestOversizedAndGarbageRequests(t *testing.T) {
	dir := t.TempDir()
	called := make(chan struct{}, 4)
	serve(t, dir, ^uint32(0), func(*Request, []int) *Response { called <- struct{}{}; return &Response{} })
	for _, msg := range [][]byte{
		binary.LittleEndian.AppendUint32(nil, MaxMessage+1),          // too large
		append(binary.LittleEndian.AppendUint32(nil, 3), 0xff, 0xff), // truncated
		append(binary.LittleEndian.AppendUint32(nil, 2), 0xff, 0xff), // not protobuf
	} {
		c, err := net.Dial("unix", filepath.Join(dir, SocketName))
		if err != nil {
			t.Fatal(err)
		}
		c.Write(msg)
		c.(*net.UnixConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 16)
		n, _ := c.Read(buf)
		c.Close()
		if n != 0 {
			t.Errorf("request %x got an answer %x", msg, buf[:n])
		}
	}
	select {
	case <-called:
		t.Error("the handler ran for a bad request")
	default:
	}
	// The server still answers.
	if _, err := Call(dir, &Request{Op: &Request_State{State: &StateRequest{}}}, nil, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestLongStateDirectory(t *testing.T) {
	dir := t.TempDir()
	long := filepath.Join(dir, strings.Repeat("d", 100))
	if err := os.Mkdir(long, 0700); err != nil {
		t.Fatal(err)
	}
	serve(t, long, ^uint32(0), func(*Request, []int) *Response { return &Response{} })
	if _, err := Call(long, &Request{Op: &Request_State{State: &StateRequest{}}}, nil, 10*time.Second); err != nil {
		t.Fatalf("a socket path over 108 bytes: %v", err)
	}
}

func TestDrainWaitsForAnswersBeingWritten(t *testing.T) {
	dir := t.TempDir()
	handling := make(chan struct{})
	release := make(chan struct{})
	var released atomic.Bool
	s := serve(t, dir, ^uint32(0), func(*Request, []int) *Response {
		close(handling)
		<-release
		return &Response{Error: "answered"}
	})
	got := make(chan error, 1)
	go func() {
		_, err := Call(dir, &Request{Op: &Request_State{State: &StateRequest{}}}, nil, 10*time.Second)
		got <- err
	}()
	<-handling
	// The handler is released only after many yields: a Drain that does
	// not wait returns long before.
	go func() {
		for i := 0; i < 1000; i++ {
			runtime.Gosched()
		}
		released.Store(true)
		close(release)
	}()
	s.Drain(time.Minute)
	if !released.Load() {
		t.Fatal("Drain returned while a request was being served")
	}
	if err := <-got; err == nil || err.Error() != "answered" {
		t.Errorf("Call: %v, want the handler's answer", err)
	}
}
