package ipc

import (
	"context"
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/memory"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/tmpfs"
)

// SegmentMemory is where segments' pages live (the kernel's memory file).
type SegmentMemory = tmpfs.MemoryFile

// Segment is a shared memory segment. Linux: struct shmid_kernel. Its
// pages are those of an unlinked tmpfs file (as Linux's shm files), taken
// page by page when first touched, so a large segment costs nothing until
// used. The segment is the mm.SharedMappable of every attachment: each
// VMA holds one reference, which is what nattch counts.
type Segment struct {
	object
	ns   *Namespace
	size uint64
	file *vfs.FileDescription
	tr   interface {
		Translate(off, length uint64) (memory.Range, error)
	}
	// All below are protected by ns.mu.
	nattch              int64
	atime, dtime, ctime int64
	cpid, lpid          int32
}

var _ mm.SharedMappable = (*Segment)(nil)

// ReadAt implements mm.Mappable.ReadAt.
func (s *Segment) ReadAt(dst []byte, off int64) (int, error) {
	return s.file.PRead(context.Background(), dst, off)
}

// Translate implements mm.SharedMappable.Translate.
func (s *Segment) Translate(off, length uint64) (memory.Range, error) {
	return s.tr.Translate(off, length)
}

// IncRef implements mm.Mappable.IncRef: one more attachment.
func (s *Segment) IncRef() {
	s.ns.mu.Lock()
	s.nattch++
	s.ns.mu.Unlock()
}

// DecRef implements mm.Mappable.DecRef: an attachment goes; the last one
// of a removed segment destroys it.
func (s *Segment) DecRef() {
	s.ns.mu.Lock()
	s.nattch--
	destroy := s.nattch == 0 && s.perm.Mode&ShmDest != 0
	if destroy {
		s.ns.destroySegmentLocked(s)
	}
	s.ns.mu.Unlock()
	if destroy {
		s.file.DecRef(context.Background())
	}
}

// Name implements mm.Mappable.Name, as Linux shows a segment in maps.
func (s *Segment) Name() string { return fmt.Sprintf("/SYSV%08x (deleted)", uint32(s.perm.Key)) }

// DeviceInode implements mm.Mappable.DeviceInode.
func (s *Segment) DeviceInode() (uint64, uint64) {
	st, err := s.file.Stat(context.Background())
	if err != nil {
		return 0, 0
	}
	return unix.Mkdev(st.Dev_major, st.Dev_minor), uint64(s.id)
}

// destroySegmentLocked forgets s; the caller releases its file.
//
// Preconditions: ns.mu is held.
func (ns *Namespace) destroySegmentLocked(s *Segment) {
	if !s.removed {
		ns.shms.remove(&s.object)
	}
	s.removed = true
	ns.shmTotPages -= (s.size + pageSize - 1) / pageSize
}

