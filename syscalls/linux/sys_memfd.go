package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
	"golang.org/x/sys/unix"
)

func init() {
	// Linux's secretmem hides pages from the kernel itself; the Sentry
	// (the guest's kernel) could not keep that promise, so it answers as
	// a Linux booted without secretmem, and callers fall back.
	unimplemented(unix.SYS_MEMFD_SECRET, "answers as Linux with secretmem disabled (secretmem.enable=0): the Sentry cannot hide pages from itself", expectedENOSYS)
	partial(unix.SYS_MEMFD_CREATE, "MFD_HUGETLB fails with EINVAL; F_SEAL_WRITE's EBUSY sees only shared mappings whose pages were touched; /proc/PID/maps names the mapping \"/\"", MemfdCreate)
}

// memfdNameMax is the longest name memfd_create accepts (Linux:
// MFD_NAME_MAX_LEN, NAME_MAX minus the "memfd:" prefix).
const memfdNameMax = 255 - len("memfd:")

// memfdFlags are the flags memfd_create knows, bar MFD_HUGETLB and its
// size bits.
const memfdFlags = unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING | unix.MFD_NOEXEC_SEAL | unix.MFD_EXEC

// MemfdCreate implements memfd_create(2).
func MemfdCreate(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, flags := args[0], uint32(args[1])
	if flags&^memfdFlags != 0 {
		// Unknown flags, and MFD_HUGETLB: there is no hugetlbfs.
		return 0, unix.EINVAL
	}
	if flags&unix.MFD_EXEC != 0 && flags&unix.MFD_NOEXEC_SEAL != 0 {
		return 0, unix.EINVAL
	}
	name, err := t.CopyInString(addr, memfdNameMax)
	if err == mm.ErrStringTooLong {
		return 0, unix.EINVAL
	}
	if err != nil {
		return 0, unix.EFAULT
	}
	opts := tmpfs.MemfdOptions{Name: name, Mode: 0o777, Seals: unix.F_SEAL_SEAL}
	switch {
	case flags&unix.MFD_NOEXEC_SEAL != 0:
		opts.Mode = 0o666
		opts.Seals = unix.F_SEAL_EXEC
	case flags&unix.MFD_ALLOW_SEALING != 0:
		opts.Seals = 0
	}
	ctx := t.Context()
	f, err := tmpfs.NewMemfd(ctx, t.Kernel().MemoryFile, opts)
	if err != nil {
		return 0, err
	}
	defer f.DecRef(ctx)
	fd, err := newFD(t, f, kernel.FDFlags{CloseOnExec: flags&unix.MFD_CLOEXEC != 0})
	return uint64(fd), err
}

// fcntlSeals implements fcntl(2) F_ADD_SEALS and F_GET_SEALS on f.
func fcntlSeals(f *vfs.FileDescription, cmd uint32, arg uint64) (uint64, error) {
	if cmd == unix.F_GET_SEALS {
		seals, err := tmpfs.Seals(f.Impl())
		return uint64(seals), err
	}
	if _, err := tmpfs.Seals(f.Impl()); err != nil {
		return 0, err
	}
	if !f.IsWritable() {
		return 0, unix.EPERM
	}
	return 0, tmpfs.AddSeals(f.Impl(), uint32(arg))
}
