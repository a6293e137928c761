package linux

import (
	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_MMAP, "MAP_SHARED of tmpfs/memfd files maps their pages; of writable host (gofer) files: ENODEV; read-only MAP_SHARED host mappings are private copies; MAP_LOCKED locks (accounting only); MAP_HUGETLB is a hint", Mmap)
	full(unix.SYS_MUNMAP, Munmap)
	full(unix.SYS_MPROTECT, Mprotect)
	full(unix.SYS_BRK, Brk)
	partial(unix.SYS_MREMAP, "a range must lie in one mapping; old_size 0 (duplicate) is not supported", Mremap)
	partial(unix.SYS_MADVISE, "only DONTNEED and FREE change memory; other advice is accepted", Madvise)
	full(unix.SYS_MINCORE, Mincore)
	partial(unix.SYS_MSYNC, "private and anonymous memory only: nothing to write back", Msync)
}

// protToAccess converts PROT_* bits.
func protToAccess(prot uint64) platform.Access {
	return platform.Access{
		Read:    prot&(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC) != 0, // x86: write and exec imply read
		Write:   prot&unix.PROT_WRITE != 0,
		Execute: prot&unix.PROT_EXEC != 0,
	}
}

const knownMapFlags = unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_SHARED_VALIDATE | unix.MAP_FIXED |
	unix.MAP_ANONYMOUS | unix.MAP_GROWSDOWN | unix.MAP_DENYWRITE | unix.MAP_EXECUTABLE | unix.MAP_LOCKED |
	unix.MAP_NORESERVE | unix.MAP_POPULATE | unix.MAP_NONBLOCK | unix.MAP_STACK | unix.MAP_HUGETLB |
	unix.MAP_FIXED_NOREPLACE | unix.MAP_32BIT | 0x3f<<26 // MAP_HUGE_SHIFT size bits

