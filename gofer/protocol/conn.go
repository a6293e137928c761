package protocol

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// Conn is one end of a SOCK_SEQPACKET connection carrying protocol
// messages and SCM_RIGHTS descriptors. Send and Recv may be called
// concurrently with each other; concurrent Sends are safe (each message is
// one datagram), concurrent Recvs are safe but unordered.
type Conn struct {
	uc *net.UnixConn
}

// NewConn wraps a connected SOCK_SEQPACKET unix socket. It duplicates f
// (the caller keeps ownership of f and may close it).
func NewConn(f *os.File) (*Conn, error) {
	typ, err := unix.GetsockoptInt(int(f.Fd()), unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return nil, os.NewSyscallError("getsockopt", err)
	}
	if typ != unix.SOCK_SEQPACKET {
		return nil, fmt.Errorf("gofer protocol: socket type %d is not SOCK_SEQPACKET", typ)
	}
	c, err := net.FileConn(f)
	if err != nil {
		return nil, err
	}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("gofer protocol: %T is not a unix socket", c)
	}
	return &Conn{uc: uc}, nil
}

// Socketpair returns a connected pair of SOCK_SEQPACKET sockets as files,
// both close-on-exec.
func Socketpair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return os.NewFile(uintptr(fds[0]), "gofer-client"), os.NewFile(uintptr(fds[1]), "gofer-server"), nil
}

// Close closes the connection; a blocked Recv returns an error.
func (c *Conn) Close() error { return c.uc.Close() }

// Send sends one message with descriptors fds, which stay owned by the
// caller.
func (c *Conn) Send(b []byte, fds []int) error {
	if len(b) > MaxMessageSize {
		return fmt.Errorf("gofer protocol: %d-byte message exceeds %d", len(b), MaxMessageSize)
	}
	if len(fds) > MaxFDsPerMessage {
		return fmt.Errorf("gofer protocol: %d descriptors exceed %d", len(fds), MaxFDsPerMessage)
	}
	var oob []byte
	if len(fds) > 0 {
		oob = unix.UnixRights(fds...)
	}
	n, oobn, err := c.uc.WriteMsgUnix(b, oob, nil)
	if err != nil {
		return err
	}
	if n != len(b) || oobn != len(oob) {
		return fmt.Errorf("gofer protocol: short send (%d/%d bytes, %d/%d control)", n, len(b), oobn, len(oob))
	}
	return nil
}

// ErrTruncated is wrapped by Recv's error for a message that did not fit
// its buffers; the connection is still usable.
var ErrTruncated = errors.New("gofer protocol: message truncated")

// oobSize fits the control message of MaxFDsPerMessage descriptors.
var oobSize = unix.CmsgSpace(MaxFDsPerMessage * 4)

// Recv receives one message into buf (which should hold MaxMessageSize
// bytes) and returns its length and the descriptors it carried, which the
// caller owns (they are close-on-exec). When the peer has closed the
// connection, or it was closed locally, the error satisfies IsEOF. A message
// or control data that did not fit yields an error wrapping ErrTruncated:
// its descriptors are closed, but n still covers the bytes received so the
// header can be read, and the connection stays usable.
func (c *Conn) Recv(buf []byte) (int, []int, error) {
	oob := make([]byte, oobSize)
	n, oobn, flags, _, err := c.uc.ReadMsgUnix(buf, oob)
	var fds []int
	if oobn > 0 {
		fds = parseRights(oob[:oobn])
	}
	if err != nil {
		CloseFDs(fds)
		return n, nil, err
	}
	if n == 0 && oobn == 0 {
		return 0, nil, errEOF
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		CloseFDs(fds)
		return n, nil, fmt.Errorf("%w (flags %#x)", ErrTruncated, flags)
	}
	return n, fds, nil
}

// errEOF reports an orderly shutdown by the peer.
var errEOF = errors.New("gofer protocol: connection closed by peer")

// IsEOF reports whether err from Recv means the peer closed the connection
// or the connection was closed locally.
func IsEOF(err error) bool {
	return errors.Is(err, errEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// parseRights extracts every SCM_RIGHTS descriptor from oob, ignoring other
// control messages and any it cannot parse.
func parseRights(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for i := range msgs {
		if msgs[i].Header.Level != unix.SOL_SOCKET || msgs[i].Header.Type != unix.SCM_RIGHTS {
			continue
		}
		r, err := unix.ParseUnixRights(&msgs[i])
		if err == nil {
			fds = append(fds, r...)
		}
	}
	return fds
}

// CloseFDs closes every descriptor in fds, ignoring errors.
func CloseFDs(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
