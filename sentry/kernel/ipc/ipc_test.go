package ipc

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// neverBlocker fails every wait as a signal would.
type neverBlocker struct{}

func (neverBlocker) Block(<-chan struct{}) error { return unix.EINTR }

func TestPermCheck(t *testing.T) {
	p := Perm{UID: 1, GID: 2, CUID: 3, CGID: 4, Mode: 0o640}
	for _, tc := range []struct {
		name string
		c    Creds
		want uint16
		ok   bool
	}{
		{"owner reads and writes", Creds{UID: 1}, permRead | permWrite, true},
		{"creator is owner", Creds{UID: 3}, permWrite, true},
		{"group reads", Creds{UID: 9, GID: 4}, permRead, true},
		{"group cannot write", Creds{UID: 9, Groups: []uint32{2}}, permWrite, false},
		{"other cannot read", Creds{UID: 9, GID: 9}, permRead, false},
		{"CAP_IPC_OWNER passes", Creds{UID: 9, IPCOwner: true}, permRead | permWrite, true},
		{"flag bits of semget", Creds{UID: 9, GID: 2}, 0o040, true},
	} {
		if got := p.check(&tc.c, tc.want); got != tc.ok {
			t.Errorf("%s: check = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestSetLimitsClamps(t *testing.T) {
	ns := NewNamespace(nil)
	ns.SetLimits(Limits{SemMSL: 1 << 30, SemMNS: -1, SemOPM: 1 << 30, SemMNI: 1 << 30, MsgMax: 1 << 30, MsgMNB: 1 << 30, MsgMNI: 1 << 30, ShmMNI: 1 << 40})
	l := ns.Limits()
	if l.SemMSL != MaxSemMSL || l.SemMNS != 0 || l.SemOPM != MaxSemOPM || l.SemMNI != IPCMNI || l.MsgMax != MaxMsgMax || l.MsgMNB != MaxMsgMNB || l.MsgMNI != IPCMNI || l.ShmMNI != IPCMNI {
		t.Errorf("SetLimits kept values beyond the bounds: %+v", l)
	}
}

func TestSemopAllOrNothingAndIDs(t *testing.T) {
	ns := NewNamespace(nil)
	c := &Creds{UID: 0, PID: 1}
	id, err := ns.Semget(c, IPCPrivate, 2, 0o600)
	if err != nil {
		t.Fatalf("Semget: %v", err)
	}
	if _, ok := ns.sems.lookup(id+seqMultiplier, semObj); ok {
		t.Errorf("an ID with another sequence number found the set")
	}
	ops := []SemBuf{{Num: 0, Op: 1}, {Num: 1, Op: -1, Flag: IPCNoWait}}
	if err := ns.Semop(neverBlocker{}, c, id, ops, time.Time{}); err != unix.EAGAIN {
		t.Errorf("Semop = %v, want EAGAIN", err)
	}
	if v := ns.sems.objs[id%seqMultiplier].sems[0].val; v != 0 {
		t.Errorf("first operation applied although the second blocked: %d", v)
	}
	if err := ns.Semop(neverBlocker{}, c, id, []SemBuf{{Num: 1, Op: -1}}, time.Time{}); err != unix.EINTR {
		t.Errorf("interrupted Semop = %v, want EINTR", err)
	}
	if n := ns.sems.objs[id%seqMultiplier].sems[1].ncnt; n != 0 {
		t.Errorf("ncnt after an interrupted wait = %d, want 0", n)
	}
	big := []SemBuf{{Num: 0, Op: SemVMX}, {Num: 0, Op: 1}}
	if err := ns.Semop(neverBlocker{}, c, id, big, time.Time{}); err != unix.ERANGE {
		t.Errorf("Semop past SEMVMX = %v, want ERANGE", err)
	}
}

func TestMsgBytesAreBounded(t *testing.T) {
	ns := NewNamespace(nil)
	c := &Creds{UID: 0, PID: 1}
	id, err := ns.Msgget(c, IPCPrivate, 0o600)
	if err != nil {
		t.Fatalf("Msgget: %v", err)
	}
	q := ns.msgs.objs[id%seqMultiplier]
	q.qbytes = MaxMsgBytes * 2
	ns.msgBytes = MaxMsgBytes - 1
	if err := ns.Msgsnd(neverBlocker{}, c, id, 1, make([]byte, 2), IPCNoWait); err != unix.ENOMEM {
		t.Errorf("Msgsnd beyond the namespace's bound = %v, want ENOMEM", err)
	}
}
