package vfs

import (
	"context"
	"strings"

	"golang.org/x/sys/unix"
)

// Walk restrictions for PathOperation.Resolve, with the values of Linux's
// RESOLVE_* flags (openat2(2)).
const (
	// ResolveNoXdev fails a walk that crosses a mount point, in either
	// direction (EXDEV).
	ResolveNoXdev = unix.RESOLVE_NO_XDEV
	// ResolveNoMagicLinks fails a walk through a magic link (ELOOP).
	ResolveNoMagicLinks = unix.RESOLVE_NO_MAGICLINKS
	// ResolveNoSymlinks fails a walk through any symlink (ELOOP).
	ResolveNoSymlinks = unix.RESOLVE_NO_SYMLINKS
	// ResolveBeneath keeps the walk below Start, which must also be Root:
	// absolute paths, absolute symlinks, ".." above Root and magic links
	// fail with EXDEV.
	ResolveBeneath = unix.RESOLVE_BENEATH
	// ResolveInRoot treats Root as the root, as for any walk, and fails
	// magic links with EXDEV.
	ResolveInRoot = unix.RESOLVE_IN_ROOT
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
	// restrict is PathOperation.Resolve.
	restrict uint32
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
	if pop.Resolve&ResolveBeneath != 0 && pop.Path[0] == '/' {
		return nil, unix.EXDEV
	}
	r := &resolver{vfs: vfs, ctx: ctx, creds: credsOf(ctx, "path walk"), root: pop.Root, rest: pop.Path, follow: pop.FollowFinalSymlink, restrict: pop.Resolve}
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
// root to its mount point. With ResolveBeneath, ".." at root fails; with
// ResolveNoXdev, so does a mount crossing.
func (r *resolver) dotdot() error {
	// hold is a reference on a lazily unmounted mount reached from a
	// locked mount kept on it: nothing else keeps it alive.
	var hold *Mount
	defer func() {
		if hold != nil {
			hold.DecRef(r.ctx)
		}
	}()
	vd := r.cur
	stay := false
	for {
		if vd.Equal(r.root) {
			if r.restrict&ResolveBeneath != 0 {
				return unix.EXDEV
			}
			return nil
		}
		if vd.dentry != vd.mount.root {
			break
		}
		p := vd.mount.parent
		if p == nil || (vd.mount.umounted && !p.tryIncRef()) {
			// The root of a namespace or of a detached mount: ".."
			// stays there, even if the mount's root is not its
			// filesystem's (a bind mount of a subdirectory).
			stay = true
			break
		}
		if vd.mount.umounted {
			if hold != nil {
				hold.DecRef(r.ctx)
			}
			hold = p
		}
		vd = VirtualDentry{mount: p, dentry: vd.mount.point}
	}
	parent := vd.dentry.parent.Load()
	if stay || parent == nil {
		parent = vd.dentry
	}
	next := VirtualDentry{mount: vd.mount, dentry: parent}
	next.IncRef()
	next = r.vfs.crossMountsLocked(r.ctx, next)
	if r.restrict&ResolveNoXdev != 0 && next.mount != r.cur.mount {
		next.DecRef(r.ctx)
		return unix.EXDEV
	}
	r.cur.DecRef(r.ctx)
	r.cur = next
	return nil
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
	c := r.vfs.crossMountsLocked(r.ctx, VirtualDentry{mount: r.cur.mount, dentry: d})
	if r.restrict&ResolveNoXdev != 0 && c.mount != r.cur.mount {
		c.DecRef(r.ctx)
		return VirtualDentry{}, unix.EXDEV
	}
	return c, nil
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
	if r.restrict&ResolveNoSymlinks != 0 {
		return unix.ELOOP
	}
	if ml, ok := link.dentry.inode.(MagicLinkInode); ok {
		// As Linux (nd_jump_link): the restrictions are checked in this
		// order, and scoped walks never jump through magic links.
		if r.restrict&ResolveNoMagicLinks != 0 {
			return unix.ELOOP
		}
		// Magic links are never walked as text: their Readlink may call
		// back into the VFS, which must not happen under vfs.mu.
		target, err := ml.GetLink(r.ctx)
		if err != nil {
			return err
		}
		if !target.Ok() {
			return unix.ENOENT
		}
		if r.restrict&ResolveNoXdev != 0 && target.mount != r.cur.mount {
			target.DecRef(r.ctx)
			return unix.EXDEV
		}
		if r.restrict&(ResolveBeneath|ResolveInRoot) != 0 {
			target.DecRef(r.ctx)
			return unix.EXDEV
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
	if target[0] == '/' {
		if r.restrict&ResolveBeneath != 0 {
			return unix.EXDEV
		}
		if r.restrict&ResolveNoXdev != 0 && r.root.mount != r.cur.mount {
			return unix.EXDEV
		}
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
			if err := r.dotdot(); err != nil {
				return err
			}
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
			if err := r.dotdot(); err != nil {
				return "", false, err
			}
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
