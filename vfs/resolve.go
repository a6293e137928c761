package vfs

import (
	"context"
	"strings"

	"golang.org/x/sys/unix"
)

// resolver walks one path. It holds a reference on cur.
//
// Preconditions for all methods: VirtualFilesystem.mu is held.
type resolver struct {
	vfs   *VirtualFilesystem
	ctx   context.Context
	creds *Credentials
	// root is the caller's root (borrowed: the caller holds a reference).
	root VirtualDentry
	// cur is the current location, with a reference.
	cur VirtualDentry
	// rest is the part of the path not yet walked.
	rest string
	// follow says whether a final symlink is followed.
	follow bool
	// symlinks counts symlinks followed.
	symlinks int
	// mustBeDir is set when the final component had a trailing slash.
	mustBeDir bool
}

func (vfs *VirtualFilesystem) newResolver(ctx context.Context, pop *PathOperation) (*resolver, error) {
	if len(pop.Path) == 0 {
		return nil, unix.ENOENT
	}
	if len(pop.Path) >= PathMax {
		return nil, unix.ENAMETOOLONG
	}
	if strings.IndexByte(pop.Path, 0) >= 0 {
		return nil, unix.EINVAL
	}
	if !pop.Root.Ok() {
		return nil, unix.ENOENT
	}
	r := &resolver{vfs: vfs, ctx: ctx, creds: credsOf(ctx), root: pop.Root, rest: pop.Path, follow: pop.FollowFinalSymlink}
	if pop.Path[0] == '/' || !pop.Start.Ok() {
		// A relative path without a start walks from the root.
		r.cur = pop.Root
	} else {
		r.cur = pop.Start
	}
	// As Linux, the starting point is not replaced by mounts stacked on
	// it: a cwd that was mounted over keeps seeing what is below.
	r.cur.IncRef()
	return r, nil
}

// release drops the resolver's reference.
func (r *resolver) release() {
	r.cur.DecRef(r.ctx)
	r.cur = VirtualDentry{}
}

// takeCur returns cur and its reference, leaving the resolver empty.
func (r *resolver) takeCur() VirtualDentry {
	vd := r.cur
	r.cur = VirtualDentry{}
	return vd
}

// next removes the next component from rest. It returns ok false if none
// is left. final reports whether it is the last component, and trailing
// whether the path continues with slashes only.
func (r *resolver) next() (name string, final, trailing, ok bool) {
	p := strings.TrimLeft(r.rest, "/")
	if p == "" {
		r.rest = ""
		return "", false, false, false
	}
	i := strings.IndexByte(p, '/')
	if i < 0 {
		r.rest = ""
		return p, true, false, true
	}
	name, r.rest = p[:i], p[i:]
	if strings.TrimLeft(r.rest, "/") == "" {
		return name, true, true, true
	}
	return name, false, false, true
}

// checkSearch requires cur to be a directory the caller may search.
func (r *resolver) checkSearch() error {
	if !r.cur.dentry.isDir() {
		return unix.ENOTDIR
	}
	return r.cur.dentry.inode.CheckPermissions(r.ctx, r.creds, MayExec)
}

// dotdot moves cur to its parent, never above root, crossing from a mount's
// root to its mount point.
func (r *resolver) dotdot() {
	vd := r.cur
	for {
		if vd.Equal(r.root) {
			return
		}
		if vd.dentry != vd.mount.root || vd.mount.parent == nil {
			break
		}
		vd = VirtualDentry{mount: vd.mount.parent, dentry: vd.mount.point}
	}
	parent := vd.dentry.parent.Load()
	if parent == nil {
		// The root of a namespace, or of a detached filesystem.
		parent = vd.dentry
	}
	next := VirtualDentry{mount: vd.mount, dentry: parent}
	next.IncRef()
	r.cur.DecRef(r.ctx)
	r.cur = r.vfs.crossMountsLocked(r.ctx, next)
}

