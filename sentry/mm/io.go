package mm

import (
	"errors"
	"io"
)

// errEOF is what Mappable.ReadAt returns at the end of a file.
var errEOF = io.EOF

// ErrStringTooLong is returned by CopyInString when no NUL is found within
// the limit (callers map it to ENAMETOOLONG or E2BIG).
var ErrStringTooLong = errors.New("string too long")

// access walks [addr, addr+n) page run by page run, making each backed and
// (for writes) privately writable, and calls fn with the Sentry's view of
// it. It stops at the first inaccessible page and returns the bytes done
// and EFAULT.
func (mm *MemoryManager) access(addr uint64, n int, write bool, fn func(b []byte, done int)) (int, error) {
	if n == 0 {
		return 0, nil
	}
	end := addr + uint64(n)
	if end < addr || end > mm.pl.MaxUserAddress() {
		// Copy what is possible below the limit, then fail.
		if addr >= mm.pl.MaxUserAddress() {
			return 0, errFault
		}
		end = mm.pl.MaxUserAddress()
	}
	ok := needs(write)
	mm.mu.Lock()
	defer mm.mu.Unlock()
	done := 0
	for cur := addr; cur < end; {
		v := mm.vmaAtLocked(cur)
		if v == nil {
			if v = mm.growStackLocked(cur); v == nil {
				return done, errFault
			}
		}
		if !ok(v.perms) {
			return done, errFault
		}
		p := mm.pmaAtLocked(cur)
		if p == nil {
			if err := mm.populateLocked(v, PageRoundDown(cur), PageRoundDown(cur)+pageSize); err != nil {
				return done, errFault
			}
			p = mm.pmaAtLocked(cur)
		}
		if write && p.cow {
			if err := mm.breakCOWLocked(v, PageRoundDown(cur)); err != nil {
				return done, errFault
			}
			p = mm.pmaAtLocked(cur)
		}
		stop := min(p.end, end, v.end)
		r := p.fileRange()
		b := mm.mf.Bytes(r)[cur-p.start : stop-p.start]
		fn(b, done)
		done += len(b)
		cur = stop
	}
	if done < n {
		return done, errFault
	}
	return done, nil
}

// CopyIn copies guest memory at addr into dst. On a bad address it returns
// the bytes copied before it and EFAULT.
func (mm *MemoryManager) CopyIn(addr uint64, dst []byte) (int, error) {
	return mm.access(addr, len(dst), false, func(b []byte, done int) { copy(dst[done:], b) })
}

// CopyOut copies src to guest memory at addr. On a bad address it returns
// the bytes copied before it and EFAULT.
func (mm *MemoryManager) CopyOut(addr uint64, src []byte) (int, error) {
	return mm.access(addr, len(src), true, func(b []byte, done int) { copy(b, src[done:]) })
}

// ZeroOut zeroes n bytes of guest memory at addr.
func (mm *MemoryManager) ZeroOut(addr uint64, n int) (int, error) {
	return mm.access(addr, n, true, func(b []byte, _ int) { clear(b) })
}

// CopyInString reads a NUL-terminated string of at most max bytes
// (excluding the NUL) from addr.
func (mm *MemoryManager) CopyInString(addr uint64, max int) (string, error) {
	var out []byte
	for len(out) <= max {
		// Read up to the end of the page, so a string that ends just
		// before an unmapped page is read without faulting.
		chunk := int(pageSize - addr&pageMask)
		if chunk > max+1-len(out) {
			chunk = max + 1 - len(out)
		}
		buf := make([]byte, chunk)
		n, err := mm.CopyIn(addr, buf)
		for i := 0; i < n; i++ {
			if buf[i] == 0 {
				return string(append(out, buf[:i]...)), nil
			}
		}
		if err != nil {
			return "", err
		}
		out = append(out, buf...)
		addr += uint64(chunk)
	}
	return "", ErrStringTooLong
}
