package vfs

import (
	"context"
	"slices"
)

// ReleaseMountsForTest takes apart every mount tree of vfs, as the end of
// their namespaces' last users would, so that a test can check
// (refs.CheckLeaks) that nothing else is left. Every attached mount is
// detached and loses its tree reference (except the locked mounts a lazy
// unmount kept on their parent, whose reference the parent drops with its
// last); so does the root mount of each of roots that is still a tree's
// root (a namespace's, a copied tree's, or a new root after pivot_root).
func (vfs *VirtualFilesystem) ReleaseMountsForTest(ctx context.Context, roots ...VirtualDentry) {
	vfs.mu.Lock()
	var points []*Dentry
	var trees []*Mount
	attached := make(map[*Mount]bool)
	for _, m := range vfs.mounts {
		attached[m] = true
		kept := m.parent.umounted && slices.Contains(m.parent.kept, m)
		points = append(points, vfs.detachLocked(m))
		if !kept {
			trees = append(trees, m)
		}
	}
	for _, vd := range roots {
		if m := vd.mount; !attached[m] && !m.umounted && !slices.Contains(trees, m) {
			trees = append(trees, m)
		}
	}
	vfs.keptParents = nil
	vfs.mu.Unlock()
	for _, d := range points {
		d.DecRef(ctx)
	}
	for _, m := range trees {
		m.DecRef(ctx)
	}
}
