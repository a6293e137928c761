package udp

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Buffer sizes, as Linux's defaults on x86-64 (net.core.rmem_default,
// rmem_max, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF).
const (
	DefaultBufSize = 212992
	MaxBufSize     = 2 * 212992
	MinRcvBuf      = 2304
	MinSndBuf      = 4608
	// datagramOverhead is what each queued datagram costs on top of its
	// bytes (Linux charges the skb's truesize).
	datagramOverhead = 256
)

// sockInt decodes an int option value as Linux's SOL_SOCKET options:
// EINVAL if shorter than an int.
func sockInt(val []byte) (int32, error) {
	if len(val) < 4 {
		return 0, unix.EINVAL
	}
	return int32(binary.LittleEndian.Uint32(val)), nil
}

// ipInt decodes an int option value as Linux's SOL_IP options: an int, or
// a single byte when shorter.
func ipInt(val []byte) (int32, error) {
	switch {
	case len(val) >= 4:
		return int32(binary.LittleEndian.Uint32(val)), nil
	case len(val) >= 1:
		return int32(val[0]), nil
	}
	return 0, unix.EINVAL
}

// putInt writes v into buf as getsockopt does (cut to buf's length).
func putInt(buf []byte, v int32) int {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return copy(buf, b[:])
}

func boolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// bufSize applies Linux's SO_RCVBUF/SO_SNDBUF rule: twice the request,
// capped at MaxBufSize, at least min.
func bufSize(v int32, minSize int) int {
	n := uint64(uint32(v))
	return max(int(min(n, MaxBufSize/2))*2, minSize)
}
