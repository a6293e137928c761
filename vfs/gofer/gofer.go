// Package gofer is the client side of the gofer protocol: a filesystem
// whose files live on the host and are reached only through a gofer
// server (package gofer, over gofer/protocol). Lookups become Walk
// requests; opening a file asks the server for a host descriptor, which the
// Sentry then reads and writes directly (pread/pwrite, getdents64); symlink
// targets and attributes come from the O_PATH descriptor the server donated
// with each node (readlinkat(fd, ""), fstat). The Sentry itself never opens
// a host path.
//
// The main types are filesystem (a vfs.FilesystemImpl, one per gofer
// connection), inode (one server node), and regularFile / dirFile (open
// file descriptions).
//
// Caching: the VFS keeps only referenced dentries, so the filesystem keeps
// its own bounded LRU of looked-up children (lookupCache), which holds inode
// references. Cached entries are revalidated cheaply on use: an entry whose
// file has no links left (fstat of its O_PATH descriptor) is dropped. A
// file renamed or replaced on the host behind the Sentry's back is not
// noticed until it is evicted; the container root is expected to be
// changed only through the Sentry.
//
// Batched lookups: when a directory is listed (dirFile reads it with
// getdents64), the names it returned are recorded on the directory's inode
// (listing; bounded per directory, at most maxListings directories, and
// forgotten after listingTTL). A lookup that misses the cache for a name of
// a recent listing walks that name and up to BatchLookups-1 other uncached
// names that follow it in the listing with one WalkSiblings request, and
// caches them all: `ls -l` of a directory of a thousand entries costs about
// ten round trips to the gofer instead of a thousand. Lookups of names not
// in a recent listing are single Walks as before.
//
// Inode numbers: files on the root's host device keep their host inode
// numbers; files on other host devices (mount points inside the root) get
// numbers from a per-filesystem table, so (st_dev, st_ino) stays unique
// under the filesystem's single anonymous device.
//
// Lock order (all are leaves except as shown):
//
//	dirFile.mu
//	  inode.mu
//	  filesystem.inoMu
//	  filesystem.cacheMu (also guards every inode's listing)
//	filesystem.closeMu
//	inode.mu
//	  (host calls on the inode's descriptors)
package gofer

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/gofer/protocol"
	"github.com/palisade-sandbox/palisade/vfs"
)

// Name is the filesystem type name shown in /proc/mounts.
const Name = "9p"

// Options configure a gofer filesystem.
type Options struct {
	// CacheSize bounds the lookup cache (entries); 0 means
	// DefaultCacheSize, negative disables the cache.
	CacheSize int

	// BatchLookups is the most names a lookup in a recently listed
	// directory walks at once (the name asked for and its uncached
	// siblings); 0 means DefaultBatchLookups, and 1 or less disables
	// batching. It is further limited to a quarter of the cache and to
	// protocol.MaxSiblingNames per request.
	BatchLookups int
}

// DefaultCacheSize is the default number of cached lookups.
const DefaultCacheSize = 4096

// DefaultBatchLookups is the default of Options.BatchLookups.
const DefaultBatchLookups = protocol.MaxSiblingNames

// Bounds of the listings recorded for batched lookups.
const (
	// maxListingNames bounds the names recorded per directory.
	maxListingNames = 4096
	// maxListings bounds the directories with a recorded listing; the
	// least recently listed one loses its listing first.
	maxListings = 16
	// listingTTL is how long after its last getdents64 a listing is used.
	listingTTL = 5 * time.Second
)

// closeBatch is the number of released nodes queued before a Close request.
const closeBatch = 64

// filesystem is one gofer-backed filesystem instance.
type filesystem struct {
	client *protocol.Client
	// dev is the anonymous device reported as st_dev. Immutable.
	dev uint64
	// rootDev is the host device of the root. Immutable.
	rootDev uint64
	// readOnly is true if the server refuses mutations. Immutable.
	readOnly bool

	// cacheMu guards lru and every inode's cached map.
	cacheMu sync.Mutex
	// cacheSize is the capacity of the lookup cache. Immutable.
	cacheSize int
	// lru orders cached lookups, most recent at the front. Each element is
	// a *cacheEntry holding a reference on its child inode; it is also
	// indexed by name in its directory's inode.cached map.
	lru list.List
	// batch is the most names one lookup walks (1: no batching).
	// Immutable.
	batch int
	// listed are the directories with a listing, least recently listed
	// first (at most maxListings). Protected by cacheMu.
	listed []*inode

	// inoMu guards inos and nextIno.
	inoMu sync.Mutex
	// inos maps host (dev, ino) pairs off the root device to inode numbers.
	inos map[devIno]uint64
	// nextIno is the next number handed out for inos.
	nextIno uint64

	// closeMu guards toClose.
	closeMu sync.Mutex
	// toClose are released nodes not yet closed on the server.
	toClose []protocol.NodeID
}

// cacheEntry is one cached lookup: child is named name in dir.
type cacheEntry struct {
	dir   *inode
	name  string
	child *inode
}

type devIno struct {
	dev, ino uint64
}

var _ vfs.FilesystemImpl = (*filesystem)(nil)

