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
	// Ambient is the ambient set (capabilities(7)): kept across execve
	// of a file without set-ID bits and added to the new permitted and
	// effective sets, so a non-root program keeps them. Always within
	// Permitted & Inheritable.
	Ambient uint64
	// KeepCaps is PR_SET_KEEPCAPS: a change of every UID away from 0
	// keeps the permitted capabilities. Linux: SECURE_KEEP_CAPS in
	// cred::securebits (cleared by execve).
	KeepCaps bool
	// SecureBits are the other securebits of PR_SET_SECUREBITS
	// (capabilities(7)): the Secbit* flags and their locks, all but
	// SecbitKeepCaps, which is KeepCaps. Kept across fork and execve.
	SecureBits uint32
	// NoNewPrivs is PR_SET_NO_NEW_PRIVS: once set it is inherited by
	// every child and kept across execve, never cleared. Linux keeps
	// it in task_struct::atomic_flags; it lives with the credentials
	// here because they have exactly that lifetime (clone copies them,
	// execve keeps them).
	NoNewPrivs bool
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
	if c.SecureBits&SecbitNoSetuidFixup != 0 {
		return
	}
	wasRoot := old.RealUID == 0 || old.EffectiveUID == 0 || old.SavedUID == 0
	isRoot := c.RealUID == 0 || c.EffectiveUID == 0 || c.SavedUID == 0
	if wasRoot && !isRoot {
		if !c.KeepCaps {
			c.Permitted, c.Effective = 0, 0
		}
		// Even with PR_SET_KEEPCAPS: a program that gives up root and
		// then execs expects to lose its capabilities.
		c.Ambient = 0
	}
	if old.EffectiveUID == 0 && c.EffectiveUID != 0 {
		c.Effective = 0
	}
	if old.EffectiveUID != 0 && c.EffectiveUID == 0 {
		c.Effective = c.Permitted
	}
}

// idSet is a real, effective and saved ID.
type idSet struct{ real, effective, saved uint32 }

// has reports whether id is one of the set (or noID, "unchanged").
func (ids idSet) has(id uint32) bool {
	return id == noID || id == ids.real || id == ids.effective || id == ids.saved
}

// setRES applies setres[ug]id(r, e, s): unprivileged callers may only pick
// among their current real, effective and saved IDs.
func setRES(cur idSet, privileged bool, r, e, s uint32) (idSet, error) {
	if !privileged && (!cur.has(r) || !cur.has(e) || !cur.has(s)) {
		return cur, unix.EPERM
	}
	for _, p := range []struct {
		dst *uint32
		v   uint32
	}{{&cur.real, r}, {&cur.effective, e}, {&cur.saved, s}} {
		if p.v != noID {
			*p.dst = p.v
		}
	}
	return cur, nil
}

// setRE applies setre[ug]id(r, e): the real ID may become the effective
// one, the effective any of the three; setting the real ID, or the
// effective to anything but the real, also sets the saved ID.
func setRE(cur idSet, privileged bool, r, e uint32) (idSet, error) {
	if !privileged && (r != noID && r != cur.real && r != cur.effective || !cur.has(e)) {
		return cur, unix.EPERM
	}
	next := cur
	if r != noID {
		next.real = r
	}
	if e != noID {
		next.effective = e
	}
	if r != noID || (e != noID && e != cur.real) {
		next.saved = next.effective
	}
	return next, nil
}

func (c *Credentials) uids() idSet { return idSet{c.RealUID, c.EffectiveUID, c.SavedUID} }
func (c *Credentials) gids() idSet { return idSet{c.RealGID, c.EffectiveGID, c.SavedGID} }

// setUIDs installs new UIDs (FS UID follows the effective one) and
// adjusts capabilities.
func (t *Task) setUIDs(old *Credentials, ids idSet) {
	c := old.Copy()
	c.RealUID, c.EffectiveUID, c.SavedUID, c.FSUID = ids.real, ids.effective, ids.saved, ids.effective
	c.fixCapsAfterUIDChange(old)
	if ids.real != old.RealUID {
		t.changeRealUID(ids.real)
	}
	t.SetCredentials(c)
}

// setGIDs installs new GIDs (FS GID follows the effective one).
func (t *Task) setGIDs(old *Credentials, ids idSet) {
	c := old.Copy()
	c.RealGID, c.EffectiveGID, c.SavedGID, c.FSGID = ids.real, ids.effective, ids.saved, ids.effective
	t.SetCredentials(c)
}

// SetUIDs implements setresuid(2); noID leaves an ID unchanged.
func (t *Task) SetUIDs(r, e, s uint32) error {
	old := t.Credentials()
	ids, err := setRES(old.uids(), old.HasCap(capSetUID), r, e, s)
	if err == nil {
		t.setUIDs(old, ids)
	}
	return err
}

// SetGIDs implements setresgid(2).
func (t *Task) SetGIDs(r, e, s uint32) error {
	old := t.Credentials()
	ids, err := setRES(old.gids(), old.HasCap(capSetGID), r, e, s)
	if err == nil {
		t.setGIDs(old, ids)
	}
	return err
}

// SetUID implements setuid(2): privileged callers set all three IDs,
// others only the effective one, to the real or saved ID.
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
	ids, err := setRE(old.uids(), old.HasCap(capSetUID), r, e)
	if err == nil {
		t.setUIDs(old, ids)
	}
	return err
}

// SetREGID implements setregid(2).
func (t *Task) SetREGID(r, e uint32) error {
	old := t.Credentials()
	ids, err := setRE(old.gids(), old.HasCap(capSetGID), r, e)
	if err == nil {
		t.setGIDs(old, ids)
	}
	return err
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
