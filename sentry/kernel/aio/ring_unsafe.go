package aio

import (
	"sync/atomic"
	"unsafe"
)

// load32 and store32 access the 4-aligned word at off of the ring's
// pages, which the guest reads and writes concurrently through its own
// mapping of the same memory.
func load32(b []byte, off int) uint32 {
	_ = b[off+3]
	// SAFETY: b is the Sentry's mapping of the ring's memory-file pages,
	// page-aligned and live while the ring holds them; off is a multiple
	// of 4 within b (checked by the bounds check above).
	return atomic.LoadUint32((*uint32)(unsafe.Pointer(&b[off])))
}

func store32(b []byte, off int, v uint32) {
	_ = b[off+3]
	// SAFETY: as in load32.
	atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[off])), v)
}
