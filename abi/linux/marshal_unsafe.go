package linux

import "unsafe"

// AsBytes returns the memory of *v as a byte slice that aliases it: writes
// to the slice change *v. It is meant for marshalling fixed-size ABI
// structures (unix.Stat_t, SignalInfo, UContext, ...) to and from guest
// memory, in the host's (little-endian) byte order.
//
// T must be a fixed-size type that contains no pointers, slices, strings,
// maps, channels, funcs or interfaces.
func AsBytes[T any](v *T) []byte {
	// SAFETY: v is a valid, non-nil *T, so the unsafe.Sizeof(*v) bytes at v
	// belong to one live Go object; the returned slice keeps that object
	// alive because it points into it. Viewing those bytes as []byte is
	// sound for the types this is meant for: with no pointers inside T, no
	// write through the slice can forge a pointer the garbage collector
	// would trust, and every byte pattern is a valid value of T's integer
	// and array fields. Padding bytes are exposed as they are; callers
	// zero the struct first if they copy it out to a guest.
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}

// FromBytes copies min(len(b), sizeof(T)) bytes of b into *v, leaving any
// remaining bytes of *v unchanged. T has the same restrictions as for
// AsBytes.
func FromBytes[T any](b []byte, v *T) {
	copy(AsBytes(v), b)
}
