package ipc

import (
	"fmt"
	"sort"
	"strings"
)

// sortedIndexes returns the indexes of r in increasing order.
func sortedIndexes[T any](r *registry[T]) []int32 {
	idx := make([]int32, 0, len(r.objs))
	for i := range r.objs {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return idx[a] < idx[b] })
	return idx
}

// ProcShm returns /proc/sysvipc/shm, in Linux's format.
func (ns *Namespace) ProcShm() string {
	var b strings.Builder
	b.WriteString("       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n")
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, i := range sortedIndexes(&ns.shms) {
		s := ns.shms.objs[i]
		p := &s.perm
		fmt.Fprintf(&b, "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n",
			p.Key, s.id, p.Mode, s.size, s.cpid, s.lpid, s.nattch, p.UID, p.GID, p.CUID, p.CGID,
			s.atime, s.dtime, s.ctime, s.residentPages()*pageSize, 0)
	}
	return b.String()
}

// ProcSem returns /proc/sysvipc/sem.
func (ns *Namespace) ProcSem() string {
	var b strings.Builder
	b.WriteString("       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n")
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, i := range sortedIndexes(&ns.sems) {
		s := ns.sems.objs[i]
		p := &s.perm
		fmt.Fprintf(&b, "%10d %10d  %4o %10d %5d %5d %5d %5d %10d %10d\n",
			p.Key, s.id, p.Mode, len(s.sems), p.UID, p.GID, p.CUID, p.CGID, s.otime, s.ctime)
	}
	return b.String()
}

// ProcMsg returns /proc/sysvipc/msg.
func (ns *Namespace) ProcMsg() string {
	var b strings.Builder
	b.WriteString("       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      stime      rtime      ctime\n")
	ns.mu.Lock()
	defer ns.mu.Unlock()
	for _, i := range sortedIndexes(&ns.msgs) {
		q := ns.msgs.objs[i]
		p := &q.perm
		fmt.Fprintf(&b, "%10d %10d  %4o  %10d %10d %5d %5d %5d %5d %5d %5d %10d %10d %10d\n",
			p.Key, q.id, p.Mode, q.cbytes, len(q.msgs), q.lspid, q.lrpid, p.UID, p.GID, p.CUID, p.CGID,
			q.stime, q.rtime, q.ctime)
	}
	return b.String()
}
