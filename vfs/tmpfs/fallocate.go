package tmpfs

import (
	"context"

	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

// Fallocate implements fallocate(2) for tmpfs files: mode 0 and
// FALLOC_FL_KEEP_SIZE allocate the pages of [off, off+length) (zeroed,
// counted against the size limit; mode 0 also extends the file);
// FALLOC_FL_PUNCH_HOLE|FALLOC_FL_KEEP_SIZE frees whole pages in the range
// and zeroes the partial ones. Other modes fail with EOPNOTSUPP, as on
// Linux's tmpfs.
func (fd *regularFD) Fallocate(ctx context.Context, vfd *vfs.FileDescription, mode uint32, off, length int64) error {
	var hole [2]int64
	err := fd.file.fallocate(mode, off, length, &hole)
	// Mappings of punched-out pages go after dataMu is dropped (address
	// spaces take their lock before it).
	if hole[0] < hole[1] {
		fd.file.invalidateMappings(uint64(hole[0]), uint64(hole[1]))
	}
	return err
}

// fallocate does Fallocate's work under dataMu and sets *hole to the byte
// range of whole pages it punched out.
func (f *regularFile) fallocate(mode uint32, off, length int64, hole *[2]int64) error {
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	end := off + length
	if end > maxFileSize || end < off {
		return unix.EFBIG
	}
	switch mode {
	case 0, unix.FALLOC_FL_KEEP_SIZE:
		if f.seals&unix.F_SEAL_GROW != 0 && mode == 0 && end > f.size {
			return unix.EPERM
		}
		first, last := off/pageSize, (end+pageSize-1)/pageSize
		// Fail at once, as Linux's shmem_fallocate does, when the pages
		// missing from the range can't fit: a huge length must not
		// make the Sentry allocate page by page until it runs out.
		if max := f.fs.maxPages; max != 0 && f.fs.usedPages.Load()+f.missingLocked(first, last) > max {
			return unix.ENOSPC
		}
		var added []int64
		for idx := first; idx < last; idx++ {
			if _, ok := f.pages[idx]; ok {
				continue
			}
			r, err := f.fs.allocPage()
			if err != nil {
				// Undo this call's allocations, as Linux does on ENOSPC.
				undo := map[int64]memory.Range{}
				for _, a := range added {
					undo[a] = f.pages[a]
					delete(f.pages, a)
				}
				f.fs.freePages(undo, 0)
				return err
			}
			f.pages[idx] = r
			added = append(added, idx)
		}
		if mode == 0 && end > f.size {
			f.size = end
		}
		return nil
	case unix.FALLOC_FL_PUNCH_HOLE | unix.FALLOC_FL_KEEP_SIZE:
		if f.seals&(unix.F_SEAL_WRITE|unix.F_SEAL_FUTURE_WRITE) != 0 {
			return unix.EPERM
		}
		first := (off + pageSize - 1) / pageSize
		last := end / pageSize // first page not wholly inside
		punched := map[int64]memory.Range{}
		for idx, r := range f.pages {
			if idx >= first && idx < last {
				punched[idx] = r
				delete(f.pages, idx)
			}
		}
		f.fs.freePages(punched, 0)
		if first < last {
			*hole = [2]int64{first * pageSize, last * pageSize}
		}
		// Zero the partial pages at either end.
		for _, p := range []struct{ from, to int64 }{{off, min(end, first*pageSize)}, {max(off, last*pageSize), end}} {
			if p.from >= p.to {
				continue
			}
			if r, ok := f.pages[p.from/pageSize]; ok {
				b := f.fs.mem.Bytes(r)
				clear(b[p.from%pageSize : (p.to-1)%pageSize+1])
			}
		}
		return nil
	}
	return unix.EOPNOTSUPP
}

// missingLocked returns how many pages in [first, last) the file lacks.
//
// Preconditions: dataMu is held.
func (f *regularFile) missingLocked(first, last int64) int64 {
	present := int64(0)
	if last-first > int64(len(f.pages)) {
		for idx := range f.pages {
			if idx >= first && idx < last {
				present++
			}
		}
	} else {
		for idx := first; idx < last; idx++ {
			if _, ok := f.pages[idx]; ok {
				present++
			}
		}
	}
	return last - first - present
}
