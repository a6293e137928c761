package kernel

import "github.com/palisade-sandbox/palisade/vfs"

// Capability sets are bit masks: bit N is capability N (CAP_CHOWN = 0, ...).
const (
	// AllCapabilities is every capability Linux 6.x defines (0..40).
	AllCapabilities = uint64(1)<<41 - 1
)

// Credentials are a task's identities and capabilities. Linux: struct cred.
// A Credentials value is never modified once shared: setuid and friends
// build a new one.
type Credentials struct {
	RealUID, EffectiveUID, SavedUID, FSUID uint32
	RealGID, EffectiveGID, SavedGID, FSGID uint32
	Groups                                 []uint32
	Permitted, Effective, Inheritable      uint64
	Bounding                               uint64
}

// RootCredentials returns the credentials of the sandbox's root user.
func RootCredentials() *Credentials {
	return &Credentials{Permitted: AllCapabilities, Effective: AllCapabilities, Bounding: AllCapabilities}
}

// Copy returns a modifiable copy of c.
func (c *Credentials) Copy() *Credentials {
	n := *c
	n.Groups = append([]uint32(nil), c.Groups...)
	return &n
}

// HasCap reports whether capability cp is effective.
func (c *Credentials) HasCap(cp uint) bool { return c.Effective&(1<<cp) != 0 }

// VFS returns the credentials as the VFS checks them.
func (c *Credentials) VFS() *vfs.Credentials {
	return &vfs.Credentials{UID: c.FSUID, GID: c.FSGID, Groups: c.Groups, EffectiveCaps: c.Effective}
}
