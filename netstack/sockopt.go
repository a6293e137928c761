package netstack

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Helpers for the socket options of the transport endpoints, with
// Linux's decoding rules.

// SockoptInt decodes an int option value as Linux's SOL_SOCKET options
// do: EINVAL if shorter than an int.
func SockoptInt(val []byte) (int32, error) {
	if len(val) < 4 {
		return 0, unix.EINVAL
	}
	return int32(binary.LittleEndian.Uint32(val)), nil
}

// SockoptIPInt decodes an int option value as Linux's SOL_IP options do:
// an int, or a single byte when shorter.
func SockoptIPInt(val []byte) (int32, error) {
	switch {
	case len(val) >= 4:
		return int32(binary.LittleEndian.Uint32(val)), nil
	case len(val) >= 1:
		return int32(val[0]), nil
	}
	return 0, unix.EINVAL
}

// PutSockoptInt writes v into buf as getsockopt does (cut to buf's
// length) and returns the length written.
func PutSockoptInt(buf []byte, v int32) int {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return copy(buf, b[:])
}

// BoolInt is 1 for true and 0 for false, a boolean option's value.
func BoolInt(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// SockBufSize applies Linux's SO_RCVBUF/SO_SNDBUF rule: twice the
// request, capped at maxSize, at least minSize.
func SockBufSize(v int32, minSize, maxSize int) int {
	n := uint64(uint32(v))
	return max(int(min(n, uint64(maxSize/2)))*2, minSize)
}
