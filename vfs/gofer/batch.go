package gofer

import (
	"context"
	"encoding/binary"
	"strings"
	"time"

	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/vfs"
)

// listing is what a directory's recent listing left to look up: the names
// getdents64 returned that were neither cached then nor looked up since.
// Batched lookups take names from it (takeSiblings).
type listing struct {
	// names are in listing order; a name taken is replaced by "".
	names []string
	// pending maps each name not yet taken to its index in names.
	pending map[string]int
	// at is the time of the last getdents64 that added names.
	at time.Time
}

// batchable reports whether a listed name may be sent in a WalkSiblings
// request: a single component the server would accept. getdents64 never
// returns anything else but "." and "..", which the VFS resolves itself.
func batchable(name string) bool {
	return name != "" && name != "." && name != ".." && len(name) <= protocol.MaxNameLen &&
		!strings.ContainsAny(name, "/\x00")
}

// direntNames returns the names of the linux_dirent64 records in b,
// stopping at the first malformed one.
func direntNames(b []byte) []string {
	var names []string
	for len(b) >= direntHeader {
		reclen := int(binary.NativeEndian.Uint16(b[16:]))
		if reclen < direntHeader || reclen > len(b) {
			break
		}
		name := b[direntHeader:reclen]
		for i, c := range name {
			if c == 0 {
				name = name[:i]
				break
			}
		}
		names = append(names, string(name))
		b = b[reclen:]
	}
	return names
}

// noteListing records names, just read from dir by getdents64, for batched
// lookups. fresh says the read started at the beginning of the directory:
// the names replace the previous listing instead of adding to it.
func (fs *filesystem) noteListing(dir *inode, names []string, fresh bool) {
	if fs.batch <= 1 || len(names) == 0 {
		return
	}
	now := time.Now()
	fs.cacheMu.Lock()
	defer fs.cacheMu.Unlock()
	l := dir.listing
	if l == nil || fresh || now.Sub(l.at) > listingTTL {
		fs.dropListingLocked(dir)
		l = &listing{pending: make(map[string]int)}
		dir.listing = l
		fs.listed = append(fs.listed, dir)
		if len(fs.listed) > maxListings {
			fs.dropListingLocked(fs.listed[0])
		}
	} else {
		// Most recently listed last.
		fs.unlistLocked(dir)
		fs.listed = append(fs.listed, dir)
	}
	l.at = now
	for _, n := range names {
		if len(l.pending) >= maxListingNames {
			break
		}
		if !batchable(n) {
			continue
		}
		if _, ok := l.pending[n]; ok {
			continue
		}
		if _, ok := dir.cached[n]; ok {
			continue
		}
		l.pending[n] = len(l.names)
		l.names = append(l.names, n)
	}
	if len(l.pending) == 0 {
		fs.dropListingLocked(dir)
	}
}

// dropListingLocked forgets dir's listing.
//
// Preconditions: fs.cacheMu is held.
func (fs *filesystem) dropListingLocked(dir *inode) {
	if dir.listing == nil {
		return
	}
	dir.listing = nil
	fs.unlistLocked(dir)
}

// unlistLocked removes dir from fs.listed.
//
// Preconditions: fs.cacheMu is held.
func (fs *filesystem) unlistLocked(dir *inode) {
	for i, d := range fs.listed {
		if d == dir {
			fs.listed = append(fs.listed[:i], fs.listed[i+1:]...)
			return
		}
	}
}

// takeSiblings returns the names to walk for a lookup of name in dir that
// missed the cache: name first, then up to fs.batch-1 names that follow it
// in dir's recent listing (wrapping around) and are not cached. They are
// taken out of the listing, so concurrent and later lookups do not ask for
// them again. It returns just name if dir has no recent listing with name
// in it.
func (fs *filesystem) takeSiblings(dir *inode, name string) []string {
	one := []string{name}
	if fs.batch <= 1 {
		return one
	}
	fs.cacheMu.Lock()
	defer fs.cacheMu.Unlock()
	l := dir.listing
	if l == nil {
		return one
	}
	if time.Since(l.at) > listingTTL {
		fs.dropListingLocked(dir)
		return one
	}
	i, ok := l.pending[name]
	if !ok {
		return one
	}
	batch := make([]string, 1, fs.batch)
	batch[0] = name
	l.take(i)
	for j := 1; j < len(l.names) && len(batch) < fs.batch && len(l.pending) > 0; j++ {
		k := (i + j) % len(l.names)
		n := l.names[k]
		if n == "" {
			continue
		}
		l.take(k)
		if _, ok := dir.cached[n]; ok {
			continue
		}
		batch = append(batch, n)
	}
	if len(l.pending) == 0 {
		fs.dropListingLocked(dir)
	} else if len(l.names) > 64 && len(l.names) > 4*len(l.pending) {
		l.compact()
	}
	return batch
}

// take removes the name at index k.
func (l *listing) take(k int) {
	delete(l.pending, l.names[k])
	l.names[k] = ""
}

// compact drops the holes left by taken names, keeping the order.
func (l *listing) compact() {
	names := make([]string, 0, len(l.pending))
	for _, n := range l.names {
		if n != "" {
			l.pending[n] = len(names)
			names = append(names, n)
		}
	}
	l.names = names
}

// lookupBatch walks names (names[0] is the one asked for) in one
// WalkSiblings request, caches every node found, and returns the inode of
// names[0] with a reference for the caller. Every donated descriptor and
// node ends up in an inode (adopt), which owns and releases it.
func (d *inode) lookupBatch(ctx context.Context, names []string) (vfs.Inode, error) {
	fs := d.fs
	res, err := fs.client.WalkSiblings(d.id, names)
	if err != nil {
		// The client owns nothing it did not return.
		return nil, toErrno(err)
	}
	var found *inode
	// Backwards, so that the name asked for ends up most recent in the LRU.
	for i := len(res) - 1; i >= 0; i-- {
		if res[i].Err != nil {
			continue
		}
		c := d.adopt(ctx, names[i], res[i].Node)
		if i == 0 {
			found = c
		} else {
			c.DecRef(ctx)
		}
	}
	if found == nil {
		return nil, toErrno(res[0].Err)
	}
	return found.vfsInode(), nil
}
