package mm

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UpdateUint32 atomically transforms the aligned 32-bit word at addr:
// it calls fn with the word's current value and, if fn returns ok, stores
// the value fn returns unless the word changed meanwhile, in which case it
// calls fn again with the new value. It returns the value fn last saw.
//
// Guest threads update futex words with their own atomic instructions
// while the Sentry looks at them, so CopyIn followed by CopyOut would lose
// their updates (FUTEX_WAKE_OP, the PI futex operations). The word must
// be writable, as for a store.
func (mm *MemoryManager) UpdateUint32(addr uint64, fn func(old uint32) (new uint32, ok bool)) (uint32, error) {
	if addr&3 != 0 {
		return 0, unix.EINVAL
	}
	var seen uint32
	_, err := mm.access(addr, 4, true, func(b []byte, _ int) {
		if len(b) != 4 {
			return
		}
		// SAFETY: b is a view of the memory file mapping, which stays
		// mapped while mm.mu is held (access holds it while fn runs);
		// addr is 4-aligned and mappings are page-aligned, so &b[0] is a
		// 4-aligned address of 4 bytes within one page.
		p := (*uint32)(unsafe.Pointer(&b[0]))
		for {
			old := atomic.LoadUint32(p)
			seen = old
			nv, ok := fn(old)
			if !ok || atomic.CompareAndSwapUint32(p, old, nv) {
				return
			}
		}
	})
	return seen, err
}