// NewFilesystem attaches to the server behind client and returns a
// vfs.Filesystem (with one reference, the caller's) rooted at the server's
// root, and whether the server is read-only (mount it MS_RDONLY then). The
// client must stay open until the filesystem is released; Release does not
// close it.
func NewFilesystem(ctx context.Context, client *protocol.Client, opts Options) (*vfs.Filesystem, bool, error) {
	root, readOnly, err := client.Attach()
	if err != nil {
		return nil, false, toErrno(err)
	}
	fs := &filesystem{
		client:    client,
		dev:       vfs.AnonDevice(),
		rootDev:   root.Attr.Dev,
		readOnly:  readOnly,
		cacheSize: opts.CacheSize,
		inos:      make(map[devIno]uint64),
		nextIno:   1 << 62,
	}
	if fs.cacheSize == 0 {
		fs.cacheSize = DefaultCacheSize
	}
	fs.batch = opts.BatchLookups
	if fs.batch == 0 {
		fs.batch = DefaultBatchLookups
	}
	// Never prefetch more than a quarter of the cache at once.
	fs.batch = min(fs.batch, protocol.MaxSiblingNames, fs.cacheSize/4)
	if fs.batch < 1 {
		fs.batch = 1
	}
	if !root.Attr.IsDir() {
		unix.Close(root.FD)
		client.CloseNodes([]protocol.NodeID{root.ID})
		return nil, false, unix.ENOTDIR
	}
	return vfs.NewFilesystem(fs, fs.newInode(root).vfsInode()), readOnly, nil
}

// Name implements vfs.FilesystemImpl.
func (fs *filesystem) Name() string { return Name }

// Release implements vfs.FilesystemImpl: it drops the lookup cache and
// closes every remaining node on the server.
func (fs *filesystem) Release(ctx context.Context) {
	fs.cacheMu.Lock()
	var drop []*inode
	for e := fs.lru.Front(); e != nil; e = e.Next() {
		ce := e.Value.(*cacheEntry)
		ce.dir.cached = nil
		drop = append(drop, ce.child)
	}
	fs.lru.Init()
	for _, d := range fs.listed {
		d.listing = nil
	}
	fs.listed = nil
	fs.cacheMu.Unlock()
	for _, i := range drop {
		i.DecRef(ctx)
	}
	fs.flushClose(true)
}

// toErrno maps a client error to the errno the guest sees: server errnos
// pass through; a dead or confused connection is EIO.
func toErrno(err error) error {
	if err == nil {
		return nil
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// inoFor returns the inode number reported for host file (dev, ino).
func (fs *filesystem) inoFor(dev, ino uint64) uint64 {
	if dev == fs.rootDev {
		return ino
	}
	fs.inoMu.Lock()
	defer fs.inoMu.Unlock()
	k := devIno{dev, ino}
	n, ok := fs.inos[k]
	if !ok {
		n = fs.nextIno
		fs.nextIno++
		fs.inos[k] = n
	}
	return n
}

// cached returns the cached child name of dir, with a new reference, or nil.
func (fs *filesystem) cached(dir *inode, name string) *inode {
	fs.cacheMu.Lock()
	defer fs.cacheMu.Unlock()
	e, ok := dir.cached[name]
	if !ok {
		return nil
	}
	fs.lru.MoveToFront(e)
	c := e.Value.(*cacheEntry).child
	c.IncRef()
	return c
}

// remember caches child as dir's child name, taking a new reference on it.
func (fs *filesystem) remember(ctx context.Context, dir *inode, name string, child *inode) {
	if fs.cacheSize < 0 {
		return
	}
	child.IncRef()
	var drop []*inode
	fs.cacheMu.Lock()
	if old, ok := dir.cached[name]; ok {
		drop = append(drop, fs.removeLocked(old))
	}
	if dir.cached == nil {
		dir.cached = make(map[string]*list.Element)
	}
	dir.cached[name] = fs.lru.PushFront(&cacheEntry{dir: dir, name: name, child: child})
	for fs.lru.Len() > fs.cacheSize {
		drop = append(drop, fs.removeLocked(fs.lru.Back()))
	}
	fs.cacheMu.Unlock()
	for _, c := range drop {
		c.DecRef(ctx)
	}
}

// removeLocked removes e from the cache and returns its child, whose
// reference the caller must drop (without holding cacheMu).
//
// Preconditions: fs.cacheMu is held.
func (fs *filesystem) removeLocked(e *list.Element) *inode {
	ce := fs.lru.Remove(e).(*cacheEntry)
	delete(ce.dir.cached, ce.name)
	return ce.child
}

// forget drops the cached child name of dir, if any.
func (fs *filesystem) forget(ctx context.Context, dir *inode, name string) {
	fs.cacheMu.Lock()
	var child *inode
	if e, ok := dir.cached[name]; ok {
		child = fs.removeLocked(e)
	}
	fs.cacheMu.Unlock()
	if child != nil {
		child.DecRef(ctx)
	}
}

// forgetDir drops every cached child of dir, and its listing (when dir
// itself goes away).
func (fs *filesystem) forgetDir(ctx context.Context, dir *inode) {
	var drop []*inode
	fs.cacheMu.Lock()
	fs.dropListingLocked(dir)
	for _, e := range dir.cached {
		drop = append(drop, fs.removeLocked(e))
	}
	fs.cacheMu.Unlock()
	for _, c := range drop {
		c.DecRef(ctx)
	}
}

// releaseNode queues id for closing on the server, sending a batch when
// enough have accumulated.
func (fs *filesystem) releaseNode(id protocol.NodeID) {
	fs.closeMu.Lock()
	fs.toClose = append(fs.toClose, id)
	fs.closeMu.Unlock()
	fs.flushClose(false)
}

// flushClose sends the queued Close requests if there are at least
// closeBatch of them, or any if all is set.
func (fs *filesystem) flushClose(all bool) {
	fs.closeMu.Lock()
	if len(fs.toClose) == 0 || (!all && len(fs.toClose) < closeBatch) {
		fs.closeMu.Unlock()
		return
	}
	ids := fs.toClose
	fs.toClose = nil
	fs.closeMu.Unlock()
	// An error means the connection is gone, and the server's nodes with
	// it; EBADF would be a client bug with no guest-visible effect.
	_ = fs.client.CloseNodes(ids)
}
