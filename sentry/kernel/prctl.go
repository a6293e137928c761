package kernel

import (
	"github.com/palisade-sandbox/palisade/abi/linux"
	"golang.org/x/sys/unix"
)

// This file holds the per-task and per-process state that prctl(2)
// reads and changes, and the hooks that act on it at clone, exec and exit.

// DefaultTimerSlack is Linux's default timer slack, 50 µs.
const DefaultTimerSlack = 50000

// MaxCap is the highest capability number (CAP_CHECKPOINT_RESTORE).
const MaxCap = 40

// ParentDeathSignal returns PR_GET_PDEATHSIG's signal (0: none).
func (t *Task) ParentDeathSignal() int {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.pdeathSig
}

// SetParentDeathSignal implements PR_SET_PDEATHSIG: sig (0 clears it) is
// sent to t's process when the thread that created it exits.
func (t *Task) SetParentDeathSignal(sig int) error {
	if sig < 0 || sig > linux.NumSignals {
		return unix.EINVAL
	}
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.pdeathSig = sig
	return nil
}

// Dumpable implements PR_GET_DUMPABLE: 1 (SUID_DUMP_USER) or 0.
func (t *Task) Dumpable() int {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.tg.notDumpable {
		return 0
	}
	return 1
}

// SetDumpable implements PR_SET_DUMPABLE with 0 or 1 (2, SUID_DUMP_ROOT,
// is refused with EINVAL as Linux does from prctl).
func (t *Task) SetDumpable(v uint64) error {
	if v > 1 {
		return unix.EINVAL
	}
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.tg.notDumpable = v == 0
	return nil
}

// TimerSlack implements PR_GET_TIMERSLACK.
func (t *Task) TimerSlack() uint64 {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	if t.timerSlack == 0 {
		return DefaultTimerSlack
	}
	return t.timerSlack
}

// SetTimerSlack implements PR_SET_TIMERSLACK: 0 restores the default.
func (t *Task) SetTimerSlack(ns uint64) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.timerSlack = ns
}

// ClearChildTID returns set_tid_address's address (PR_GET_TID_ADDRESS).
func (t *Task) ClearChildTID() uint64 { return t.clearChildTID }

// SetKeepCaps implements PR_SET_KEEPCAPS: EPERM once
// SECBIT_KEEP_CAPS_LOCKED is set.
func (t *Task) SetKeepCaps(keep bool) error {
	if t.Credentials().SecureBits&SecbitKeepCapsLocked != 0 {
		return unix.EPERM
	}
	c := t.Credentials().Copy()
	c.KeepCaps = keep
	t.SetCredentials(c)
	return nil
}

// The securebits of capabilities(7) (linux/securebits.h): each flag's
// lock is the bit above it; a set lock freezes the flag and cannot be
// cleared.
const (
	// SecbitNoRoot: UID 0 gains no capabilities at execve.
	SecbitNoRoot = 1 << 0
	// SecbitNoRootLocked freezes SecbitNoRoot.
	SecbitNoRootLocked = 1 << 1
	// SecbitNoSetuidFixup: set*uid leave the capability sets alone.
	SecbitNoSetuidFixup = 1 << 2
	// SecbitNoSetuidFixupLocked freezes SecbitNoSetuidFixup.
	SecbitNoSetuidFixupLocked = 1 << 3
	// SecbitKeepCaps is PR_SET_KEEPCAPS's flag (Credentials.KeepCaps).
	SecbitKeepCaps = 1 << 4
	// SecbitKeepCapsLocked freezes SecbitKeepCaps.
	SecbitKeepCapsLocked = 1 << 5
	// SecbitNoCapAmbientRaise: PR_CAP_AMBIENT_RAISE fails with EPERM.
	SecbitNoCapAmbientRaise = 1 << 6
	// SecbitNoCapAmbientRaiseLocked freezes SecbitNoCapAmbientRaise.
	SecbitNoCapAmbientRaiseLocked = 1 << 7

	secbitLocks = SecbitNoRootLocked | SecbitNoSetuidFixupLocked | SecbitKeepCapsLocked | SecbitNoCapAmbientRaiseLocked
	secbitAll   = secbitLocks | secbitLocks>>1
)

// SecureBits implements PR_GET_SECUREBITS.
func (t *Task) SecureBits() uint32 {
	c := t.Credentials()
	bits := c.SecureBits
	if c.KeepCaps {
		bits |= SecbitKeepCaps
	}
	return bits
}

