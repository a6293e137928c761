package vfs

import (
	"context"
	"path"
	"sort"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// This file holds the mount-table operations behind mount(2), umount2(2),
// pivot_root(2) and unshare(CLONE_NEWNS), and the listing behind
// /proc/PID/mounts and mountinfo.
//
// A mount namespace is a tree of mounts: the mount with no parent at its
// top, and every mount reachable from it through vfs.mounts. A task's
// namespace is the tree its root directory belongs to, so copying a tree
// (CopyMountTree) and moving a task's root and cwd into the copy gives it
// a namespace of its own.

// PropagationMask are the propagation types mount(2) records
// (MS_SHARED, MS_SLAVE, MS_PRIVATE, MS_UNBINDABLE).
const PropagationMask = unix.MS_SHARED | unix.MS_SLAVE | unix.MS_PRIVATE | unix.MS_UNBINDABLE

// lastPeerGroup numbers shared peer groups.
var lastPeerGroup atomic.Uint64

// MountInfo describes one mount as /proc/PID/mountinfo shows it.
type MountInfo struct {
	// ID and ParentID are the mount's and its parent's IDs; a mount
	// with no parent (the namespace root) shows its own ID.
	ID, ParentID uint64
	// Dev is the filesystem's st_dev.
	Dev uint64
	// Root is the path of the mount's root inside its filesystem ("/"
	// unless the mount is a bind mount of a subdirectory).
	Root string
	// MountPoint is where the mount is attached, seen from the caller's
	// root.
	MountPoint string
	// Flags are the per-mount flags (unix.MS_RDONLY, MS_NOSUID, ...).
	Flags uint32
	// FSType is the filesystem type name.
	FSType string
	// Source is the mount source ("" for none).
	Source string
	// Propagation is unix.MS_SHARED, MS_SLAVE, MS_UNBINDABLE, or 0 for
	// private.
	Propagation uint32
	// PeerGroup is the peer group ID of a shared mount.
	PeerGroup uint64
}

// MountOptions are the options of a new mount.
type MountOptions struct {
	// Flags are the per-mount flags (unix.MS_RDONLY, MS_NOSUID, ...).
	Flags uint32
	// Source is the source shown in /proc/PID/mounts ("" for none).
	Source string
}

// topMountLocked returns the mount at the top of m's tree.
//
// Preconditions: vfs.mu is held.
func topMountLocked(m *Mount) *Mount {
	for p := m.parentLocked(); p != nil; p = m.parentLocked() {
		m = p
	}
	return m
}

// childrenLocked returns the mounts attached to m's tree, indexed by
// parent, each list in mount ID order.
//
// Preconditions: vfs.mu is held.
func (vfs *VirtualFilesystem) childrenLocked() map[*Mount][]*Mount {
	out := make(map[*Mount][]*Mount)
	for k, m := range vfs.mounts {
		out[k.parent] = append(out[k.parent], m)
	}
	for _, l := range out {
		sort.Slice(l, func(i, j int) bool { return l[i].id < l[j].id })
	}
	return out
}

// subtreeLocked returns m and every mount below it, parents before
// children. If under is not nil, only m's children mounted at or below
// the dentry under (of m's filesystem) are included.
//
// Preconditions: vfs.mu is held.
func subtreeLocked(children map[*Mount][]*Mount, m *Mount, under *Dentry) []*Mount {
	out := []*Mount{m}
	for _, c := range children[m] {
		if under != nil && !dentryBelow(c.point, under) {
			continue
		}
		out = append(out, subtreeLocked(children, c, nil)...)
	}
	return out
}

// dentryBelow reports whether d is anc or one of its descendants.
//
// Preconditions: VirtualFilesystem.mu is held.
func dentryBelow(d, anc *Dentry) bool {
	for ; d != nil; d = d.parent.Load() {
		if d == anc {
			return true
		}
	}
	return false
}

// reachableLocked reports whether vd is anc or below it, following mount
// points upwards.
//
// Preconditions: vfs.mu is held.
func reachableLocked(anc, vd VirtualDentry) bool {
	for {
		if vd.Equal(anc) {
			return true
		}
		if vd.dentry == vd.mount.root {
			p := vd.mount.parentLocked()
			if p == nil {
				return false
			}
			vd = VirtualDentry{mount: p, dentry: vd.mount.point}
			continue
		}
		p := vd.dentry.parent.Load()
		if p == nil {
			return false
		}
		vd.dentry = p
	}
}

// pathnameLocked is pathname with vfs.mu already held.
//
// Preconditions: vfs.mu is held.
func pathnameLocked(root, vd VirtualDentry) (string, bool) {
	var names []string
	reachable := false
	for {
		if vd.Equal(root) {
			reachable = true
			break
		}
		if vd.dentry == vd.mount.root {
			p := vd.mount.parentLocked()
			if p == nil {
				break
			}
			vd = VirtualDentry{mount: p, dentry: vd.mount.point}
			continue
		}
		parent := vd.dentry.parent.Load()
		if parent == nil {
			break
		}
		names = append(names, vd.dentry.name)
		vd.dentry = parent
	}
	return joinReversed(names), reachable
}

// joinReversed builds "/a/b/c" from the names c, b, a.
func joinReversed(names []string) string {
	if len(names) == 0 {
		return "/"
	}
	var b []byte
	for i := len(names) - 1; i >= 0; i-- {
		b = append(b, '/')
		b = append(b, names[i]...)
	}
	return string(b)
}

// dentryPathLocked returns d's path from its filesystem's root.
//
// Preconditions: vfs.mu is held.
func dentryPathLocked(d *Dentry) string {
	var names []string
	for ; d != nil; d = d.parent.Load() {
		if p := d.parent.Load(); p != nil {
			names = append(names, d.name)
		}
	}
	return joinReversed(names)
}

// MountsFrom lists the mounts of the tree root belongs to that are
// visible from root (the caller's root directory), as /proc/PID/mounts
// lists them: depth first from the top of the tree, parents before
// children, siblings in mount order. Mounts outside root are left out.
func (vfs *VirtualFilesystem) MountsFrom(ctx context.Context, root VirtualDentry) []MountInfo {
	if !root.Ok() {
		return nil
	}
	vfs.mu.RLock()
	defer vfs.mu.RUnlock()
	children := vfs.childrenLocked()
	var out []MountInfo
	for _, m := range subtreeLocked(children, topMountLocked(root.mount), nil) {
		mp, ok := pathnameLocked(root, VirtualDentry{mount: m, dentry: m.root})
		if !ok {
			continue
		}
		root := dentryPathLocked(m.root)
		if m.fs.rootPath != "" {
			root = path.Join(m.fs.rootPath, root)
		}
		mi := MountInfo{
			ID: m.id, ParentID: m.id, Root: root, MountPoint: mp,
			Flags: m.Flags(), FSType: m.fs.impl.Name(), Source: m.source,
			Propagation: m.propagation &^ unix.MS_PRIVATE, PeerGroup: m.peerGroup,
		}
		if m.parent != nil {
			mi.ParentID = m.parent.id
		}
		if st, err := m.fs.root.inode.Stat(ctx); err == nil {
			mi.Dev = unix.Mkdev(st.Dev_major, st.Dev_minor)
		}
		out = append(out, mi)
	}
	return out
}

// mountWalk says how resolveLocked walks the path of a mount operation.
type mountWalk struct {
	// follow follows a final symlink.
	follow bool
	// mountpoint crosses mounts stacked on the final location even when
	// the path ends in "." or "/" (Linux: LOOKUP_MOUNTPOINT): the path
	// names a mount point rather than what is mounted on it.
	mountpoint bool
}

// resolveLocked resolves pop as w says and returns the location with a
// reference.
//
// Preconditions: vfs.mu is held.
func (vfs *VirtualFilesystem) resolveLocked(ctx context.Context, pop *PathOperation, w mountWalk) (VirtualDentry, error) {
	r, err := vfs.newResolver(ctx, pop)
	if err != nil {
		return VirtualDentry{}, err
	}
	defer r.release()
	r.follow = w.follow
	if err := r.resolve(); err != nil {
		return VirtualDentry{}, err
	}
	vd := r.takeCur()
	if w.mountpoint {
		vd = vfs.crossMountsLocked(ctx, vd)
	}
	return vd, nil
}

// attachLocked attaches m (a detached mount) on top of vd, taking a
// reference on vd's dentry.
//
// Preconditions: vfs.mu is held for writing; nothing is mounted on vd.
func (vfs *VirtualFilesystem) attachLocked(m *Mount, vd VirtualDentry) {
	vd.dentry.IncRef()
	m.parent, m.point = vd.mount, vd.dentry
	vd.dentry.mounts++
	vfs.mounts[mountKey{vd.mount, vd.dentry}] = m
}

// detachLocked removes m from its parent and returns its mount point
// dentry, whose reference the caller must drop (after unlocking).
//
// Preconditions: vfs.mu is held for writing; m has a parent.
func (vfs *VirtualFilesystem) detachLocked(m *Mount) *Dentry {
	point := m.point
	if vfs.mounts[mountKey{m.parent, point}] == m {
		delete(vfs.mounts, mountKey{m.parent, point})
	}
	point.mounts--
	m.parent, m.point = nil, nil
	return point
}

// cloneMount returns a detached mount of m's filesystem rooted at root
// (a dentry of that filesystem), with m's flags, locks, source and
// propagation and one reference.
//
// Preconditions: vfs.mu is held.
func (vfs *VirtualFilesystem) cloneMount(m *Mount, root *Dentry) *Mount {
	m.fs.IncRef()
	root.IncRef()
	c := &Mount{vfs: vfs, fs: m.fs, root: root, id: vfs.lastMountID.Add(1), source: m.source, propagation: m.propagation, peerGroup: m.peerGroup,
		locked: m.locked, lockedFlags: m.lockedFlags, lockedATime: m.lockedATime}
	c.flags.Store(m.flags.Load())
	c.refs.Init(c)
	return c
}

// MountFilesystemAt mounts fs on the directory target resolves to, as
// MountAt does, recording opts.Source for /proc/PID/mounts. It requires
// CAP_SYS_ADMIN.
func (vfs *VirtualFilesystem) MountFilesystemAt(ctx context.Context, target *PathOperation, fs *Filesystem, opts MountOptions) error {
	if !credsOf(ctx, "mount").HasCap(CapSysAdmin) {
		return unix.EPERM
	}
	if fs == nil {
		return unix.EINVAL
	}
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	vd, err := vfs.resolveLocked(ctx, target, mountWalk{follow: true, mountpoint: true})
	if err != nil {
		return err
	}
	defer vd.DecRef(ctx)
	if !vd.dentry.isDir() || !fs.root.isDir() {
		return unix.ENOTDIR
	}
	if vd.dentry.dead.Load() {
		return unix.ENOENT
	}
	m := vfs.newMount(fs, opts.Flags)
	m.source = opts.Source
	vfs.attachLocked(m, vd)
	return nil
}

// BindAt mounts the location source names on target (mount(2) with
// MS_BIND; with recursive, MS_BIND|MS_REC also copies the mounts below
// source). The new mount has the source mount's flags. As Linux, a bind
// that would leave out a locked mount (one mounted at or below source)
// fails with EINVAL, and a recursive bind keeps the copies of locked
// mounts locked (EPERM if one is also unbindable); the new top mount is
// never locked. It requires CAP_SYS_ADMIN.
func (vfs *VirtualFilesystem) BindAt(ctx context.Context, source, target *PathOperation, recursive bool) error {
	if !credsOf(ctx, "bind mount").HasCap(CapSysAdmin) {
		return unix.EPERM
	}
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	src, tgt, err := vfs.resolveSourceTargetLocked(ctx, source, target)
	if err != nil {
		return err
	}
	defer src.DecRef(ctx)
	defer tgt.DecRef(ctx)
	if src.mount.anon || src.mount.propagation&unix.MS_UNBINDABLE != 0 {
		return unix.EINVAL
	}
	children := vfs.childrenLocked()
	if !recursive && hasLockedChildren(children, src.mount, src.dentry) {
		return unix.EINVAL
	}
	if src.dentry.isDir() != tgt.dentry.isDir() {
		return unix.ENOTDIR
	}
	if src.dentry.dead.Load() || tgt.dentry.dead.Load() {
		return unix.ENOENT
	}
	todo := []*Mount{src.mount}
	if recursive {
		todo = subtreeLocked(children, src.mount, src.dentry)
		if lockedUnbindable(todo) {
			return unix.EPERM
		}
	}
	// Make every copy before attaching any, so that binding a tree below
	// itself copies it only once.
	clones := make(map[*Mount]*Mount, len(todo))
	for i, m := range todo {
		root := m.root
		if i == 0 {
			root = src.dentry
		} else if m.propagation&unix.MS_UNBINDABLE != 0 {
			continue
		}
		if i > 0 && clones[m.parent] == nil {
			continue
		}
		clones[m] = vfs.cloneMount(m, root)
		if i == 0 {
			clones[m].locked = false
			vfs.attachLocked(clones[m], tgt)
			continue
		}
		vfs.attachLocked(clones[m], VirtualDentry{mount: clones[m.parent], dentry: m.point})
	}
	return nil
}

// hasLockedChildren reports whether a locked mount is attached to m at or
// below the dentry under (Linux: has_locked_children).
//
// Preconditions: vfs.mu is held.
func hasLockedChildren(children map[*Mount][]*Mount, m *Mount, under *Dentry) bool {
	for _, c := range children[m] {
		if c.locked && dentryBelow(c.point, under) {
			return true
		}
	}
	return false
}

// lockedUnbindable reports whether a recursive bind of ms (subtreeLocked's
// list, its top first) would have to leave out a locked mount because it
// is unbindable (Linux's copy_tree fails with EPERM then). An unbindable
// mount's own subtree is left out with it.
//
// Preconditions: vfs.mu is held.
func lockedUnbindable(ms []*Mount) bool {
	skipped := make(map[*Mount]bool)
	for _, m := range ms[1:] {
		switch {
		case skipped[m.parent]:
			skipped[m] = true
		case m.propagation&unix.MS_UNBINDABLE != 0:
			if m.locked {
				return true
			}
			skipped[m] = true
		}
	}
	return false
}

// resolveSourceTargetLocked resolves the source of a bind or move
// (following a final symlink) and its target (the top of any mounts
// stacked there). The caller drops both references.
//
// Preconditions: vfs.mu is held.
func (vfs *VirtualFilesystem) resolveSourceTargetLocked(ctx context.Context, source, target *PathOperation) (src, tgt VirtualDentry, err error) {
	src, err = vfs.resolveLocked(ctx, source, mountWalk{follow: true})
	if err != nil {
		return VirtualDentry{}, VirtualDentry{}, err
	}
	tgt, err = vfs.resolveLocked(ctx, target, mountWalk{follow: true, mountpoint: true})
	if err != nil {
		src.DecRef(ctx)
		return VirtualDentry{}, VirtualDentry{}, err
	}
	return src, tgt, nil
}

// finalSymlink says whether mountRootLocked follows a symlink in the
// path's last component.
type finalSymlink int

const (
	// followFinal follows it (mount(2) changes; umount2 by default).
	followFinal finalSymlink = iota
	// noFollowFinal names the symlink itself (umount2 UMOUNT_NOFOLLOW).
	noFollowFinal
)

// mountRootLocked resolves pop to the root of a mount (crossing mounts
// stacked on the final location), or fails with EINVAL. The caller must
// drop the returned reference.
//
// Preconditions: vfs.mu is held.
func (vfs *VirtualFilesystem) mountRootLocked(ctx context.Context, pop *PathOperation, final finalSymlink) (VirtualDentry, error) {
	vd, err := vfs.resolveLocked(ctx, pop, mountWalk{follow: final == followFinal, mountpoint: true})
	if err != nil {
		return VirtualDentry{}, err
	}
	if !credsOf(ctx, "mount change").HasCap(CapSysAdmin) {
		vd.DecRef(ctx)
		return VirtualDentry{}, unix.EPERM
	}
	if vd.dentry != vd.mount.root || vd.mount.anon {
		vd.DecRef(ctx)
		return VirtualDentry{}, unix.EINVAL
	}
	return vd, nil
}

// RemountAt changes the per-mount flags of the mount whose root target
// names (mount(2) with MS_REMOUNT, or MS_REMOUNT|MS_BIND). The flags
// replace the old ones; the access-time flags are kept if flags has none
// of MS_NOATIME, MS_NODIRATIME, MS_RELATIME and MS_STRICTATIME (which
// clears them). A remount that would clear a flag the mount was locked
// with, or change its locked access-time flags, fails with EPERM (Linux:
// can_change_locked_flags). It requires CAP_SYS_ADMIN.
func (vfs *VirtualFilesystem) RemountAt(ctx context.Context, target *PathOperation, flags uint32) error {
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	vd, err := vfs.mountRootLocked(ctx, target, followFinal)
	if err != nil {
		return err
	}
	defer vd.DecRef(ctx)
	const atime = unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME
	m := vd.mount
	old := m.flags.Load()
	if flags&(atime|unix.MS_STRICTATIME) == 0 {
		flags |= old & atime
	}
	flags &= mountFlagsMask
	if m.lockedFlags&^flags != 0 || (m.lockedATime && flags&atime != old&atime) {
		return unix.EPERM
	}
	m.flags.Store(flags)
	return nil
}

// SetPropagationAt records the propagation type prop (one of
// PropagationMask) on the mount whose root target names, and with
// recursive on every mount below it. Nothing is propagated: the type is
// only recorded and shown in mountinfo. It requires CAP_SYS_ADMIN.
func (vfs *VirtualFilesystem) SetPropagationAt(ctx context.Context, target *PathOperation, prop uint32, recursive bool) error {
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	vd, err := vfs.mountRootLocked(ctx, target, followFinal)
	if err != nil {
		return err
	}
	defer vd.DecRef(ctx)
	ms := []*Mount{vd.mount}
	if recursive {
		ms = subtreeLocked(vfs.childrenLocked(), vd.mount, nil)
	}
	for _, m := range ms {
		m.propagation = prop
		switch {
		case prop != unix.MS_SHARED:
			m.peerGroup = 0
		case m.peerGroup == 0:
			m.peerGroup = lastPeerGroup.Add(1)
		}
	}
	return nil
}

// UmountAt unmounts the mount whose root target names (umount2(2)).
// flags are unix.MNT_FORCE (accepted; nothing to abort), MNT_DETACH and
// UMOUNT_NOFOLLOW. It fails with EINVAL if target is not the root of a
// mount, or names a locked mount or one already unmounted, and with EBUSY
// if the mount is in use (open files, working directories, mounts below
// it) unless MNT_DETACH is given: then the mount and every mount below it
// leave the tree at once and are released when their last user goes.
// Locked mounts below it stay attached to their parents, as Linux keeps
// them, so that whoever still uses the detached tree sees them and not
// what they cover. It requires CAP_SYS_ADMIN.
func (vfs *VirtualFilesystem) UmountAt(ctx context.Context, target *PathOperation, flags int) error {
	if flags&^(unix.MNT_FORCE|unix.MNT_DETACH|unix.UMOUNT_NOFOLLOW) != 0 {
		return unix.EINVAL
	}
	detached, points, err := vfs.umountLocked(ctx, target, flags)
	for _, d := range points {
		d.DecRef(ctx)
	}
	for _, m := range detached {
		m.DecRef(ctx)
	}
	return err
}

// umountLocked does UmountAt's work under vfs.mu, returning the mounts
// whose tree reference and the mount point dentries whose references the
// caller drops.
func (vfs *VirtualFilesystem) umountLocked(ctx context.Context, target *PathOperation, flags int) ([]*Mount, []*Dentry, error) {
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	final := followFinal
	if flags&unix.UMOUNT_NOFOLLOW != 0 {
		final = noFollowFinal
	}
	vd, err := vfs.mountRootLocked(ctx, target, final)
	if err != nil {
		return nil, nil, err
	}
	defer vd.DecRef(ctx)
	m := vd.mount
	if m.locked || m.umounted {
		return nil, nil, unix.EINVAL
	}
	// Tidy up after detached mounts that have gone since.
	points := vfs.reapKeptLocked()
	if m.parent == nil {
		// The root of a namespace.
		if flags&unix.MNT_DETACH != 0 {
			return nil, points, unix.EINVAL
		}
		return nil, points, unix.EBUSY
	}
	children := vfs.childrenLocked()
	// The tree holds one reference and vd another.
	if flags&unix.MNT_DETACH == 0 && (m.refs.Load() > 2 || len(children[m]) > 0) {
		return nil, points, unix.EBUSY
	}
	ms := subtreeLocked(children, m, nil)
	detached := make([]*Mount, 0, len(ms))
	for i := len(ms) - 1; i >= 0; i-- {
		c := ms[i]
		c.umounted = true
		if i > 0 && c.locked {
			// Its parent is unmounted too (Linux: disconnect_mount).
			c.parent.kept = append(c.parent.kept, c)
			continue
		}
		points = append(points, vfs.detachLocked(c))
		detached = append(detached, c)
	}
	for _, c := range ms {
		if len(c.kept) > 0 {
			vfs.keptParents = append(vfs.keptParents, c)
		}
	}
	return detached, points, nil
}

// reapKeptLocked detaches the mounts kept on lazily unmounted mounts whose
// last reference has gone, and returns their mount point dentries, whose
// references the caller drops (after unlocking).
//
// Preconditions: vfs.mu is held for writing.
func (vfs *VirtualFilesystem) reapKeptLocked() []*Dentry {
	var points []*Dentry
	live := vfs.keptParents[:0]
	for _, p := range vfs.keptParents {
		if p.refs.Load() > 0 {
			live = append(live, p)
			continue
		}
		for _, c := range p.kept {
			if c.parent == p {
				points = append(points, vfs.detachLocked(c))
			}
		}
	}
	clear(vfs.keptParents[len(live):])
	vfs.keptParents = live
	return points
}

// PivotRoot makes the mount newRoot names the root of the caller's mount
// tree and attaches the caller's root mount at putOld (pivot_root(2)).
// root is the caller's root directory, which must be the root of a mount;
// newRoot must be the root of a mount below root other than root's, and
// putOld must be at or below newRoot and not on root's mount. If root's
// mount was mntns's root, newRoot's mount replaces it. It returns the old
// and the new root locations with references: the caller moves every root
// and working directory at the old one to the new one. As Linux, a locked
// new root fails with EINVAL, and a locked root mount passes its lock on
// to the new root, which takes its place. It requires CAP_SYS_ADMIN.
func (vfs *VirtualFilesystem) PivotRoot(ctx context.Context, mntns *MountNamespace, root VirtualDentry, newRoot, putOld *PathOperation) (oldVD, newVD VirtualDentry, err error) {
	if !credsOf(ctx, "pivot_root").HasCap(CapSysAdmin) {
		return VirtualDentry{}, VirtualDentry{}, unix.EPERM
	}
	var points []*Dentry
	defer func() {
		for _, d := range points {
			d.DecRef(ctx)
		}
	}()
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	nvd, err := vfs.resolveLocked(ctx, newRoot, mountWalk{follow: true})
	if err != nil {
		return VirtualDentry{}, VirtualDentry{}, err
	}
	defer nvd.DecRef(ctx)
	ovd, err := vfs.resolveLocked(ctx, putOld, mountWalk{follow: true})
	if err != nil {
		return VirtualDentry{}, VirtualDentry{}, err
	}
	defer ovd.DecRef(ctx)
	if !nvd.dentry.isDir() || !ovd.dentry.isDir() {
		return VirtualDentry{}, VirtualDentry{}, unix.ENOTDIR
	}
	rootMnt, newMnt, oldMnt := root.mount, nvd.mount, ovd.mount
	if newMnt.locked {
		return VirtualDentry{}, VirtualDentry{}, unix.EINVAL
	}
	if nvd.dentry.dead.Load() || ovd.dentry.dead.Load() {
		return VirtualDentry{}, VirtualDentry{}, unix.ENOENT
	}
	if newMnt == rootMnt || oldMnt == rootMnt {
		return VirtualDentry{}, VirtualDentry{}, unix.EBUSY
	}
	switch {
	case root.dentry != rootMnt.root, nvd.dentry != newMnt.root, newMnt.parent == nil, newMnt.anon:
		// A root or new root that is not a mount point.
		return VirtualDentry{}, VirtualDentry{}, unix.EINVAL
	case !reachableLocked(nvd, ovd), !reachableLocked(root, nvd):
		return VirtualDentry{}, VirtualDentry{}, unix.EINVAL
	case oldMnt.propagation&unix.MS_SHARED != 0, newMnt.parent.propagation&unix.MS_SHARED != 0,
		rootMnt.parent != nil && rootMnt.parent.propagation&unix.MS_SHARED != 0:
		return VirtualDentry{}, VirtualDentry{}, unix.EINVAL
	}
	points = append(points, vfs.detachLocked(newMnt))
	if rootMnt.locked {
		// The new root covers what the old one did.
		newMnt.locked, rootMnt.locked = true, false
	}
	if rootMnt.parent != nil {
		parent, point := rootMnt.parent, rootMnt.point
		points = append(points, vfs.detachLocked(rootMnt))
		vfs.attachLocked(newMnt, VirtualDentry{mount: parent, dentry: point})
	} else if mntns != nil {
		mntns.root.CompareAndSwap(rootMnt, newMnt)
	}
	// put_old may have been on a mount stacked on newRoot's location.
	vfs.attachLocked(rootMnt, vfs.topOfLocked(ovd))
	oldVD = VirtualDentry{mount: rootMnt, dentry: rootMnt.root}
	newVD = VirtualDentry{mount: newMnt, dentry: newMnt.root}
	oldVD.IncRef()
	newVD.IncRef()
	return oldVD, newVD, nil
}

// MoveAt moves the mount whose root source names, with every mount below
// it, onto target (mount(2) with MS_MOVE). It fails with EINVAL if
// source is not the root of a mount, is a namespace root, a locked or
// unmounted mount, or is attached to a shared mount, or if one of source
// and target is a directory and the other not; with ELOOP if target is
// on the moved tree. It requires CAP_SYS_ADMIN.
func (vfs *VirtualFilesystem) MoveAt(ctx context.Context, source, target *PathOperation) error {
	if !credsOf(ctx, "move mount").HasCap(CapSysAdmin) {
		return unix.EPERM
	}
	var point *Dentry
	defer func() {
		if point != nil {
			point.DecRef(ctx)
		}
	}()
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	src, tgt, err := vfs.resolveSourceTargetLocked(ctx, source, target)
	if err != nil {
		return err
	}
	defer src.DecRef(ctx)
	defer tgt.DecRef(ctx)
	if tgt.dentry.dead.Load() {
		return unix.ENOENT
	}
	// Linux: do_move_mount, in its order.
	m := src.mount
	switch {
	case tgt.mount.umounted, m.anon, m.umounted, m.parent == nil, m.locked, src.dentry != m.root,
		src.dentry.isDir() != tgt.dentry.isDir(), m.parent.propagation&unix.MS_SHARED != 0:
		return unix.EINVAL
	}
	for p := tgt.mount; p != nil; p = p.parent {
		if p == m {
			return unix.ELOOP
		}
	}
	point = vfs.detachLocked(m)
	vfs.attachLocked(m, tgt)
	return nil
}

// LockMountTree locks every mount of mntns but its root, as Linux's
// lock_mnt_tree does to the copy of a mount tree a less privileged user
// namespace gets: the mounts can't be unmounted, moved, or left out of a
// bind one by one, and no mount's flags (the root's included) can be
// cleared by a remount. Copies of the tree keep the locks. The sandbox
// locks the mounts it is built with, so that the guest, root as it may be,
// never sees what they cover. /proc/PID/mountinfo doesn't show locks.
func (vfs *VirtualFilesystem) LockMountTree(mntns *MountNamespace) {
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	root := mntns.root.Load()
	for _, m := range subtreeLocked(vfs.childrenLocked(), root, nil) {
		m.lockedFlags |= m.flags.Load() & (unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
		m.lockedATime = true
		if m != root {
			m.locked = true
		}
	}
}

// topOfLocked returns the location at the top of the mounts stacked on vd
// (vd itself if none), without references.
//
// Preconditions: vfs.mu is held.
func (vfs *VirtualFilesystem) topOfLocked(vd VirtualDentry) VirtualDentry {
	for vd.dentry.mounts > 0 {
		m := vfs.mounts[mountKey{vd.mount, vd.dentry}]
		if m == nil {
			break
		}
		vd = VirtualDentry{mount: m, dentry: m.root}
	}
	return vd
}

// CopyMountTree copies the mount tree that vds[0] belongs to (every
// mount, with new IDs, over the same filesystems) and returns each of vds
// translated into the copy, with a reference (a location outside the tree
// is returned as it is, with a new reference). It gives a task a mount
// namespace of its own (unshare(CLONE_NEWNS)): the task's root and cwd
// move to the copy. The copy lives as long as the mounts in it are used.
func (vfs *VirtualFilesystem) CopyMountTree(ctx context.Context, vds ...VirtualDentry) []VirtualDentry {
	out := make([]VirtualDentry, len(vds))
	if len(vds) == 0 {
		return out
	}
	vfs.mu.Lock()
	defer vfs.mu.Unlock()
	top := topMountLocked(vds[0].mount)
	clones := make(map[*Mount]*Mount)
	for _, m := range subtreeLocked(vfs.childrenLocked(), top, nil) {
		c := vfs.cloneMount(m, m.root)
		clones[m] = c
		if m.parent != nil {
			vfs.attachLocked(c, VirtualDentry{mount: clones[m.parent], dentry: m.point})
		}
	}
	for i, vd := range vds {
		if c := clones[vd.mount]; c != nil {
			vd = VirtualDentry{mount: c, dentry: vd.dentry}
		}
		vd.IncRef()
		out[i] = vd
	}
	return out
}
