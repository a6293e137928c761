package tmpfs

import (
	"context"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/vfs"
)

// Memory files (memfd_create(2)) are unlinked regular files of an
// internal tmpfs instance, one per memory file (so one per sandbox), that
// is never mounted. Seals (fcntl(2) F_ADD_SEALS) apply to every tmpfs
// regular file, as Linux's shmem seals, but only memory files are born
// without F_SEAL_SEAL.

// allSeals are the seals F_ADD_SEALS accepts (Linux: F_ALL_SEALS).
const allSeals = unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW |
	unix.F_SEAL_WRITE | unix.F_SEAL_FUTURE_WRITE | unix.F_SEAL_EXEC

var (
	internalMu sync.Mutex
	// internalFS holds the internal instance of each memory file.
	// Protected by internalMu.
	internalFS = map[MemoryFile]*filesystem{}
)

// internalFilesystem returns the internal instance for mem, creating it
// on first use. Its size limit is the host's RAM (Linux bounds memfds by
// memory and the OOM killer; without a bound a guest could make the
// Sentry keep bookkeeping for up to the memory file's 1 TiB).
func internalFilesystem(mem MemoryFile) *filesystem {
	internalMu.Lock()
	defer internalMu.Unlock()
	fs := internalFS[mem]
	if fs == nil {
		fs = &filesystem{mem: mem, dev: vfs.AnonDevice(), name: Name}
		var si unix.Sysinfo_t
		if unix.Sysinfo(&si) == nil {
			fs.maxPages = int64(uint64(si.Totalram) * uint64(si.Unit) / pageSize)
		}
		internalFS[mem] = fs
	}
	return fs
}

// MemfdOptions configure NewMemfd.
type MemfdOptions struct {
	// Name is the name given to memfd_create, without the "memfd:"
	// prefix.
	Name string
	// Mode is the permission bits (Linux: 0777, or 0666 with
	// MFD_NOEXEC_SEAL).
	Mode uint32
	// Seals are the initial seals: F_SEAL_SEAL unless MFD_ALLOW_SEALING,
	// F_SEAL_EXEC with MFD_NOEXEC_SEAL.
	Seals uint32
}

// NewMemfd implements memfd_create(2): it returns, with one reference, a
// read-write open description of a new empty regular file that no
// directory names, owned by the caller's filesystem IDs. /proc/PID/fd/N
// shows it as "/memfd:NAME (deleted)".
func NewMemfd(ctx context.Context, mem MemoryFile, opts MemfdOptions) (*vfs.FileDescription, error) {
	if mem == nil {
		return nil, unix.EINVAL
	}
	fs := internalFilesystem(mem)
	c := vfs.MustCredentials(ctx, "memfd_create")
	f := fs.newRegularFile(&vfs.CreateOptions{Mode: unix.S_IFREG | opts.Mode&0o7777, UID: c.UID, GID: c.GID})
	f.seals = opts.Seals & allSeals
	// The location takes over f's reference.
	loc := vfs.NewAnonymousLocation("memfd", "/memfd:"+opts.Name+" (deleted)", f)
	defer loc.DecRef(ctx)
	impl, err := f.Open(ctx, loc, &vfs.OpenOptions{Flags: unix.O_RDWR})
	if err != nil {
		return nil, err
	}
	return vfs.NewFileDescription(impl, unix.O_RDWR|unix.O_LARGEFILE, loc), nil
}

// Seals implements fcntl(2) F_GET_SEALS: the seals of the tmpfs regular
// file impl is open on; EINVAL for any other file.
func Seals(impl vfs.FileDescriptionImpl) (uint32, error) {
	fd, ok := impl.(*regularFD)
	if !ok {
		return 0, unix.EINVAL
	}
	fd.file.dataMu.RLock()
	defer fd.file.dataMu.RUnlock()
	return fd.file.seals, nil
}

// AddSeals implements fcntl(2) F_ADD_SEALS on the tmpfs regular file impl
// is open on (the caller has checked that the description is writable):
// EINVAL for other files or unknown seals, EPERM once F_SEAL_SEAL is set,
// EBUSY for F_SEAL_WRITE while the file is mapped shared.
//
// The EBUSY check is approximate: it sees shared mappings through the
// pages they hold, so a shared mapping whose pages were never touched is
// missed, and a read-only shared mapping counts (Linux counts those of
// writable descriptors too, since mprotect could make them writable).
func AddSeals(impl vfs.FileDescriptionImpl, seals uint32) error {
	fd, ok := impl.(*regularFD)
	if !ok || seals&^allSeals != 0 {
		return unix.EINVAL
	}
	f := fd.file
	f.dataMu.Lock()
	defer f.dataMu.Unlock()
	if f.seals&unix.F_SEAL_SEAL != 0 {
		return unix.EPERM
	}
	if seals&unix.F_SEAL_WRITE != 0 && f.seals&unix.F_SEAL_WRITE == 0 && f.mappedLocked() {
		return unix.EBUSY
	}
	f.seals |= seals
	return nil
}

// mappedLocked reports whether any page of the file is also held by
// someone else: a shared mapping (tmpfs hands out its pages only to
// MAP_SHARED mappings, through Translate).
//
// Preconditions: dataMu is held.
func (f *regularFile) mappedLocked() bool {
	ex, ok := f.fs.mem.(interface{ Exclusive(memory.Range) bool })
	if !ok {
		return false
	}
	for _, r := range f.pages {
		if !ex.Exclusive(r) {
			return true
		}
	}
	return false
}

// checkSealsLocked fails with EPERM an attribute change that the file's
// seals forbid: growing or shrinking it, or changing its execute bits
// under F_SEAL_EXEC.
//
// Preconditions: dataMu is held.
func (f *regularFile) checkSealsLocked(opts *vfs.SetStatOptions) error {
	if opts.Mask&unix.STATX_SIZE != 0 {
		if (f.seals&unix.F_SEAL_SHRINK != 0 && int64(opts.Size) < f.size) ||
			(f.seals&unix.F_SEAL_GROW != 0 && int64(opts.Size) > f.size) {
			return unix.EPERM
		}
	}
	if opts.Mask&unix.STATX_MODE != 0 && f.seals&unix.F_SEAL_EXEC != 0 && (f.Mode()^opts.Mode)&0o111 != 0 {
		return unix.EPERM
	}
	return nil
}
