package vfs

import (
	"golang.org/x/sys/unix"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
)

// The rules for open flags live here, in one place: the syscall layer
// only decodes open(2), openat(2), creat(2) and openat2(2)'s arguments
// into an OpenHow, asks Check, and opens with Options; OpenAt applies
// Check again for callers inside the Sentry.

// Open flags. Linux: include/linux/fcntl.h.
const (
	// validOpenFlags are the flags open(2) knows (VALID_OPEN_FLAGS);
	// open and openat silently drop the others, openat2 rejects them.
	validOpenFlags = unix.O_ACCMODE | unix.O_CREAT | unix.O_EXCL | unix.O_NOCTTY | unix.O_TRUNC |
		unix.O_APPEND | unix.O_NONBLOCK | unix.O_SYNC | unix.O_DSYNC | unix.O_ASYNC | unix.O_DIRECT |
		abi.O_LARGEFILE | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_NOATIME | unix.O_CLOEXEC |
		unix.O_PATH | unix.O_TMPFILE
	// oPathFlags are the flags that may accompany O_PATH (O_PATH_FLAGS).
	oPathFlags = unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_PATH | unix.O_CLOEXEC
	// oTmpfileBit is __O_TMPFILE: unix.O_TMPFILE includes O_DIRECTORY.
	oTmpfileBit = unix.O_TMPFILE &^ unix.O_DIRECTORY

	// ResolveCached is RESOLVE_CACHED, which x/sys does not name.
	ResolveCached = 0x20
	// validResolveFlags are openat2's RESOLVE_* flags.
	validResolveFlags = unix.RESOLVE_NO_XDEV | unix.RESOLVE_NO_MAGICLINKS | unix.RESOLVE_NO_SYMLINKS |
		unix.RESOLVE_BENEATH | unix.RESOLVE_IN_ROOT | ResolveCached
)

// OpenHow is what an open asks for, as openat2(2)'s struct open_how: O_*
// flags, the mode of a created file (no umask applied) and RESOLVE_*
// flags.
type OpenHow struct {
	Flags, Mode, Resolve uint64
}

// OpenHowFromFlags returns the OpenHow that the flags and mode of open(2),
// openat(2) and creat(2) amount to (Linux: build_open_how): unknown flags
// dropped, O_PATH keeping only its companions, O_LARGEFILE forced as on
// every 64-bit kernel, the mode kept only if the open may create.
func OpenHowFromFlags(flags, mode uint64) OpenHow {
	flags = uint64(uint32(flags)) | abi.O_LARGEFILE
	flags &= validOpenFlags
	if flags&unix.O_PATH != 0 {
		flags &= oPathFlags
	}
	mode &= 0o7777
	if !willCreate(flags) {
		mode = 0
	}
	return OpenHow{Flags: flags, Mode: mode}
}

// willCreate reports whether open flags may create a file.
func willCreate(flags uint64) bool { return flags&(unix.O_CREAT|oTmpfileBit) != 0 }

// Check applies the rules every open obeys (Linux: build_open_flags, and
// openat2's checks of unknown flags): EINVAL for unknown O_* or RESOLVE_*
// flags, a mode without O_CREAT or O_TMPFILE or with bits beyond 07777,
// O_CREAT with O_DIRECTORY, O_TMPFILE without O_DIRECTORY or write access,
// O_PATH with flags other than its companions, and RESOLVE_BENEATH with
// RESOLVE_IN_ROOT; EAGAIN for RESOLVE_CACHED, since lookups are never
// promised to be served from the dentry cache alone (Linux answers so
// whenever the cache cannot).
func (how OpenHow) Check() error {
	if how.Flags&^validOpenFlags != 0 || how.Resolve&^validResolveFlags != 0 {
		return unix.EINVAL
	}
	if how.Resolve&unix.RESOLVE_BENEATH != 0 && how.Resolve&unix.RESOLVE_IN_ROOT != 0 {
		return unix.EINVAL
	}
	if willCreate(how.Flags) {
		if how.Mode&^0o7777 != 0 {
			return unix.EINVAL
		}
	} else if how.Mode != 0 {
		return unix.EINVAL
	}
	// Creating a regular file with O_DIRECTORY is refused outright
	// (Linux 6.4 and later).
	if how.Flags&(unix.O_DIRECTORY|unix.O_CREAT) == unix.O_DIRECTORY|unix.O_CREAT {
		return unix.EINVAL
	}
	if how.Flags&oTmpfileBit != 0 {
		if how.Flags&unix.O_DIRECTORY == 0 {
			return unix.EINVAL
		}
		if acc := how.Flags & unix.O_ACCMODE; acc != unix.O_WRONLY && acc != unix.O_RDWR {
			return unix.EINVAL
		}
	}
	if how.Flags&unix.O_PATH != 0 && how.Flags&^oPathFlags != 0 {
		return unix.EINVAL
	}
	if how.Resolve&ResolveCached != 0 {
		return unix.EAGAIN
	}
	return nil
}

// Options returns the OpenOptions of a checked how: O_LARGEFILE added
// unless O_PATH, and umask applied to the mode of a file the open may
// create (the mode is 0 otherwise).
func (how OpenHow) Options(umask uint32) OpenOptions {
	flags := uint32(how.Flags)
	if flags&unix.O_PATH == 0 {
		flags |= abi.O_LARGEFILE
	}
	var mode uint32
	if willCreate(how.Flags) {
		mode = uint32(how.Mode) &^ umask
	}
	return OpenOptions{Flags: flags, Mode: mode}
}

// ScopedToStart reports whether how's walk is confined to its starting
// directory (RESOLVE_IN_ROOT or RESOLVE_BENEATH), which is then its root
// as well as its start; PathOperation.Resolve tells the two apart.
func (how OpenHow) ScopedToStart() bool {
	return how.Resolve&(unix.RESOLVE_IN_ROOT|unix.RESOLVE_BENEATH) != 0
}