// child returns cur's child called name (crossing mounts) with a
// reference.
func (r *resolver) child(name string) (VirtualDentry, error) {
	if len(name) > NameMax {
		return VirtualDentry{}, unix.ENAMETOOLONG
	}
	d, err := r.cur.dentry.lookup(r.ctx, name)
	if err != nil {
		return VirtualDentry{}, err
	}
	r.cur.mount.IncRef()
	return r.vfs.crossMountsLocked(r.ctx, VirtualDentry{mount: r.cur.mount, dentry: d}), nil
}

// isSymlink reports whether vd names a symbolic link.
func isSymlink(vd VirtualDentry) bool {
	return vd.dentry.inode.Mode()&unix.S_IFMT == unix.S_IFLNK
}

// followSymlink continues the walk through link (a reference the resolver
// takes over), whose directory is cur: the target replaces the link in the
// remaining path.
func (r *resolver) followSymlink(link VirtualDentry) error {
	defer link.DecRef(r.ctx)
	r.symlinks++
	if r.symlinks > MaxSymlinkTraversals {
		return unix.ELOOP
	}
	if ml, ok := link.dentry.inode.(MagicLinkInode); ok {
		// Magic links are never walked as text: their Readlink may call
		// back into the VFS, which must not happen under vfs.mu.
		target, err := ml.GetLink(r.ctx)
		if err != nil {
			return err
		}
		if !target.Ok() {
			return unix.ENOENT
		}
		r.cur.DecRef(r.ctx)
		r.cur = target
		return nil
	}
	sl, ok := link.dentry.inode.(SymlinkInode)
	if !ok {
		return unix.EINVAL
	}
	target, err := sl.Readlink(r.ctx)
	if err != nil {
		return err
	}
	if target == "" {
		return unix.ENOENT
	}
	if len(target)+len(r.rest) >= PathMax {
		return unix.ENAMETOOLONG
	}
	r.rest = target + r.rest
	if target[0] == '/' {
		r.root.IncRef()
		r.cur.DecRef(r.ctx)
		r.cur = r.root
	}
	return nil
}

// resolve walks the whole remaining path; cur is then the result.
func (r *resolver) resolve() error {
	for {
		name, final, trailing, ok := r.next()
		if !ok {
			break
		}
		if err := r.checkSearch(); err != nil {
			return err
		}
		if final && trailing {
			r.mustBeDir = true
		}
		switch name {
		case ".":
			continue
		case "..":
			r.dotdot()
			continue
		}
		c, err := r.child(name)
		if err != nil {
			return err
		}
		if isSymlink(c) && (!final || r.follow || trailing) {
			if err := r.followSymlink(c); err != nil {
				return err
			}
			continue
		}
		r.cur.DecRef(r.ctx)
		r.cur = c
	}
	if r.mustBeDir && !r.cur.dentry.isDir() {
		return unix.ENOTDIR
	}
	return nil
}

// resolveParent walks all but the final component, leaving cur at the
// directory that should contain it. It returns the final component's name
// ("" if the path has none, as "/"), and whether it had a trailing slash.
// A final "." or ".." is returned as is, not walked.
func (r *resolver) resolveParent() (name string, trailing bool, err error) {
	for {
		name, final, trailing, ok := r.next()
		if !ok {
			return "", false, nil
		}
		if err := r.checkSearch(); err != nil {
			return "", false, err
		}
		if final {
			if len(name) > NameMax {
				return "", false, unix.ENAMETOOLONG
			}
			return name, trailing, nil
		}
		switch name {
		case ".":
			continue
		case "..":
			r.dotdot()
			continue
		}
		c, err := r.child(name)
		if err != nil {
			return "", false, err
		}
		if isSymlink(c) {
			if err := r.followSymlink(c); err != nil {
				return "", false, err
			}
			continue
		}
		r.cur.DecRef(r.ctx)
		r.cur = c
	}
}

// continueThroughSymlink makes the resolver continue from the final
// component link (with a reference it takes over) found by resolveParent:
// its target, plus a trailing slash if there was one, becomes the rest of
// the path.
func (r *resolver) continueThroughSymlink(link VirtualDentry, trailing bool) error {
	if trailing {
		r.rest = "/"
	}
	return r.followSymlink(link)
}