// Mmap implements mmap(2).
func Mmap(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length, prot, flags, fd, off := args[0], args[1], args[2], args[3], fdArg(args[4]), args[5]
	typ := flags & (unix.MAP_SHARED | unix.MAP_PRIVATE | unix.MAP_SHARED_VALIDATE)
	if typ != unix.MAP_SHARED && typ != unix.MAP_PRIVATE && typ != unix.MAP_SHARED_VALIDATE {
		return 0, unix.EINVAL
	}
	if typ == unix.MAP_SHARED_VALIDATE && flags&^uint64(knownMapFlags) != 0 {
		return 0, unix.EOPNOTSUPP
	}
	if length == 0 || off&(mmPageSize-1) != 0 || prot&^uint64(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC|unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MAP_32BIT != 0 && flags&unix.MAP_FIXED == 0 && addr == 0 {
		// No low-2GiB placement yet: hint at it instead.
		addr = 0x40000000
	}
	opts := mm.MMapOpts{
		Addr: addr, Length: length,
		Fixed:     flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0,
		NoReplace: flags&unix.MAP_FIXED_NOREPLACE != 0,
		Private:   typ == unix.MAP_PRIVATE,
		Perms:     protToAccess(prot), MaxPerms: platform.AnyAccess,
		GrowsDown: flags&unix.MAP_GROWSDOWN != 0,
	}
	if err := mmapLockChecks(t, flags, length); err != nil {
		return 0, err
	}
	opts.Locked = flags&unix.MAP_LOCKED != 0
	if flags&unix.MAP_ANONYMOUS == 0 {
		f, err := getFile(t, fd)
		if err != nil {
			return 0, err
		}
		defer f.DecRef(t.Context())
		if !f.IsReadable() {
			return 0, unix.EACCES
		}
		if m := f.VirtualDentry().Mount(); m != nil && m.Flags()&unix.MS_NOEXEC != 0 {
			// A noexec mount's files can't be mapped executable, now or
			// later through mprotect.
			if prot&unix.PROT_EXEC != 0 {
				return 0, unix.EPERM
			}
			opts.MaxPerms.Execute = false
		}
		st, err := f.Stat(t.Context())
		if err != nil {
			return 0, err
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			return 0, unix.ENODEV
		}
		if !opts.Private && prot&unix.PROT_WRITE != 0 && !f.IsWritable() {
			return 0, unix.EACCES
		}
		vd := f.VirtualDentry()
		root := t.FSContext().Root()
		name := t.Kernel().VFS.PathnameWithDeleted(t.Context(), root, vd)
		root.DecRef(t.Context())
		opts.File = kernel.NewFileMappable(t, f, name)
		if !opts.Private {
			opts.MaxPerms.Write = f.IsWritable()
			// A write-sealed memfd can't be mapped shared and writable,
			// now or later through mprotect.
			if seals, err := tmpfs.Seals(f.Impl()); err == nil && seals&(unix.F_SEAL_WRITE|unix.F_SEAL_FUTURE_WRITE) != 0 {
				if prot&unix.PROT_WRITE != 0 {
					return 0, unix.EPERM
				}
				opts.MaxPerms.Write = false
			}
			if _, ok := opts.File.(mm.SharedMappable); !ok {
				if f.IsWritable() {
					// Writable shared mappings of host files need the
					// gofer's FD in the stub (issue 5).
					t.Kernel().Warnf("task %d: mmap MAP_SHARED of a writable host file is not supported yet", t.ThreadID())
					return 0, unix.ENODEV
				}
				// A shared mapping of a read-only descriptor can never
				// be written: a private copy behaves the same, except
				// that it misses later changes made by others.
				opts.Private = true
			}
		}
		opts.Offset = off
	} else {
		opts.Offset = 0
	}
	if lim := t.ThreadGroup().Limit(unix.RLIMIT_AS).Cur; lim != unix.RLIM_INFINITY {
		if size := t.MemoryManager().VirtualSize(); size+length > lim || size+length < size {
			return 0, unix.ENOMEM
		}
	}
	readImpliesExec(t, prot, &opts.Perms, opts.MaxPerms)
	a, err := t.MemoryManager().MMap(opts)
	return a, err
}

const mmPageSize = 4096

// Munmap implements munmap(2).
func Munmap(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length := args[0], args[1]
	return 0, t.MemoryManager().Munmap(addr, length)
}

// Mprotect implements mprotect(2).
func Mprotect(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length, prot := args[0], args[1], args[2]
	if prot&^uint64(unix.PROT_READ|unix.PROT_WRITE|unix.PROT_EXEC|unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) != 0 ||
		prot&(unix.PROT_GROWSDOWN|unix.PROT_GROWSUP) == unix.PROT_GROWSDOWN|unix.PROT_GROWSUP {
		return 0, unix.EINVAL
	}
	perms := protToAccess(prot)
	readImpliesExec(t, prot, &perms, platform.AnyAccess)
	err := t.MemoryManager().Mprotect(addr, length, perms, prot&unix.PROT_GROWSDOWN != 0)
	if err == unix.EACCES && perms.Execute && prot&unix.PROT_EXEC == 0 {
		// READ_IMPLIES_EXEC adds execute only where the mapping may
		// have it (Linux: VM_MAYEXEC); a refused Mprotect changed
		// nothing, so try again without it.
		err = t.MemoryManager().Mprotect(addr, length, protToAccess(prot), prot&unix.PROT_GROWSDOWN != 0)
	}
	return 0, err
}

// Brk implements brk(2).
func Brk(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr := args[0]
	return t.MemoryManager().Brk(addr), nil
}

// Mremap implements mremap(2).
func Mremap(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	oldAddr, oldSize, newSize, flags, newAddr := args[0], args[1], args[2], args[3], args[4]
	if flags&^uint64(unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED|unix.MREMAP_DONTUNMAP) != 0 {
		return 0, unix.EINVAL
	}
	if flags&unix.MREMAP_DONTUNMAP != 0 {
		t.Kernel().Warnf("task %d: mremap MREMAP_DONTUNMAP is not supported", t.ThreadID())
		return 0, unix.EINVAL
	}
	return t.MemoryManager().Mremap(oldAddr, oldSize, newSize, flags&unix.MREMAP_MAYMOVE != 0, flags&unix.MREMAP_FIXED != 0, newAddr)
}

// Madvise implements madvise(2).
func Madvise(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length, advice := args[0], args[1], int(intArg(args[2]))
	return 0, t.MemoryManager().Madvise(addr, length, advice)
}

// mincoreChunk is how many pages mincore reports per step: the vector is
// built in a buffer of this size and copied out before the next step, as
// Linux does with one page, so a call over any length uses this much
// memory.
const mincoreChunk = 4096

// Mincore implements mincore(2).
func Mincore(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length, vec := args[0], args[1], args[2]
	if addr&(mmPageSize-1) != 0 {
		return 0, unix.EINVAL
	}
	maxAddr := t.Kernel().Platform.MaxUserAddress()
	if addr+length < addr || addr+length > maxAddr {
		return 0, unix.ENOMEM
	}
	pages := (length + mmPageSize - 1) / mmPageSize
	if vec+pages < vec || vec+pages > maxAddr {
		return 0, unix.EFAULT
	}
	buf := make([]byte, min(pages, mincoreChunk))
	m := t.MemoryManager()
	for pages > 0 {
		// The results already copied out stay: a hole or a bad vector
		// further on fails the call without undoing them.
		n, err := m.Mincore(addr, buf[:min(pages, mincoreChunk)])
		if err != nil {
			return 0, err
		}
		if err := copyOut(t, vec, buf[:n]); err != nil {
			return 0, err
		}
		pages -= uint64(n)
		vec += uint64(n)
		addr += uint64(n) * mmPageSize
		if pages > 0 && t.Killed() {
			return 0, unix.EINTR
		}
	}
	return 0, nil
}

// Msync implements msync(2). Only private and anonymous memory can be
// mapped writable, so there is nothing to write back: it checks the
// arguments and that the range is mapped, walking VMAs, not pages.
func Msync(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, length, flags := args[0], args[1], args[2]
	if addr&(mmPageSize-1) != 0 || flags&^uint64(unix.MS_ASYNC|unix.MS_SYNC|unix.MS_INVALIDATE) != 0 ||
		flags&(unix.MS_ASYNC|unix.MS_SYNC) == unix.MS_ASYNC|unix.MS_SYNC {
		return 0, unix.EINVAL
	}
	// Linux rounds the length up modulo 2^64: a length within a page of
	// 2^64 becomes 0 and succeeds.
	length = (length + mmPageSize - 1) &^ (mmPageSize - 1)
	if addr+length < addr {
		return 0, unix.ENOMEM
	}
	_, err := t.MemoryManager().CheckMapped(addr, length)
	return 0, err
}

// readImpliesExec adds execute permission to a readable mapping when the
// task's personality has READ_IMPLIES_EXEC, unless the mapping may never
// be executable (a file on a noexec mount), as Linux's mmap and mprotect.
func readImpliesExec(t *kernel.Task, prot uint64, perms *platform.Access, maxPerms platform.Access) {
	if prot&unix.PROT_READ != 0 && t.Personality()&kernel.ReadImpliesExec != 0 && maxPerms.Execute {
		perms.Execute = true
	}
}

// mmapLockChecks are mmap's checks for a mapping that will be locked
// (MAP_LOCKED, or any after mlockall(MCL_FUTURE)), as Linux's do_mmap:
// MAP_LOCKED needs RLIMIT_MEMLOCK or CAP_IPC_LOCK (EPERM), and the locked
// total must stay within the limit (EAGAIN).
func mmapLockChecks(t *kernel.Task, flags, length uint64) error {
	m := t.MemoryManager()
	mapLocked := flags&unix.MAP_LOCKED != 0
	if !mapLocked && !m.LockFuture() {
		return nil
	}
	if t.Credentials().HasCap(unix.CAP_IPC_LOCK) {
		return nil
	}
	lim := t.ThreadGroup().Limit(unix.RLIMIT_MEMLOCK).Cur
	if mapLocked && lim == 0 {
		return unix.EPERM
	}
	if lim == unix.RLIM_INFINITY {
		return nil
	}
	pages := (length+mmPageSize-1)/mmPageSize + m.LockedBytes()/mmPageSize
	if pages < m.LockedBytes()/mmPageSize || pages > lim/mmPageSize {
		return unix.EAGAIN
	}
	return nil
}