// SetSecureBits implements PR_SET_SECUREBITS: a change needs
// CAP_SETPCAP (setting the current bits again does not, as since Linux
// 6.14), only the bits above are known (others are EPERM, as on Linux),
// and neither a locked flag may change nor a lock be cleared.
func (t *Task) SetSecureBits(bits uint64) error {
	old := t.Credentials()
	cur := uint64(t.SecureBits())
	locks := cur & secbitLocks
	if bits&^secbitAll != 0 || (locks>>1)&(cur^bits) != 0 || locks&^bits != 0 || (bits != cur && !old.HasCap(capSetPCap)) {
		return unix.EPERM
	}
	c := old.Copy()
	c.KeepCaps = bits&SecbitKeepCaps != 0
	c.SecureBits = uint32(bits) &^ SecbitKeepCaps
	t.SetCredentials(c)
	return nil
}

// SetNoNewPrivs implements PR_SET_NO_NEW_PRIVS (it can only be set).
func (t *Task) SetNoNewPrivs() {
	if t.Credentials().NoNewPrivs {
		return
	}
	c := t.Credentials().Copy()
	c.NoNewPrivs = true
	t.SetCredentials(c)
}

// AmbientCap implements prctl(PR_CAP_AMBIENT, op, cp): raise (only a
// capability both permitted and inheritable), lower, query or clear the
// ambient set.
func (t *Task) AmbientCap(op, cp uint64) (uint64, error) {
	if op != unix.PR_CAP_AMBIENT_CLEAR_ALL && cp > MaxCap {
		return 0, unix.EINVAL
	}
	old := t.Credentials()
	bit := uint64(1) << (cp & 63)
	var ambient uint64
	switch op {
	case unix.PR_CAP_AMBIENT_IS_SET:
		return (old.Ambient >> cp) & 1, nil
	case unix.PR_CAP_AMBIENT_RAISE:
		if old.Permitted&old.Inheritable&bit == 0 || old.SecureBits&SecbitNoCapAmbientRaise != 0 {
			return 0, unix.EPERM
		}
		ambient = old.Ambient | bit
	case unix.PR_CAP_AMBIENT_LOWER:
		ambient = old.Ambient &^ bit
	case unix.PR_CAP_AMBIENT_CLEAR_ALL:
		if cp != 0 {
			return 0, unix.EINVAL
		}
		ambient = 0
	default:
		return 0, unix.EINVAL
	}
	if ambient != old.Ambient {
		c := old.Copy()
		c.Ambient = ambient
		t.SetCredentials(c)
	}
	return 0, nil
}

// DropBoundingCap implements PR_CAPBSET_DROP.
func (t *Task) DropBoundingCap(cp uint64) error {
	if cp > MaxCap {
		return unix.EINVAL
	}
	old := t.Credentials()
	if !old.HasCap(capSetPCap) {
		return unix.EPERM
	}
	c := old.Copy()
	c.Bounding &^= 1 << cp
	t.SetCredentials(c)
	return nil
}

// InheritPrctlStateLocked copies to a new child what prctl set and clone
// keeps: the timer slack, the seccomp filters and, for a new process, its creator thread and
// dumpability, and the TIOCNOTTY state. The parent-death signal is not
// inherited. Clone calls it before the child is started.
//
// Preconditions: Kernel.mu is held; child.tg is set.
func (t *Task) InheritPrctlStateLocked(child *Task) {
	child.timerSlack = t.timerSlack
	child.personality.Store(t.personality.Load())
	t.inheritSchedLocked(child)
	child.seccomp.Store(t.seccomp.Load())
	if child.tg != t.tg {
		child.tg.creator = t
		child.tg.notDumpable = t.tg.notDumpable
		child.tg.noCtty = t.tg.noCtty
	}
}

// ResetPrctlStateOnExec applies execve's resets: the process becomes
// dumpable again and PR_SET_KEEPCAPS is cleared.
func (t *Task) ResetPrctlStateOnExec() {
	t.k.mu.Lock()
	t.tg.notDumpable = false
	t.k.mu.Unlock()
	if c := t.Credentials(); c.KeepCaps {
		n := c.Copy()
		n.KeepCaps = false
		t.SetCredentials(n)
	}
}

// SendParentDeathSignalsLocked sends the PR_SET_PDEATHSIG signals of the
// children t created: exit calls it for every exiting thread, after t
// has left its thread group. Children whose creator is not recorded
// count as created by the process's last thread.
//
// Preconditions: Kernel.mu is held; t has been removed from t.tg.tasks.
func (k *Kernel) SendParentDeathSignalsLocked(t *Task) {
	last := len(t.tg.tasks) == 0
	for child := range t.tg.children {
		if child.zombie || child.exiting {
			continue
		}
		if child.creator != t && !(child.creator == nil && last) {
			continue
		}
		child.creator = nil
		for m := range child.tasks {
			if m.pdeathSig == 0 {
				continue
			}
			info := linux.SignalInfo{Signo: int32(m.pdeathSig), Code: linux.SI_USER}
			info.SetPID(t.tg.id)
			info.SetUID(t.Credentials().RealUID)
			k.sendLocked(m, &info, true)
		}
	}
}
