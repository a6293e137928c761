package ipc

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// message is one queued message. Linux: struct msg_msg.
type message struct {
	mtype int64
	text  []byte
}

// msgQueue is a message queue. Linux: struct msg_queue.
type msgQueue struct {
	object
	msgs                []message
	cbytes              int
	qbytes              int
	stime, rtime, ctime int64
	lspid, lrpid        int32
	// senders and receivers are the blocked msgsnd and msgrcv callers.
	senders, receivers waitQueue
}

func msgObj(q *msgQueue) *object { return &q.object }

// MsgMax returns msgmax, the largest message.
func (ns *Namespace) MsgMax() int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return int(ns.limits.MsgMax)
}

// Msgget implements msgget(2).
func (ns *Namespace) Msgget(c *Creds, key, flags int32) (int32, error) {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	if key != IPCPrivate {
		if idx, ok := ns.msgs.keyIndex(key); ok {
			q := ns.msgs.objs[idx]
			if flags&IPCCreat != 0 && flags&IPCExcl != 0 {
				return 0, unix.EEXIST
			}
			if !q.perm.check(c, uint16(flags)) {
				return 0, unix.EACCES
			}
			return q.id, nil
		}
		if flags&IPCCreat == 0 {
			return 0, unix.ENOENT
		}
	}
	idx := ns.msgs.allocIndex(int(ns.limits.MsgMNI))
	if idx < 0 {
		return 0, unix.ENOSPC
	}
	q := &msgQueue{qbytes: int(ns.limits.MsgMNB), ctime: now()}
	q.perm = Perm{Key: key, UID: c.UID, GID: c.GID, CUID: c.UID, CGID: c.GID, Mode: uint16(flags & 0o777)}
	return ns.msgs.add(idx, key, q, &q.object), nil
}

// Msgsnd implements msgsnd(2) for a message already copied in (the caller
// has checked its size against msgmax and its type).
func (ns *Namespace) Msgsnd(b Blocker, c *Creds, id int32, mtype int64, text []byte, flags int32) error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, ok := ns.msgs.lookup(id, msgObj)
	if !ok {
		return unix.EINVAL
	}
	if !q.perm.check(c, permWrite) {
		return unix.EACCES
	}
	for {
		if q.removed {
			return unix.EIDRM
		}
		if len(text)+q.cbytes <= q.qbytes && 1+len(q.msgs) <= q.qbytes {
			if ns.msgBytes+len(text) > MaxMsgBytes || ns.msgCount+1 > MaxMsgCount {
				return unix.ENOMEM
			}
			q.msgs = append(q.msgs, message{mtype: mtype, text: text})
			q.cbytes += len(text)
			ns.msgBytes += len(text)
			ns.msgCount++
			q.lspid, q.stime = c.PID, now()
			q.receivers.wakeAll()
			return nil
		}
		if flags&IPCNoWait != 0 {
			return unix.EAGAIN
		}
		w := newWaiter()
		q.senders.add(w)
		ns.mu.Unlock()
		_, err := block(b, w, zeroTime)
		ns.mu.Lock()
		delete(q.senders, w)
		if q.removed {
			return unix.EIDRM
		}
		if err != nil {
			return unix.EINTR
		}
	}
}

// findLocked returns the index of the message msgrcv takes, or -1.
func (q *msgQueue) findLocked(mtype int64, flags int32) int {
	switch {
	case mtype == 0:
		if len(q.msgs) > 0 {
			return 0
		}
	case mtype > 0:
		for i, m := range q.msgs {
			if (m.mtype == mtype) != (flags&MsgExcept != 0) {
				return i
			}
		}
	default:
		best := -1
		for i, m := range q.msgs {
			if m.mtype <= -mtype && (best < 0 || m.mtype < q.msgs[best].mtype) {
				best = i
			}
		}
		return best
	}
	return -1
}

// Msgrcv implements msgrcv(2): it returns the message's type and text,
// cut to size with MSG_NOERROR. With MSG_COPY, mtype is the position of
// the message to copy, which stays queued.
func (ns *Namespace) Msgrcv(b Blocker, c *Creds, id int32, size int, mtype int64, flags int32) (int64, []byte, error) {
	if flags&MsgCopy != 0 && (flags&MsgExcept != 0 || flags&IPCNoWait == 0) {
		return 0, nil, unix.EINVAL
	}
	ns.mu.Lock()
	defer ns.mu.Unlock()
	q, ok := ns.msgs.lookup(id, msgObj)
	if !ok {
		return 0, nil, unix.EINVAL
	}
	if !q.perm.check(c, permRead) {
		return 0, nil, unix.EACCES
	}
	for {
		if q.removed {
			return 0, nil, unix.EIDRM
		}
		i := -1
		if flags&MsgCopy != 0 {
			if mtype >= 0 && mtype < int64(len(q.msgs)) {
				i = int(mtype)
			}
		} else {
			i = q.findLocked(mtype, flags)
		}
		if i >= 0 {
			m := q.msgs[i]
			if len(m.text) > size {
				if flags&MsgNoError == 0 {
					return 0, nil, unix.E2BIG
				}
				m.text = m.text[:size]
			}
			if flags&MsgCopy != 0 {
				return m.mtype, m.text, nil
			}
			n := len(q.msgs[i].text)
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			q.cbytes -= n
			ns.msgBytes -= n
			ns.msgCount--
			q.lrpid, q.rtime = c.PID, now()
			q.senders.wakeAll()
			return m.mtype, m.text, nil
		}
		if flags&IPCNoWait != 0 {
			return 0, nil, unix.ENOMSG
		}
		w := newWaiter()
		q.receivers.add(w)
		ns.mu.Unlock()
		_, err := block(b, w, zeroTime)
		ns.mu.Lock()
		delete(q.receivers, w)
		if q.removed {
			return 0, nil, unix.EIDRM
		}
		if err != nil {
			return 0, nil, unix.EINTR
		}
	}
}

