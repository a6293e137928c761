package mm

import (
	"errors"
	"io"

	"github.com/palisade-sandbox/palisade/sentry/memory"
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
	done := 0
	return mm.accessFile(addr, n, write, false, func(_ memory.Range, b []byte) {
		fn(b, done)
		done += len(b)
	})
}

// accessFile is access that also hands fn the memory-file byte range
// (not page aligned) behind each view.
//
// force is Linux's FOLL_FORCE (a ptrace tracer's access): a mapping the
// guest may not read is readable, and a private one it may not write is
// written (after a copy-on-write break, so files and other processes
// never see it); shared mappings still need write permission.
func (mm *MemoryManager) accessFile(addr uint64, n int, write, force bool, fn func(r memory.Range, b []byte)) (int, error) {
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
		if !ok(v.perms) && !(force && (!write || v.private)) {
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
		fr := p.fileRange()
		r := memory.Range{Start: fr.Start + (cur - p.start), End: fr.Start + (stop - p.start)}
		b := mm.mf.Bytes(fr)[cur-p.start : stop-p.start]
		fn(r, b)
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

// Pinned is guest memory held for use without the memory manager's lock:
// a reference on each memory-file page behind it keeps the bytes in place
// even if the guest unmaps them meanwhile.
type Pinned struct {
	mf    *memory.File
	pages []memory.Range
	// Views are the Sentry's views of the pinned bytes, in guest order.
	Views [][]byte
}

// Release drops the references. The views must not be used after it.
func (p *Pinned) Release() {
	for _, r := range p.pages {
		p.mf.DecRef(r)
	}
	p.pages, p.Views = nil, nil
}

// PinIn pins the n bytes of guest memory at addr for reading, so a caller
// can read them while holding locks that must not be held across guest
// memory access (a file's data lock, which page faults on a mapping of the
// file take after the memory manager's lock). On a bad address it pins the
// bytes before it and returns their count with EFAULT; the result must be
// released either way.
func (mm *MemoryManager) PinIn(addr uint64, n int) (*Pinned, int, error) {
	p := &Pinned{mf: mm.mf}
	done, err := mm.accessFile(addr, n, false, false, func(r memory.Range, b []byte) {
		pages := memory.Range{Start: PageRoundDown(r.Start), End: PageRoundDown(r.End + pageSize - 1)}
		mm.mf.IncRef(pages)
		p.pages = append(p.pages, pages)
		p.Views = append(p.Views, b)
	})
	return p, done, err
}

// CopyOut copies src to guest memory at addr. On a bad address it returns
// the bytes copied before it and EFAULT.
func (mm *MemoryManager) CopyOut(addr uint64, src []byte) (int, error) {
	return mm.access(addr, len(src), true, func(b []byte, done int) { copy(b, src[done:]) })
}

// CopyInForce is CopyIn for a ptrace tracer (FOLL_FORCE): memory the
// guest may not read is read too.
func (mm *MemoryManager) CopyInForce(addr uint64, dst []byte) (int, error) {
	done := 0
	return mm.accessFile(addr, len(dst), false, true, func(_ memory.Range, b []byte) {
		copy(dst[done:], b)
		done += len(b)
	})
}

// CopyOutForce is CopyOut for a ptrace tracer (FOLL_FORCE): a private
// mapping is written even without write permission (breakpoints in
// read-only text); the change stays private to this address space.
func (mm *MemoryManager) CopyOutForce(addr uint64, src []byte) (int, error) {
	done := 0
	return mm.accessFile(addr, len(src), true, true, func(_ memory.Range, b []byte) {
		copy(b, src[done:])
		done += len(b)
	})
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
