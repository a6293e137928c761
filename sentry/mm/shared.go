package mm

import (
	"fmt"
	"strings"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/refs"
	"github.com/palisade-sandbox/palisade/sentry/memory"
)

// sharedAnon is the object behind a MAP_SHARED|MAP_ANONYMOUS mapping: pages
// that every mapping of it, in this process and its forked children, sees.
// Linux: a shmem file on the internal shm mount ("/dev/zero (deleted)").
type sharedAnon struct {
	mf   *memory.File
	r    memory.Range
	refs refs.Count
}

var _ SharedMappable = (*sharedAnon)(nil)

func newSharedAnon(mf *memory.File, length uint64) (*sharedAnon, error) {
	r, err := mf.Allocate(length)
	if err != nil {
		return nil, err
	}
	// The creator's reference passes to the VMA MMap inserts.
	s := &sharedAnon{mf: mf, r: r}
	s.refs.Init(s)
	return s, nil
}

func (s *sharedAnon) ReadAt(dst []byte, off int64) (int, error) {
	if off < 0 || uint64(off) >= s.r.Length() {
		return 0, errEOF
	}
	return copy(dst, s.mf.Bytes(s.r)[off:]), nil
}

func (s *sharedAnon) IncRef() { s.refs.IncRef() }

func (s *sharedAnon) DecRef() {
	if s.refs.DecRef() {
		s.mf.DecRef(s.r)
	}
}

func (s *sharedAnon) Name() string { return "/dev/zero (deleted)" }

func (s *sharedAnon) DeviceInode() (uint64, uint64) { return 1, s.r.Start / memory.PageSize }

func (s *sharedAnon) Translate(off, length uint64) (memory.Range, error) {
	if off >= s.r.Length() {
		return memory.Range{}, fmt.Errorf("mm: shared anonymous offset %#x out of range", off)
	}
	end := min(off+length, s.r.Length())
	r := memory.Range{Start: s.r.Start + off, End: s.r.Start + end}
	s.mf.IncRef(r)
	return r, nil
}

// Maps returns the contents of /proc/PID/maps.
func (mm *MemoryManager) Maps() string {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	var b strings.Builder
	for _, v := range mm.vmas {
		perms := []byte(platform.Access{Read: v.perms.Read, Write: v.perms.Write, Execute: v.perms.Execute}.String() + "p")
		if !v.private {
			perms[3] = 's'
		}
		var dev, ino uint64
		name := v.name
		if v.file != nil {
			dev, ino = v.file.DeviceInode()
			if name == "" {
				name = v.file.Name()
			}
		}
		if v.start <= mm.layout.StackStart && mm.layout.StackStart < v.end && name == "" {
			name = "[stack]"
		}
		line := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d", v.start, v.end, perms, v.off, dev>>8&0xfff, dev&0xff, ino)
		if name != "" {
			line += strings.Repeat(" ", max(1, 73-len(line))) + name
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