const msqidDSSize = 120

// Msgctl implements msgctl(2).
func (ns *Namespace) Msgctl(c *Creds, mem Memory, id, cmd int32, buf uint64) (int32, error) {
	cmd &^= IPC64
	if id < 0 || cmd < 0 {
		return 0, unix.EINVAL
	}
	le := binary.LittleEndian
	switch cmd {
	case IPCInfo, MsgInfo:
		ns.mu.Lock()
		l := ns.limits
		b := make([]byte, 32)
		put := func(i int, v int32) { le.PutUint32(b[i*4:], uint32(v)) }
		put(0, 0x10000/1024) // msgpool (MSGPOOL, KiB)
		put(1, 0x10000/16)   // msgmap (MSGMAP)
		put(2, l.MsgMax)
		put(3, l.MsgMNB)
		put(4, l.MsgMNI)
		put(5, 16) // msgssz
		put(6, 0x10000/16)
		le.PutUint16(b[28:], 0xffff) // msgseg
		if cmd == MsgInfo {
			put(0, int32(len(ns.msgs.objs)))
			put(1, int32(ns.msgCount))
			put(6, int32(ns.msgBytes))
		}
		maxIdx := ns.msgs.maxIndex()
		ns.mu.Unlock()
		return maxIdx, copyOut(mem, buf, b)
	case IPCStat, MsgStat, MsgStatAny:
		ns.mu.Lock()
		var q *msgQueue
		var ok bool
		if cmd == IPCStat {
			q, ok = ns.msgs.lookup(id, msgObj)
		} else {
			q, ok = ns.msgs.objs[id]
		}
		if !ok {
			ns.mu.Unlock()
			return 0, unix.EINVAL
		}
		if cmd != MsgStatAny && !q.perm.check(c, permRead) {
			ns.mu.Unlock()
			return 0, unix.EACCES
		}
		b := make([]byte, msqidDSSize)
		putPerm(b, &q.perm)
		le.PutUint64(b[48:], uint64(q.stime))
		le.PutUint64(b[56:], uint64(q.rtime))
		le.PutUint64(b[64:], uint64(q.ctime))
		le.PutUint64(b[72:], uint64(q.cbytes))
		le.PutUint64(b[80:], uint64(len(q.msgs)))
		le.PutUint64(b[88:], uint64(q.qbytes))
		le.PutUint32(b[96:], uint32(q.lspid))
		le.PutUint32(b[100:], uint32(q.lrpid))
		ret := int32(0)
		if cmd != IPCStat {
			ret = q.id
		}
		ns.mu.Unlock()
		return ret, copyOut(mem, buf, b)
	case IPCSet, IPCRmid:
		var b [msqidDSSize]byte
		if cmd == IPCSet {
			if err := copyIn(mem, buf, b[:]); err != nil {
				return 0, err
			}
		}
		ns.mu.Lock()
		defer ns.mu.Unlock()
		q, ok := ns.msgs.lookup(id, msgObj)
		if !ok {
			return 0, unix.EINVAL
		}
		if !q.perm.isOwner(c) {
			return 0, unix.EPERM
		}
		if cmd == IPCRmid {
			ns.msgs.remove(&q.object)
			q.removed = true
			for _, m := range q.msgs {
				ns.msgBytes -= len(m.text)
				ns.msgCount--
			}
			q.msgs, q.cbytes = nil, 0
			q.senders.wakeAll()
			q.receivers.wakeAll()
			return 0, nil
		}
		qbytes := le.Uint64(b[88:])
		if qbytes > uint64(ns.limits.MsgMNB) && !c.Resource {
			return 0, unix.EPERM
		}
		if qbytes > MaxMsgMNB {
			qbytes = MaxMsgMNB
		}
		q.qbytes = int(qbytes)
		q.perm.set(getSet(b[:]))
		q.ctime = now()
		// A larger queue may let senders in.
		q.senders.wakeAll()
		return 0, nil
	}
	return 0, unix.EINVAL
}