// Shmget implements shmget(2).
func (ns *Namespace) Shmget(ctx context.Context, c *Creds, key int32, size uint64, flags int32) (int32, error) {
	if flags&ShmHugeTLB != 0 {
		// No huge pages in the Sentry's memory file.
		return 0, unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if key != IPCPrivate {
		if idx, ok := ns.shms.keyIndex(key); ok {
			s := ns.shms.objs[idx]
			if flags&IPCCreat != 0 && flags&IPCExcl != 0 {
				return 0, unix.EEXIST
			}
			if !s.perm.check(c, uint16(flags)) {
				return 0, unix.EACCES
			}
			if size > s.size {
				return 0, unix.EINVAL
			}
			return s.id, nil
		}
		if flags&IPCCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	l := ns.limits
	if size < 1 || size > l.ShmMax {
		return 0, unix.EINVAL
	}
	pages := size/pageSize + min(size%pageSize, 1)
	if ns.shmTotPages+pages < ns.shmTotPages || ns.shmTotPages+pages > l.ShmAll {
		return 0, unix.ENOSPC
	}
	idx := ns.shms.allocIndex(int(min(l.ShmMNI, IPCMNI)))
	if idx < 0 {
		return 0, unix.ENOSPC
	}
	f, err := tmpfs.NewMemfd(ctx, ns.mem, tmpfs.MemfdOptions{Name: fmt.Sprintf("SYSV%08x", uint32(key)), Mode: 0o666, Seals: unix.F_SEAL_SEAL})
	if err != nil {
		return 0, err
	}
	if err := f.SetStat(ctx, vfs.SetStatOptions{Mask: unix.STATX_SIZE, Size: size}); err != nil {
		f.DecRef(ctx)
		if err == unix.EFBIG {
			err = unix.ENOMEM
		}
		return 0, err
	}
	tr, ok := f.Impl().(interface {
		Translate(off, length uint64) (memory.Range, error)
	})
	if !ok {
		f.DecRef(ctx)
		return 0, unix.ENOMEM
	}
	s := &Segment{ns: ns, size: size, file: f, tr: tr, cpid: c.PID, ctime: now()}
	s.perm = Perm{Key: key, UID: c.UID, GID: c.GID, CUID: c.UID, CGID: c.GID, Mode: uint16(flags & 0o777)}
	ns.shmTotPages += pages
	return ns.shms.add(idx, key, s, &s.object), nil
}

func (r *registry[T]) keyIndex(key int32) (int32, bool) {
	i, ok := r.keys[key]
	return i, ok
}

func shmObj(s *Segment) *object { return &s.object }

// Shmat implements shmat(2) in m, the caller's address space.
func (ns *Namespace) Shmat(c *Creds, m *mm.MemoryManager, id int32, addr uint64, flags int32) (uint64, error) {
	if id < 0 {
		return 0, unix.EINVAL
	}
	fixed := addr != 0
	if fixed {
		if addr&(pageSize-1) != 0 {
			if flags&ShmRnd == 0 {
				return 0, unix.EINVAL
			}
			addr &^= pageSize - 1
			if addr == 0 && flags&ShmRemap != 0 {
				return 0, unix.EINVAL
			}
			fixed = addr != 0
		}
	} else if flags&ShmRemap != 0 {
		return 0, unix.EINVAL
	}
	want := uint16(permRead)
	perms := platform.Access{Read: true}
	maxPerms := platform.Access{Read: true, Execute: true}
	if flags&ShmRdonly == 0 {
		want |= permWrite
		perms.Write = true
		maxPerms.Write = true
	}
	if flags&ShmExec != 0 {
		want |= permExec
		perms.Execute = true
	}
	ns.mu.Lock()
	s, ok := ns.shms.lookup(id, shmObj)
	if !ok {
		ns.mu.Unlock()
		return 0, unix.EINVAL
	}
	if !s.perm.check(c, want) {
		ns.mu.Unlock()
		return 0, unix.EACCES
	}
	// Pinned as an attachment while mapping, as Linux does.
	s.nattch++
	size := s.size
	ns.mu.Unlock()
	defer s.DecRef()

	a, err := m.MMap(mm.MMapOpts{
		Addr: addr, Length: size,
		Fixed: fixed, NoReplace: fixed && flags&ShmRemap == 0,
		Perms: perms, MaxPerms: maxPerms,
		File: s,
	})
	if err == unix.EEXIST {
		// Without SHM_REMAP an attachment over a mapping is EINVAL.
		err = unix.EINVAL
	}
	if err != nil {
		return 0, err
	}
	ns.mu.Lock()
	s.atime, s.lpid = now(), c.PID
	ns.mu.Unlock()
	return a, nil
}

// Shmdt implements shmdt(2).
func (ns *Namespace) Shmdt(c *Creds, m *mm.MemoryManager, addr uint64) error {
	var seg *Segment
	err := m.DetachAt(addr, func(f mm.Mappable) (uint64, bool) {
		s, ok := f.(*Segment)
		if !ok || s.ns != ns {
			return 0, false
		}
		seg = s
		return s.size, true
	})
	if err != nil {
		return err
	}
	ns.mu.Lock()
	seg.dtime, seg.lpid = now(), c.PID
	ns.mu.Unlock()
	return nil
}

// ShmidDS is struct shmid64_ds as it crosses into guest memory (112 bytes
// on amd64).
const shmidDSSize = 112

func putPerm(b []byte, p *Perm) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(p.Key))
	le.PutUint32(b[4:], p.UID)
	le.PutUint32(b[8:], p.GID)
	le.PutUint32(b[12:], p.CUID)
	le.PutUint32(b[16:], p.CGID)
	le.PutUint32(b[20:], uint32(p.Mode))
	le.PutUint16(b[24:], p.Seq)
}

// getSet reads IPC_SET's uid, gid and mode from an ipc64_perm.
func getSet(b []byte) (uid, gid uint32, mode uint16) {
	le := binary.LittleEndian
	return le.Uint32(b[4:]), le.Uint32(b[8:]), uint16(le.Uint32(b[20:]))
}

func (s *Segment) statLocked() []byte {
	b := make([]byte, shmidDSSize)
	le := binary.LittleEndian
	putPerm(b, &s.perm)
	le.PutUint64(b[48:], s.size)
	le.PutUint64(b[56:], uint64(s.atime))
	le.PutUint64(b[64:], uint64(s.dtime))
	le.PutUint64(b[72:], uint64(s.ctime))
	le.PutUint32(b[80:], uint32(s.cpid))
	le.PutUint32(b[84:], uint32(s.lpid))
	le.PutUint64(b[88:], uint64(s.nattch))
	return b
}

