package vfs

import "golang.org/x/sys/unix"

// AccessTypes is a set of access rights: MayRead, MayWrite, MayExec (Linux:
// MAY_READ, MAY_WRITE, MAY_EXEC, with the same values).
type AccessTypes uint32

// Access rights.
const (
	MayExec  AccessTypes = 1
	MayWrite AccessTypes = 2
	MayRead  AccessTypes = 4
)

// GenericCheckPermissions checks whether creds may access a file with the
// given mode (type and permission bits), owner and group as ats asks, as
// Linux's generic_permission does: the owner, group or other bits apply
// (exactly one class), then CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH may
// override. It returns nil or unix.EACCES.
func GenericCheckPermissions(creds *Credentials, ats AccessTypes, mode, uid, gid uint32) error {
	perms := mode & 07
	if creds.UID == uid {
		perms = (mode >> 6) & 07
	} else if creds.InGroup(gid) {
		perms = (mode >> 3) & 07
	}
	if uint32(ats)&^perms == 0 {
		return nil
	}
	isDir := mode&unix.S_IFMT == unix.S_IFDIR
	if creds.HasCap(CapDACOverride) {
		// Read and write always; execute for directories, or for files with
		// at least one execute bit.
		if ats&MayExec == 0 || isDir || mode&0111 != 0 {
			return nil
		}
	}
	if creds.HasCap(CapDACReadSearch) {
		if ats&MayWrite == 0 && (ats&MayExec == 0 || isDir) {
			return nil
		}
	}
	return unix.EACCES
}

// isOwner reports whether creds own a file owned by uid, or may act as its
// owner (CAP_FOWNER).
func isOwner(creds *Credentials, uid uint32) bool {
	return creds.UID == uid || creds.HasCap(CapFowner)
}

// mayDeleteFromSticky checks the sticky-directory rule: in a directory with
// S_ISVTX, only the owner of the file, the owner of the directory, or
// CAP_FOWNER may remove or rename the file.
func mayDeleteFromSticky(creds *Credentials, dirMode, dirUID, childUID uint32) error {
	if dirMode&unix.S_ISVTX == 0 {
		return nil
	}
	if creds.UID == childUID || creds.UID == dirUID || creds.HasCap(CapFowner) {
		return nil
	}
	return unix.EPERM
}
