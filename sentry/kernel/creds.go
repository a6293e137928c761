package kernel

import (
	"github.com/palisade-sandbox/palisade/vfs"
	"golang.org/x/sys/unix"
)

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
	return &vfs.Credentials{UID: c.FSUID, GID: c.FSGID, Groups: c.Groups, EffectiveCaps: c.Effective,
		RealUID: c.RealUID, RealGID: c.RealGID, HasRealIDs: true}
}

// noID is the "leave unchanged" argument of the set*id calls.
const noID = ^uint32(0)

// fixCapsAfterUIDChange applies Linux's capability rules for UID changes
// (capabilities(7), "Effect of user ID changes on capabilities").
func (c *Credentials) fixCapsAfterUIDChange(old *Credentials) {
	wasRoot := old.RealUID == 0 || old.EffectiveUID == 0 || old.SavedUID == 0
	isRoot := c.RealUID == 0 || c.EffectiveUID == 0 || c.SavedUID == 0
	if wasRoot && !isRoot {
		c.Permitted, c.Effective = 0, 0
	}
	if old.EffectiveUID == 0 && c.EffectiveUID != 0 {
		c.Effective = 0
	}
	if old.EffectiveUID != 0 && c.EffectiveUID == 0 {
		c.Effective = c.Permitted
	}
}

// SetUIDs implements setresuid(2) (and, through it, setuid and setreuid):
// noID leaves an ID unchanged. Unprivileged callers may only pick among
// their current real, effective and saved IDs.
func (t *Task) SetUIDs(r, e, s uint32) error {
	old := t.Credentials()
	ok := func(id uint32) bool {
		return id == noID || id == old.RealUID || id == old.EffectiveUID || id == old.SavedUID
	}
	if !old.HasCap(capSetUID) && (!ok(r) || !ok(e) || !ok(s)) {
		return unix.EPERM
	}
	c := old.Copy()
	if r != noID {
		c.RealUID = r
	}
	if e != noID {
		c.EffectiveUID = e
	}
	if s != noID {
		c.SavedUID = s
	}
	c.FSUID = c.EffectiveUID
	c.fixCapsAfterUIDChange(old)
	t.SetCredentials(c)
	return nil
}

// SetGIDs implements setresgid(2).
func (t *Task) SetGIDs(r, e, s uint32) error {
	old := t.Credentials()
	ok := func(id uint32) bool {
		return id == noID || id == old.RealGID || id == old.EffectiveGID || id == old.SavedGID
	}
	if !old.HasCap(capSetGID) && (!ok(r) || !ok(e) || !ok(s)) {
		return unix.EPERM
	}
	c := old.Copy()
	if r != noID {
		c.RealGID = r
	}
	if e != noID {
		c.EffectiveGID = e
	}
	if s != noID {
		c.SavedGID = s
	}
	c.FSGID = c.EffectiveGID
	t.SetCredentials(c)
	return nil
}

// SetUID implements setuid(2).
func (t *Task) SetUID(uid uint32) error {
	old := t.Credentials()
	if old.HasCap(capSetUID) {
		return t.SetUIDs(uid, uid, uid)
	}
	if uid != old.RealUID && uid != old.SavedUID {
		return unix.EPERM
	}
	return t.SetUIDs(noID, uid, noID)
}

// SetGID implements setgid(2).
func (t *Task) SetGID(gid uint32) error {
	old := t.Credentials()
	if old.HasCap(capSetGID) {
		return t.SetGIDs(gid, gid, gid)
	}
	if gid != old.RealGID && gid != old.SavedGID {
		return unix.EPERM
	}
	return t.SetGIDs(noID, gid, noID)
}

// SetREUID implements setreuid(2).
func (t *Task) SetREUID(r, e uint32) error {
	old := t.Credentials()
	priv := old.HasCap(capSetUID)
	if !priv && r != noID && r != old.RealUID && r != old.EffectiveUID {
		return unix.EPERM
	}
	if !priv && e != noID && e != old.RealUID && e != old.EffectiveUID && e != old.SavedUID {
		return unix.EPERM
	}
	s := uint32(noID)
	if r != noID || (e != noID && e != old.RealUID) {
		s = e
		if e == noID {
			s = old.EffectiveUID
		}
	}
	c := old.Copy()
	if r != noID {
		c.RealUID = r
	}
	if e != noID {
		c.EffectiveUID = e
	}
	if s != noID {
		c.SavedUID = s
	}
	c.FSUID = c.EffectiveUID
	c.fixCapsAfterUIDChange(old)
	t.SetCredentials(c)
	return nil
}

// SetREGID implements setregid(2).
func (t *Task) SetREGID(r, e uint32) error {
	old := t.Credentials()
	priv := old.HasCap(capSetGID)
	if !priv && r != noID && r != old.RealGID && r != old.EffectiveGID {
		return unix.EPERM
	}
	if !priv && e != noID && e != old.RealGID && e != old.EffectiveGID && e != old.SavedGID {
		return unix.EPERM
	}
	c := old.Copy()
	if r != noID || (e != noID && e != old.RealGID) {
		if e != noID {
			c.SavedGID = e
		} else {
			c.SavedGID = old.EffectiveGID
		}
	}
	if r != noID {
		c.RealGID = r
	}
	if e != noID {
		c.EffectiveGID = e
	}
	c.FSGID = c.EffectiveGID
	t.SetCredentials(c)
	return nil
}

// SetFSUID implements setfsuid(2): it returns the old FS UID, changing it
// only when allowed.
func (t *Task) SetFSUID(uid uint32) uint32 {
	old := t.Credentials()
	if uid != noID && (old.HasCap(capSetUID) || uid == old.RealUID || uid == old.EffectiveUID || uid == old.SavedUID || uid == old.FSUID) {
		c := old.Copy()
		c.FSUID = uid
		t.SetCredentials(c)
	}
	return old.FSUID
}

// SetFSGID implements setfsgid(2).
func (t *Task) SetFSGID(gid uint32) uint32 {
	old := t.Credentials()
	if gid != noID && (old.HasCap(capSetGID) || gid == old.RealGID || gid == old.EffectiveGID || gid == old.SavedGID || gid == old.FSGID) {
		c := old.Copy()
		c.FSGID = gid
		t.SetCredentials(c)
	}
	return old.FSGID
}

// SetGroups implements setgroups(2).
func (t *Task) SetGroups(groups []uint32) error {
	old := t.Credentials()
	if !old.HasCap(capSetGID) {
		return unix.EPERM
	}
	c := old.Copy()
	c.Groups = append([]uint32(nil), groups...)
	t.SetCredentials(c)
	return nil
}

// Capability numbers used here.
const (
	capSetGID = 6
	capSetUID = 7
)
