// Package control is the protocol between runsc, the short-lived CLI, and
// a running sandbox (runsc boot): one protobuf Request and one Response per
// connection on a unix socket the sandbox listens on, each preceded by its
// length. The sandbox checks the peer's credentials on every connection
// (Server); descriptors (an exec'd process's stdio) travel with the request.
package control

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

// MaxMessage is the largest message either side accepts: requests are a
// command line and environment, responses a process list.
const MaxMessage = 4 << 20

// maxFDs is the most descriptors a request may carry (stdin, stdout,
// stderr).
const maxFDs = 3

// SocketName is the control socket's name in a container's state
// directory.
const SocketName = "control.sock"

// write sends msg on c with fds attached to its first byte.
func write(c *net.UnixConn, msg proto.Message, fds []int) error {
	b, err := proto.Marshal(msg)
	if err != nil {
		return err
	}
	if len(b) > MaxMessage {
		return fmt.Errorf("control message of %d bytes is too large", len(b))
	}
	buf := binary.LittleEndian.AppendUint32(nil, uint32(len(b)))
	buf = append(buf, b...)
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	n, _, err := c.WriteMsgUnix(buf, oob, nil)
	if err != nil {
		return err
	}
	if n < len(buf) {
		_, err = c.Write(buf[n:])
	}
	return err
}

// read receives one message from c into msg and returns the descriptors
// that came with it, which the caller owns.
func read(c *net.UnixConn, msg proto.Message) (fds []int, err error) {
	var hdr [4]byte
	oob := make([]byte, unix.CmsgSpace(maxFDs*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(hdr[:], oob)
	if err != nil {
		return nil, err
	}
	if oobn > 0 {
		msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
		if perr == nil {
			for _, m := range msgs {
				rights, rerr := unix.ParseUnixRights(&m)
				if rerr == nil {
					fds = append(fds, rights...)
				}
			}
		}
	}
	defer func() {
		if err != nil {
			closeAll(fds)
			fds = nil
		}
	}()
	if flags&unix.MSG_CTRUNC != 0 {
		return nil, errors.New("control message carried too many descriptors")
	}
	if n == 0 {
		return nil, io.EOF
	}
	if n < len(hdr) {
		if _, err := io.ReadFull(c, hdr[n:]); err != nil {
			return nil, err
		}
	}
	size := binary.LittleEndian.Uint32(hdr[:])
	if size > MaxMessage {
		return nil, fmt.Errorf("control message of %d bytes is too large", size)
	}
	body := make([]byte, size)
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	return fds, proto.Unmarshal(body, msg)
}

func closeAll(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// dialPath returns a path for the socket name in dir that fits in a
// sockaddr_un: dir/name when short enough, else a path through an open
// descriptor of dir (/proc/self/fd/N/name), which the caller closes with
// the returned function.
func dialPath(dir, name string) (string, func(), error) {
	p := filepath.Join(dir, name)
	if len(p) < 108 {
		return p, func() {}, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", nil, &os.PathError{Op: "open", Path: dir, Err: err}
	}
	return "/proc/self/fd/" + strconv.Itoa(fd) + "/" + name, func() { unix.Close(fd) }, nil
}

// Listen creates the control socket in dir, readable and writable by its
// owner only, and returns its listening descriptor, for the sandbox to
// inherit.
func Listen(dir string) (*os.File, error) {
	p, done, err := dialPath(dir, SocketName)
	if err != nil {
		return nil, err
	}
	defer done()
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	unix.Unlink(p)
	old := unix.Umask(0077)
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: p})
	unix.Umask(old)
	if err == nil {
		err = unix.Listen(fd, 64)
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("control socket %s: %w", filepath.Join(dir, SocketName), err)
	}
	return os.NewFile(uintptr(fd), "control"), nil
}

// Call sends req to the sandbox whose state directory is dir, with fds
// attached, and returns its response. A response carrying an error is
// returned as that error. timeout bounds the whole exchange (0: none, for
// Wait).
func Call(dir string, req *Request, fds []int, timeout time.Duration) (*Response, error) {
	p, done, err := dialPath(dir, SocketName)
	if err != nil {
		return nil, err
	}
	defer done()
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: p, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("connecting to the sandbox: %w", err)
	}
	defer conn.Close()
	if timeout > 0 {
		conn.SetDeadline(time.Now().Add(timeout))
	}
	werr := write(conn, req, fds)
	// A server that refuses the connection answers without reading:
	// its answer says why, even if the request could not be sent.
	resp := &Response{}
	rfds, err := read(conn, resp)
	if werr != nil && (err != nil || resp.Error == "") {
		closeAll(rfds)
		return nil, fmt.Errorf("sending to the sandbox: %w", werr)
	}
	closeAll(rfds)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the sandbox closed the control connection without answering")
		}
		return nil, fmt.Errorf("reading the sandbox's answer: %w", err)
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	return resp, nil
}