// Memory is the guest memory a ctl call reads and writes.
type Memory interface {
	CopyIn(addr uint64, dst []byte) (int, error)
	CopyOut(addr uint64, src []byte) (int, error)
}

func copyOut(m Memory, addr uint64, b []byte) error {
	if _, err := m.CopyOut(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

func copyIn(m Memory, addr uint64, b []byte) error {
	if _, err := m.CopyIn(addr, b); err != nil {
		return unix.EFAULT
	}
	return nil
}

// Shmctl implements shmctl(2); buf is the struct's guest address.
func (ns *Namespace) Shmctl(c *Creds, mem Memory, id, cmd int32, buf uint64) (int32, error) {
	cmd &^= IPC64
	if cmd < 0 || id < 0 {
		return 0, unix.EINVAL
	}
	switch cmd {
	case IPCInfo:
		ns.mu.Lock()
		l, maxIdx := ns.limits, ns.shms.maxIndex()
		ns.mu.Unlock()
		b := make([]byte, 72)
		le := binary.LittleEndian
		le.PutUint64(b[0:], l.ShmMax)
		le.PutUint64(b[8:], 1)
		le.PutUint64(b[16:], l.ShmMNI)
		le.PutUint64(b[24:], l.ShmMNI) // shmseg: Linux reports SHMSEG = SHMMNI
		le.PutUint64(b[32:], l.ShmAll)
		return maxIdx, copyOut(mem, buf, b)
	case ShmInfo:
		ns.mu.Lock()
		b := make([]byte, 48)
		le := binary.LittleEndian
		le.PutUint32(b[0:], uint32(len(ns.shms.objs)))
		le.PutUint64(b[8:], ns.shmTotPages)
		var rss uint64
		for _, s := range ns.shms.objs {
			rss += s.residentPages()
		}
		le.PutUint64(b[16:], rss)
		maxIdx := ns.shms.maxIndex()
		ns.mu.Unlock()
		return maxIdx, copyOut(mem, buf, b)
	case ShmStat, ShmStatAny, IPCStat:
		ns.mu.Lock()
		var s *Segment
		var ok bool
		if cmd == IPCStat {
			s, ok = ns.shms.lookup(id, shmObj)
		} else {
			s, ok = ns.shms.objs[id]
		}
		if !ok {
			ns.mu.Unlock()
			return 0, unix.EINVAL
		}
		if cmd != ShmStatAny && !s.perm.check(c, permRead) {
			ns.mu.Unlock()
			return 0, unix.EACCES
		}
		b := s.statLocked()
		ret := int32(0)
		if cmd != IPCStat {
			ret = s.id
		}
		ns.mu.Unlock()
		return ret, copyOut(mem, buf, b)
	case IPCSet:
		var b [shmidDSSize]byte
		if err := copyIn(mem, buf, b[:]); err != nil {
			return 0, err
		}
		ns.mu.Lock()
		defer ns.mu.Unlock()
		s, ok := ns.shms.lookup(id, shmObj)
		if !ok {
			return 0, unix.EINVAL
		}
		if !s.perm.isOwner(c) {
			return 0, unix.EPERM
		}
		s.perm.set(getSet(b[:]))
		s.ctime = now()
		return 0, nil
	case IPCRmid:
		ns.mu.Lock()
		s, ok := ns.shms.lookup(id, shmObj)
		if !ok {
			ns.mu.Unlock()
			return 0, unix.EINVAL
		}
		if !s.perm.isOwner(c) {
			ns.mu.Unlock()
			return 0, unix.EPERM
		}
		s.perm.Mode |= ShmDest
		// The key is free at once; the segment lives on, shown with
		// key IPC_PRIVATE, until its last detach.
		if s.perm.Key != IPCPrivate {
			delete(ns.shms.keys, s.perm.Key)
			s.perm.Key = IPCPrivate
		}
		destroy := s.nattch == 0
		if destroy {
			ns.destroySegmentLocked(s)
		}
		ns.mu.Unlock()
		if destroy {
			s.file.DecRef(context.Background())
		}
		return 0, nil
	case ShmLock, ShmUnlock:
		ns.mu.Lock()
		defer ns.mu.Unlock()
		s, ok := ns.shms.lookup(id, shmObj)
		if !ok {
			return 0, unix.EINVAL
		}
		if !c.IPCLock && !(c.UID == s.perm.UID || c.UID == s.perm.CUID) {
			return 0, unix.EPERM
		}
		if cmd == ShmLock {
			s.perm.Mode |= ShmLocked
		} else {
			s.perm.Mode &^= ShmLocked
		}
		return 0, nil
	}
	return 0, unix.EINVAL
}

// residentPages estimates the segment's pages in memory.
func (s *Segment) residentPages() uint64 {
	st, err := s.file.Stat(context.Background())
	if err != nil {
		return 0
	}
	return st.Blocks * 512 / pageSize
}
