package linux

import (
	"encoding/binary"
	"time"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/unixsocket"
	"golang.org/x/sys/unix"
)

// timevalSize is sizeof(struct timeval).
const timevalSize = 16

// boolSockopts maps boolean SOL_SOCKET options to the socket's flags.
var boolSockopts = map[int32]unixsocket.BoolOption{
	unix.SO_PASSCRED:  unixsocket.PassCred,
	unix.SO_REUSEADDR: unixsocket.ReuseAddr,
	unix.SO_KEEPALIVE: unixsocket.KeepAlive,
}

// intBytes encodes an int option value.
func intBytes(v int) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(int32(v)))
}

// boolInt returns 1 for true.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// timevalBytes encodes a timeout as struct timeval.
func timevalBytes(d time.Duration) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(d/time.Second))
	return binary.LittleEndian.AppendUint64(b, uint64(d%time.Second/time.Microsecond))
}

// getSockoptValue returns the value of a SOL_SOCKET option, or
// ENOPROTOOPT.
func getSockoptValue(s *unixsocket.Socket, name int32) ([]byte, error) {
	if o, ok := boolSockopts[name]; ok {
		return intBytes(boolInt(s.Bool(o))), nil
	}
	switch name {
	case unix.SO_TYPE:
		return intBytes(s.Type()), nil
	case unix.SO_DOMAIN:
		return intBytes(unix.AF_UNIX), nil
	case unix.SO_PROTOCOL:
		return intBytes(s.Protocol()), nil
	case unix.SO_ERROR:
		return intBytes(int(s.TakeError())), nil
	case unix.SO_ACCEPTCONN:
		return intBytes(boolInt(s.Listening())), nil
	case unix.SO_SNDBUF:
		snd, _ := s.BufSizes()
		return intBytes(snd), nil
	case unix.SO_RCVBUF:
		_, rcv := s.BufSizes()
		return intBytes(rcv), nil
	case unix.SO_RCVTIMEO, unix.SO_SNDTIMEO:
		rcv, snd := s.Timeouts()
		if name == unix.SO_RCVTIMEO {
			return timevalBytes(rcv), nil
		}
		return timevalBytes(snd), nil
	case unix.SO_PEERCRED:
		c := s.PeerCred()
		b := binary.LittleEndian.AppendUint32(nil, uint32(c.PID))
		b = binary.LittleEndian.AppendUint32(b, c.UID)
		return binary.LittleEndian.AppendUint32(b, c.GID), nil
	}
	return nil, unix.ENOPROTOOPT
}

// Getsockopt implements getsockopt(2).
func Getsockopt(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, level, name, optval, optlen := fdArg(args[0]), int32(args[1]), int32(args[2]), args[3], args[4]
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, nlGetsockopt(t, ns, level, name, optval, optlen)
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return 0, inetGetsockopt(t, is, level, name, optval, optlen)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if level != unix.SOL_SOCKET {
		return 0, unix.EOPNOTSUPP
	}
	var lb [4]byte
	if err := copyIn(t, optlen, lb[:]); err != nil {
		return 0, err
	}
	n := int32(binary.LittleEndian.Uint32(lb[:]))
	if n < 0 {
		return 0, unix.EINVAL
	}
	v, err := getSockoptValue(s, name)
	if err != nil {
		return 0, err
	}
	v = v[:min(int(n), len(v))]
	if len(v) > 0 {
		if err := copyOut(t, optval, v); err != nil {
			return 0, err
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(v)))
	return 0, copyOut(t, optlen, lb[:])
}

// Setsockopt implements setsockopt(2).
func Setsockopt(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fd, level, name, optval, optlen := fdArg(args[0]), int32(args[1]), int32(args[2]), args[3], int32(args[4])
	if f, ns := netlinkFile(t, fd); ns != nil {
		defer f.DecRef(t.Context())
		return 0, nlSetsockopt(t, ns, level, name, optval, optlen)
	}
	if f, is := inetFile(t, fd); is != nil {
		defer f.DecRef(t.Context())
		return 0, inetSetsockopt(t, is, level, name, optval, optlen)
	}
	f, s, err := getSocket(t, fd)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if level != unix.SOL_SOCKET {
		return 0, unix.EOPNOTSUPP
	}
	if optlen < 4 {
		return 0, unix.EINVAL
	}
	if name == unix.SO_RCVTIMEO || name == unix.SO_SNDTIMEO {
		if optlen < timevalSize {
			return 0, unix.EINVAL
		}
		var b [timevalSize]byte
		if err := copyIn(t, optval, b[:]); err != nil {
			return 0, err
		}
		sec, usec := int64(binary.LittleEndian.Uint64(b[0:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if usec < 0 || usec >= 1e6 {
			return 0, unix.EDOM
		}
		var d time.Duration
		switch {
		case sec < 0:
			d = -1
		case sec >= int64(time.Duration(1<<62)/time.Second):
			d = 0
		default:
			d = time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
		}
		s.SetTimeout(name == unix.SO_RCVTIMEO, d)
		return 0, nil
	}
	var b [4]byte
	if err := copyIn(t, optval, b[:]); err != nil {
		return 0, err
	}
	val := binary.LittleEndian.Uint32(b[:])
	if o, ok := boolSockopts[name]; ok {
		s.SetBool(o, val != 0)
		return 0, nil
	}
	switch name {
	case unix.SO_SNDBUFFORCE, unix.SO_RCVBUFFORCE:
		if !t.Credentials().HasCap(unix.CAP_NET_ADMIN) {
			return 0, unix.EPERM
		}
		if name == unix.SO_SNDBUFFORCE {
			s.SetSndBuf(val)
		} else {
			s.SetRcvBuf(val)
		}
	case unix.SO_SNDBUF:
		s.SetSndBuf(val)
	case unix.SO_RCVBUF:
		s.SetRcvBuf(val)
	default:
		return 0, unix.ENOPROTOOPT
	}
	return 0, nil
}
