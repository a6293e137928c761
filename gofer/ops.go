package gofer

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/gofer/protocol"
)

// checkName validates one path component received from the client. The
// errnos are those Linux gives for the same name in a path, except that "."
// and ".." — which the client must resolve itself — and names containing
// '/' or NUL, which no single component can contain, are EINVAL.
func checkName(name string) unix.Errno {
	switch {
	case name == "":
		return unix.ENOENT
	case len(name) > protocol.MaxNameLen:
		return unix.ENAMETOOLONG
	case name == "." || name == "..":
		return unix.EINVAL
	case strings.ContainsAny(name, "/\x00"):
		return unix.EINVAL
	}
	return 0
}

// errnoOf extracts the errno of a host call's error: 0 for nil, EIO if it
// has none.
func errnoOf(err error) unix.Errno {
	if err == nil {
		return 0
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return unix.EIO
}

// The wrappers below retry EINTR and return the bare errno.

func openat(dirfd int, name string, flags int, mode uint32) (int, error) {
	for {
		fd, err := unix.Openat(dirfd, name, flags, mode)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

func fstat(fd int) (unix.Stat_t, unix.Errno) {
	var st unix.Stat_t
	for {
		err := unix.Fstat(fd, &st)
		if err != unix.EINTR {
			if err != nil {
				return st, errnoOf(err)
			}
			return st, 0
		}
	}
}

// retry runs f until it fails with something other than EINTR.
func retry(f func() error) unix.Errno {
	for {
		err := f()
		if err == nil {
			return 0
		}
		if err != unix.EINTR {
			return errnoOf(err)
		}
	}
}

// pathNode opens name in dir as a new node, pinned for the response, and
// donates its descriptor. want, if non-zero, is the inode the name must
// still designate (ESTALE otherwise).
func (s *server) pathNode(rc *reqCtx, dir *node, name string, want *unix.Stat_t) (protocol.NodeID, protocol.Attr, unix.Errno) {
	fd, err := openat(dir.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, protocol.Attr{}, errnoOf(err)
	}
	st, errno := fstat(fd)
	if errno == 0 && want != nil && (st.Dev != want.Dev || st.Ino != want.Ino) {
		errno = unix.ESTALE
	}
	if errno != 0 {
		unix.Close(fd)
		return 0, protocol.Attr{}, errno
	}
	id, n := s.newNode(dir, name, fd, &st)
	rc.pin(n)
	rc.donate = append(rc.donate, fd)
	return id, protocol.AttrFromStat(&st), 0
}

func (s *server) attach(rc *reqCtx, r *protocol.AttachReq) (protocol.Message, unix.Errno) {
	if r.Version != protocol.Version {
		return nil, unix.EPROTONOSUPPORT
	}
	fd, err := openat(s.rootFD, ".", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errnoOf(err)
	}
	st, errno := fstat(fd)
	if errno != 0 {
		unix.Close(fd)
		return nil, errno
	}
	id, n := s.newNode(nil, "", fd, &st)
	rc.pin(n)
	rc.donate = append(rc.donate, fd)
	var flags uint32
	if s.readOnly {
		flags |= protocol.AttachReadOnly
	}
	return &protocol.AttachResp{Version: protocol.Version, Flags: flags, Node: id, Attr: protocol.AttrFromStat(&st)}, 0
}

func (s *server) walk(rc *reqCtx, r *protocol.WalkReq) (protocol.Message, unix.Errno) {
	cur, errno := s.get(r.Node)
	if errno != 0 {
		return &protocol.WalkResp{}, errno
	}
	rc.pin(cur)
	resp := &protocol.WalkResp{Entries: make([]protocol.WalkEntry, 0, len(r.Names))}
	for _, name := range r.Names {
		if errno := checkName(name); errno != 0 {
			return resp, errno
		}
		if cur.ftype != unix.S_IFDIR {
			return resp, unix.ENOTDIR
		}
		fd, err := openat(cur.fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err != nil {
			return resp, errnoOf(err)
		}
		st, errno := fstat(fd)
		if errno != 0 {
			unix.Close(fd)
			return resp, errno
		}
		id, n := s.newNode(cur, name, fd, &st)
		rc.pin(n)
		rc.donate = append(rc.donate, fd)
		resp.Entries = append(resp.Entries, protocol.WalkEntry{Node: id, Attr: protocol.AttrFromStat(&st)})
		cur = n
	}
	return resp, 0
}

// walkSiblings looks up each name in directory r.Node exactly as a
// one-name walk does (checkName, then openat(dir, name, O_PATH|O_NOFOLLOW)
// and fstat), recording a failure per name instead of stopping: a name
// that is invalid or gone does not hold up its siblings.
func (s *server) walkSiblings(rc *reqCtx, r *protocol.WalkSiblingsReq) (protocol.Message, unix.Errno) {
	dir, errno := s.get(r.Node)
	if errno != 0 {
		return nil, errno
	}
	rc.pin(dir)
	if dir.ftype != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	resp := &protocol.WalkSiblingsResp{Entries: make([]protocol.SiblingEntry, len(r.Names))}
	for i, name := range r.Names {
		e := &resp.Entries[i]
		if e.Errno = checkName(name); e.Errno != 0 {
			continue
		}
		e.Node, e.Attr, e.Errno = s.pathNode(rc, dir, name, nil)
	}
	return resp, 0
}

// reopen opens node n for I/O with flags (without O_TRUNC). Directories are
// re-opened through their own descriptor ("."), which designates exactly
// that directory (O_NOFOLLOW is a no-op there, but runsc gofer's seccomp
// filter requires it on every openat); other files through their parent and name with
// O_NOFOLLOW|O_NONBLOCK, after which the result must be the same inode —
// if the name now designates another file, reopen fails with ESTALE.
// O_NONBLOCK stays set only on FIFOs unless flags asked for it.
func (s *server) reopen(n *node, flags int) (int, unix.Errno) {
	flags |= unix.O_CLOEXEC | unix.O_NOCTTY
	if n.ftype == unix.S_IFDIR {
		fd, err := openat(n.fd, ".", flags|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
		return fd, errnoOf(err)
	}
	p, name := s.parentOf(n)
	if p == nil || name == "" {
		if p != nil {
			s.put(p)
		}
		return -1, unix.ESTALE
	}
	fd, err := openat(p.fd, name, flags|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	s.put(p)
	if err != nil {
		return -1, errnoOf(err)
	}
	st, errno := fstat(fd)
	if errno == 0 && (st.Dev != n.dev || st.Ino != n.ino) {
		errno = unix.ESTALE
	}
	if errno == 0 && n.ftype != unix.S_IFIFO && flags&unix.O_NONBLOCK == 0 {
		errno = retry(func() error {
			fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			if err == nil {
				_, err = unix.FcntlInt(uintptr(fd), unix.F_SETFL, fl&^unix.O_NONBLOCK)
			}
			return err
		})
	}
	if errno != 0 {
		unix.Close(fd)
		return -1, errno
	}
	return fd, 0
}

func (s *server) open(rc *reqCtx, r *protocol.OpenReq) (protocol.Message, unix.Errno) {
	n, errno := s.get(r.Node)
	if errno != 0 {
		return nil, errno
	}
	rc.pin(n)
	flags := int(r.Flags)
	acc := flags & unix.O_ACCMODE
	if flags&^protocol.OpenFlags != 0 || acc == unix.O_ACCMODE {
		return nil, unix.EINVAL
	}
	writes := acc != unix.O_RDONLY || flags&unix.O_TRUNC != 0
	switch n.ftype {
	case unix.S_IFLNK:
		return nil, unix.ELOOP
	case unix.S_IFSOCK:
		return nil, unix.ENXIO
	case unix.S_IFCHR, unix.S_IFBLK:
		// As if the root were mounted nodev: the sandbox brings its own
		// devices and must never reach the host's.
		return nil, unix.EACCES
	case unix.S_IFDIR:
		if writes {
			return nil, unix.EISDIR
		}
	case unix.S_IFREG:
		if flags&unix.O_DIRECTORY != 0 {
			return nil, unix.ENOTDIR
		}
		if writes && s.readOnly {
			return nil, unix.EROFS
		}
	case unix.S_IFIFO:
		if flags&unix.O_DIRECTORY != 0 {
			return nil, unix.ENOTDIR
		}
		// A FIFO is written through, not stored: writable even when
		// the file system is read-only, as on Linux.
	default:
		return nil, unix.EINVAL
	}
	fd, errno := s.reopen(n, flags&^unix.O_TRUNC)
	if errno != 0 {
		return nil, errno
	}
	rc.giveFD(fd)
	if flags&unix.O_TRUNC != 0 && n.ftype == unix.S_IFREG {
		// Truncate only once the descriptor is known to be this node.
		if errno := retry(func() error { return unix.Ftruncate(fd, 0) }); errno != 0 {
			return nil, errno
		}
	}
	st, errno := fstat(fd)
	if errno != 0 {
		return nil, errno
	}
	return protocol.NewAttrResp(protocol.MsgOpen, protocol.AttrFromStat(&st)), 0
}

func (s *server) stat(rc *reqCtx, r *protocol.StatReq) (protocol.Message, unix.Errno) {
	n, errno := s.get(r.Node)
	if errno != 0 {
		return nil, errno
	}
	rc.pin(n)
	st, errno := fstat(n.fd)
	if errno != 0 {
		return nil, errno
	}
	return protocol.NewAttrResp(protocol.MsgStat, protocol.AttrFromStat(&st)), 0
}

func (s *server) readlink(rc *reqCtx, r *protocol.ReadlinkReq) (protocol.Message, unix.Errno) {
	n, errno := s.get(r.Node)
	if errno != 0 {
		return nil, errno
	}
	rc.pin(n)
	if n.ftype != unix.S_IFLNK {
		return nil, unix.EINVAL
	}
	buf := make([]byte, protocol.MaxPathLen+1)
	var k int
	errno = retry(func() error {
		var err error
		k, err = unix.Readlinkat(n.fd, "", buf)
		return err
	})
	if errno != 0 {
		return nil, errno
	}
	if k > protocol.MaxPathLen {
		return nil, unix.ENAMETOOLONG
	}
	return &protocol.ReadlinkResp{Target: string(buf[:k])}, 0
}

// dirAndName resolves the directory of a mutation and validates the name.
func (s *server) dirAndName(rc *reqCtx, dir protocol.NodeID, name string) (*node, unix.Errno) {
	d, errno := s.get(dir)
	if errno != 0 {
		return nil, errno
	}
	rc.pin(d)
	if d.ftype != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	if errno := checkName(name); errno != 0 {
		return nil, errno
	}
	return d, 0
}

// chown sets the owner of the file designated by the O_PATH descriptor fd,
// without following it if it is a symlink. NoID fields are left unchanged.
func chown(fd int, uid, gid uint32) unix.Errno {
	if uid == protocol.NoID && gid == protocol.NoID {
		return 0
	}
	return retry(func() error {
		return unix.Fchownat(fd, "", int(int32(uid)), int(int32(gid)), unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW)
	})
}

func (s *server) create(rc *reqCtx, r *protocol.CreateReq) (protocol.Message, unix.Errno) {
	d, errno := s.dirAndName(rc, r.Dir, r.Name)
	if errno != 0 {
		return nil, errno
	}
	flags := int(r.Flags)
	if flags&^protocol.CreateFlags != 0 || flags&unix.O_ACCMODE == unix.O_ACCMODE {
		return nil, unix.EINVAL
	}
	mode := r.Mode & 0o7777
	fd, err := openat(d.fd, r.Name, flags|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NOCTTY, mode)
	if err != nil {
		return nil, errnoOf(err)
	}
	rc.giveFD(fd)
	st, errno := fstat(fd)
	if errno == 0 {
		// The process umask may have cleared bits.
		errno = retry(func() error { return unix.Fchmod(fd, mode) })
	}
	if errno == 0 {
		errno = chown(fd, r.UID, r.GID)
	}
	if errno != 0 {
		unix.Unlinkat(d.fd, r.Name, 0)
		return nil, errno
	}
	// On ESTALE the name is no longer the file just created: leave it.
	id, attr, errno := s.pathNode(rc, d, r.Name, &st)
	if errno != 0 {
		return nil, errno
	}
	return protocol.NewNodeResp(protocol.MsgCreate, id, attr), 0
}

func (s *server) mkdir(rc *reqCtx, r *protocol.MkdirReq) (protocol.Message, unix.Errno) {
	d, errno := s.dirAndName(rc, r.Dir, r.Name)
	if errno != 0 {
		return nil, errno
	}
	mode := r.Mode & 0o7777
	if errno := retry(func() error { return unix.Mkdirat(d.fd, r.Name, mode) }); errno != 0 {
		return nil, errno
	}
	id, attr, errno := s.pathNode(rc, d, r.Name, nil)
	if errno == 0 {
		fd := rc.donate[len(rc.donate)-1]
		// "." through the new directory's own descriptor designates
		// exactly it; the process umask may have cleared bits.
		errno = retry(func() error { return unix.Fchmodat(fd, ".", mode, 0) })
		if errno == 0 {
			errno = chown(fd, r.UID, r.GID)
		}
		if errno == 0 {
			var st unix.Stat_t
			st, errno = fstat(fd)
			attr = protocol.AttrFromStat(&st)
		}
	}
	if errno != 0 {
		s.forget(id)
		unix.Unlinkat(d.fd, r.Name, unix.AT_REMOVEDIR)
		return nil, errno
	}
	return protocol.NewNodeResp(protocol.MsgMkdir, id, attr), 0
}

func (s *server) symlink(rc *reqCtx, r *protocol.SymlinkReq) (protocol.Message, unix.Errno) {
	d, errno := s.dirAndName(rc, r.Dir, r.Name)
	if errno != 0 {
		return nil, errno
	}
	if r.Target == "" || strings.IndexByte(r.Target, 0) >= 0 {
		return nil, unix.ENOENT
	}
	if errno := retry(func() error { return unix.Symlinkat(r.Target, d.fd, r.Name) }); errno != 0 {
		return nil, errno
	}
	id, attr, errno := s.pathNode(rc, d, r.Name, nil)
	if errno == 0 {
		fd := rc.donate[len(rc.donate)-1]
		errno = chown(fd, r.UID, r.GID)
		if errno == 0 {
			var st unix.Stat_t
			st, errno = fstat(fd)
			attr = protocol.AttrFromStat(&st)
		}
	}
	if errno != 0 {
		s.forget(id)
		unix.Unlinkat(d.fd, r.Name, 0)
		return nil, errno
	}
	return protocol.NewNodeResp(protocol.MsgSymlink, id, attr), 0
}

func (s *server) link(rc *reqCtx, r *protocol.LinkReq) (protocol.Message, unix.Errno) {
	d, errno := s.dirAndName(rc, r.Dir, r.Name)
	if errno != 0 {
		return nil, errno
	}
	t, errno := s.get(r.Target)
	if errno != 0 {
		return nil, errno
	}
	rc.pin(t)
	if t.ftype == unix.S_IFDIR {
		return nil, unix.EPERM
	}
	// AT_EMPTY_PATH links exactly the inode of t.fd, but needs
	// CAP_DAC_READ_SEARCH; without it, link by parent and name and check
	// the inode afterwards.
	errno = retry(func() error { return unix.Linkat(t.fd, "", d.fd, r.Name, unix.AT_EMPTY_PATH) })
	if errno == unix.ENOENT || errno == unix.EPERM {
		p, name := s.parentOf(t)
		if p == nil || name == "" {
			if p != nil {
				s.put(p)
			}
			return nil, unix.ESTALE
		}
		errno = retry(func() error { return unix.Linkat(p.fd, name, d.fd, r.Name, 0) })
		s.put(p)
	}
	if errno != 0 {
		return nil, errno
	}
	// On ESTALE the name is no longer the link just made: leave it.
	id, attr, errno := s.pathNode(rc, d, r.Name, &unix.Stat_t{Dev: t.dev, Ino: t.ino})
	if errno != 0 {
		return nil, errno
	}
	return protocol.NewNodeResp(protocol.MsgLink, id, attr), 0
}

func (s *server) unlink(rc *reqCtx, r *protocol.UnlinkReq) unix.Errno {
	d, errno := s.dirAndName(rc, r.Dir, r.Name)
	if errno != 0 {
		return errno
	}
	if r.Flags&^protocol.UnlinkFlags != 0 {
		return unix.EINVAL
	}
	if errno := retry(func() error { return unix.Unlinkat(d.fd, r.Name, int(r.Flags)) }); errno != 0 {
		return errno
	}
	s.removed(d, r.Name)
	return 0
}

func (s *server) rename(rc *reqCtx, r *protocol.RenameReq) unix.Errno {
	od, errno := s.dirAndName(rc, r.OldDir, r.OldName)
	if errno != 0 {
		return errno
	}
	nd, errno := s.dirAndName(rc, r.NewDir, r.NewName)
	if errno != 0 {
		return errno
	}
	if r.Flags&^protocol.RenameFlags != 0 || r.Flags == protocol.RenameFlags {
		return unix.EINVAL
	}
	if errno := retry(func() error { return unix.Renameat2(od.fd, r.OldName, nd.fd, r.NewName, uint(r.Flags)) }); errno != 0 {
		return errno
	}
	s.renamed(od, r.OldName, nd, r.NewName, r.Flags)
	return 0
}

func (s *server) setAttr(rc *reqCtx, r *protocol.SetAttrReq) (protocol.Message, unix.Errno) {
	n, errno := s.get(r.Node)
	if errno != 0 {
		return nil, errno
	}
	rc.pin(n)
	if r.Mask&^protocol.SetAttrAll != 0 {
		return nil, unix.EINVAL
	}
	if r.Mask&protocol.SetAttrMode != 0 {
		if errno := s.chmod(n, r.Mode&0o7777); errno != 0 {
			return nil, errno
		}
	}
	uid, gid := protocol.NoID, protocol.NoID
	if r.Mask&protocol.SetAttrUID != 0 {
		uid = r.UID
	}
	if r.Mask&protocol.SetAttrGID != 0 {
		gid = r.GID
	}
	if errno := chown(n.fd, uid, gid); errno != 0 {
		return nil, errno
	}
	if r.Mask&protocol.SetAttrSize != 0 {
		switch {
		case n.ftype == unix.S_IFDIR:
			return nil, unix.EISDIR
		case n.ftype != unix.S_IFREG || r.Size < 0:
			return nil, unix.EINVAL
		}
		fd, errno := s.reopen(n, unix.O_WRONLY)
		if errno != 0 {
			return nil, errno
		}
		errno = retry(func() error { return unix.Ftruncate(fd, r.Size) })
		unix.Close(fd)
		if errno != 0 {
			return nil, errno
		}
	}
	if r.Mask&(protocol.SetAttrAtime|protocol.SetAttrMtime|protocol.SetAttrAtimeNow|protocol.SetAttrMtimeNow) != 0 {
		ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
		switch {
		case r.Mask&protocol.SetAttrAtimeNow != 0:
			ts[0].Nsec = unix.UTIME_NOW
		case r.Mask&protocol.SetAttrAtime != 0:
			ts[0] = unix.NsecToTimespec(r.Atime)
		}
		switch {
		case r.Mask&protocol.SetAttrMtimeNow != 0:
			ts[1].Nsec = unix.UTIME_NOW
		case r.Mask&protocol.SetAttrMtime != 0:
			ts[1] = unix.NsecToTimespec(r.Mtime)
		}
		// AT_EMPTY_PATH on the O_PATH descriptor (Linux 5.8+) sets the
		// times of exactly this file, symlink or not.
		if errno := retry(func() error { return unix.UtimesNanoAt(n.fd, "", ts, unix.AT_EMPTY_PATH|unix.AT_SYMLINK_NOFOLLOW) }); errno != 0 {
			return nil, errno
		}
	}
	st, errno := fstat(n.fd)
	if errno != 0 {
		return nil, errno
	}
	return protocol.NewAttrResp(protocol.MsgSetAttr, protocol.AttrFromStat(&st)), 0
}

// chmod sets the permission bits of exactly node n: fchmodat2 with
// AT_EMPTY_PATH on its O_PATH descriptor (Linux 6.6+), else through a
// directory's "." or a regular file re-opened and checked by reopen.
func (s *server) chmod(n *node, mode uint32) unix.Errno {
	errno := retry(func() error { return unix.Fchmodat(n.fd, "", mode, unix.AT_EMPTY_PATH) })
	if errno != unix.EOPNOTSUPP && errno != unix.ENOSYS && errno != unix.EINVAL {
		return errno
	}
	switch n.ftype {
	case unix.S_IFDIR:
		return retry(func() error { return unix.Fchmodat(n.fd, ".", mode, 0) })
	case unix.S_IFREG:
		fd, errno := s.reopen(n, unix.O_RDONLY)
		if errno != 0 {
			return errno
		}
		defer unix.Close(fd)
		return retry(func() error { return unix.Fchmod(fd, mode) })
	}
	return unix.EOPNOTSUPP
}
