package kernel

import (
	"context"
	"encoding/binary"
	"sync"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/dev"
	"github.com/palisade-sandbox/palisade/vfs/devpts"
	"github.com/palisade-sandbox/palisade/vfs/host"
	"golang.org/x/sys/unix"
)

// TTY is the job control state of one terminal of the sandbox (a host
// terminal donated as stdio, or a pseudo-terminal slave): the session it is the controlling
// terminal of, and that session's foreground process group. Linux:
// tty_struct::ctrl.
//
// A process's controlling terminal is derived, not stored: it is the TTY
// whose session is the process's session, unless the process gave it up
// with TIOCNOTTY (ThreadGroup.noCtty). So setsid(2) leaves the terminal
// behind as in Linux, and a session whose processes are all gone no
// longer holds its terminal.
//
// /dev/tty opens a process's controlling terminal through the TTY
// (OpenControllingTerminal), whether or not the process has it open.
type TTY struct {
	k *Kernel
	// open opens a new description of the terminal (for /dev/tty), or is
	// nil if it can't be reopened. Immutable.
	open func(ctx context.Context) (vfs.FileDescriptionImpl, error)
	// dev is the terminal's device number (/proc/PID/stat's tty_nr).
	// Immutable.
	dev uint64
	// sid is the controlling session, 0 for none. Protected by
	// Kernel.mu.
	sid int32
	// fg is the foreground process group, 0 for none. Protected by
	// Kernel.mu.
	fg int32
}

var (
	_ host.Terminal   = (*TTY)(nil)
	_ devpts.Terminal = (*TTY)(nil)
)

// ttyID names a terminal of one kernel. key is a host.TerminalKey or, for
// a pseudo-terminal, a ptyKey.
type ttyID struct {
	k   *Kernel
	key any
}

// ptyKey names a pseudo-terminal's TTY: its own address, as ptys have no
// number of their own once their index is reused.
type ptyKey struct{ tty *TTY }

// ttys holds every kernel's terminals, created on first use. Its mutex
// is a leaf: it may be taken with Kernel.mu held, never the reverse.
var ttys struct {
	mu sync.Mutex
	m  map[ttyID]*TTY
}

func init() {
	host.SetTerminalProvider(terminalFor)
	devpts.SetTerminalFactory(newPtyTerminal)
	dev.SetControllingTerminalOpener(OpenControllingTerminal)
}

// newPtyTerminal implements devpts.TerminalFactory: a pseudo-terminal
// starts with no session (it becomes a controlling terminal through
// TIOCSCTTY, or when a session leader opens its slave without
// O_NOCTTY).
func newPtyTerminal(ctx context.Context, slave devpts.Slave) devpts.Terminal {
	k := kernelFromContext(ctx)
	if k == nil {
		return nil
	}
	tty := &TTY{k: k, open: slave.OpenSlave, dev: slave.Device()}
	ttys.mu.Lock()
	defer ttys.mu.Unlock()
	if ttys.m == nil {
		ttys.m = map[ttyID]*TTY{}
	}
	ttys.m[ttyID{k, ptyKey{tty}}] = tty
	return tty
}

// kernelContextKey finds the Kernel in a context that has no task.
type kernelContextKey struct{}

// ContextWithKernel returns ctx carrying k, for files the Sentry opens
// on its own behalf outside any task: a pseudo-terminal opened with it
// gets k's job control (runsc's terminal for a container process).
func ContextWithKernel(ctx context.Context, k *Kernel) context.Context {
	return context.WithValue(ctx, kernelContextKey{}, k)
}

// kernelFromContext returns the kernel of ctx's task, or the one
// ContextWithKernel put there, or nil.
func kernelFromContext(ctx context.Context) *Kernel {
	if t := TaskFromContext(ctx); t != nil {
		return t.k
	}
	k, _ := ctx.Value(kernelContextKey{}).(*Kernel)
	return k
}

// Release implements devpts.Terminal.Release: the kernel forgets the
// pseudo-terminal.
func (tty *TTY) Release() {
	ttys.mu.Lock()
	defer ttys.mu.Unlock()
	delete(ttys.m, ttyID{tty.k, ptyKey{tty}})
}

// ForegroundGroup implements devpts.Terminal.ForegroundGroup.
func (tty *TTY) ForegroundGroup() int32 {
	tty.k.mu.Lock()
	defer tty.k.mu.Unlock()
	tty.sessionLocked()
	return tty.fg
}

// SignalForeground implements devpts.Terminal.SignalForeground.
func (tty *TTY) SignalForeground(sig unix.Signal) {
	tty.k.mu.Lock()
	defer tty.k.mu.Unlock()
	if tty.sessionLocked() != 0 && tty.fg != 0 {
		tty.k.signalGroupLocked(tty.fg, sig)
	}
}

// HangUp implements devpts.Terminal.HangUp (the master closed): the
// terminal leaves its session, and the session leader gets SIGHUP and
// SIGCONT (a shell then hangs up its jobs itself, or its exit hangs up
// the foreground group). Linux: __tty_hangup and
// tty_signal_session_leader.
func (tty *TTY) HangUp() {
	tty.k.mu.Lock()
	defer tty.k.mu.Unlock()
	sid := tty.sessionLocked()
	if sid == 0 {
		return
	}
	tty.sid, tty.fg = 0, 0
	if g := tty.k.groups[sid]; g != nil && g.sid == sid && !g.zombie && g.leader != nil {
		for _, sig := range []unix.Signal{unix.SIGHUP, unix.SIGCONT} {
			info := linux.SignalInfo{Signo: int32(sig), Code: linux.SI_KERNEL}
			tty.k.sendLocked(g.leader, &info, true)
		}
	}
}

// terminalFor implements host.TerminalProvider. A terminal first used
// becomes the controlling terminal of the init process's session, with
// init's process group in the foreground: the sandbox's stdio is the
// terminal of the session that runsc started.
func terminalFor(ctx context.Context, key host.TerminalKey) host.Terminal {
	t := TaskFromContext(ctx)
	if t == nil {
		return nil
	}
	k := t.k
	id := ttyID{k, key}
	ttys.mu.Lock()
	tty := ttys.m[id]
	ttys.mu.Unlock()
	if tty != nil {
		return tty
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	ttys.mu.Lock()
	defer ttys.mu.Unlock()
	if tty := ttys.m[id]; tty != nil {
		return tty
	}
	tty = &TTY{k: k, dev: uint64(key), open: func(context.Context) (vfs.FileDescriptionImpl, error) {
		return host.OpenTerminal(key)
	}}
	if init := k.init; init != nil && !init.zombie {
		tty.sid, tty.fg = init.sid, init.pgid
	}
	if ttys.m == nil {
		ttys.m = map[ttyID]*TTY{}
	}
	ttys.m[id] = tty
	return tty
}

// OpenControllingTerminal opens a new description of the controlling
// terminal of the caller of ctx: the terminal of its session, unless it
// gave it up with TIOCNOTTY, whether or not it has the terminal open
// (Linux: tty_open_current_tty). ENXIO if it has none. It implements
// dev.ControllingTerminalOpener, for /dev/tty.
func OpenControllingTerminal(ctx context.Context) (vfs.FileDescriptionImpl, error) {
	t := TaskFromContext(ctx)
	if t == nil {
		return nil, unix.ENXIO
	}
	// Host terminals get their TTY on first use; the sandbox's own are
	// init's session's controlling terminals from the start.
	for _, key := range host.TerminalKeys() {
		terminalFor(ctx, key)
	}
	k := t.k
	k.mu.Lock()
	tty := k.controllingTTYLocked(t.tg)
	k.mu.Unlock()
	if tty == nil || tty.open == nil {
		return nil, unix.ENXIO
	}
	// Opened outside Kernel.mu: the terminal's driver takes its own
	// locks. Should the terminal be hung up meanwhile, the open fails
	// (a pseudo-terminal's slave with EIO) or yields a description of
	// a terminal that is no longer the caller's, as in Linux.
	return tty.open(ctx)
}

// controllingTTYLocked returns tg's controlling terminal, or nil.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) controllingTTYLocked(tg *ThreadGroup) *TTY {
	for _, tty := range k.kernelTTYsLocked() {
		if tty.isCttyLocked(tg) {
			return tty
		}
	}
	return nil
}

// ControllingTerminal returns the device number of tg's controlling
// terminal and its foreground process group (0 if none), with ok false if
// tg has no controlling terminal: /proc/PID/stat's tty_nr and tpgid.
func (tg *ThreadGroup) ControllingTerminal() (dev uint64, fg int32, ok bool) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tty := k.controllingTTYLocked(tg)
	if tty == nil {
		return 0, 0, false
	}
	return tty.dev, tty.fg, true
}

// kernelTTYsLocked returns k's terminals.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) kernelTTYsLocked() []*TTY {
	ttys.mu.Lock()
	defer ttys.mu.Unlock()
	var out []*TTY
	for id, tty := range ttys.m {
		if id.k == k {
			out = append(out, tty)
		}
	}
	return out
}

// sessionAliveLocked reports whether a live process is in session sid.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) sessionAliveLocked(sid int32) bool {
	for _, g := range k.groups {
		if g.sid == sid && !g.zombie {
			return true
		}
	}
	return false
}

// sessionLocked returns the controlling session, forgetting a session
// whose processes are all gone.
//
// Preconditions: Kernel.mu is held.
func (tty *TTY) sessionLocked() int32 {
	if tty.sid != 0 && !tty.k.sessionAliveLocked(tty.sid) {
		tty.sid, tty.fg = 0, 0
	}
	return tty.sid
}

// isCttyLocked reports whether tty is tg's controlling terminal.
//
// Preconditions: Kernel.mu is held.
func (tty *TTY) isCttyLocked(tg *ThreadGroup) bool {
	return !tg.noCtty && tty.sessionLocked() != 0 && tg.sid == tty.sid
}

// orphanedLocked reports whether process group pgid of session sid is
// orphaned: no member has a parent in another group of the same session
// (POSIX; Linux: will_become_orphaned_pgrp).
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) orphanedLocked(pgid, sid int32) bool {
	for _, g := range k.groups {
		if g.zombie || g.exiting || g.pgid != pgid {
			continue
		}
		if p := g.parent; p != nil && p.pgid != pgid && p.sid == sid {
			return false
		}
	}
	return true
}

// signalGroupLocked sends sig to every process of process group pgid,
// from the kernel (SI_KERNEL). Linux: kill_pgrp(pgrp, sig, 1).
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) signalGroupLocked(pgid int32, sig unix.Signal) {
	for _, g := range k.groups {
		if g.pgid == pgid && !g.zombie && g.leader != nil {
			info := linux.SignalInfo{Signo: int32(sig), Code: linux.SI_KERNEL}
			k.sendLocked(g.leader, &info, true)
		}
	}
}

// checkChangeLocked is Linux's tty_check_change: a process of a
// background group of tty's session gets sig (SIGTTIN or SIGTTOU) sent to
// its group and ErrInterrupted, unless it ignores or blocks sig (then
// SIGTTIN fails with EIO and SIGTTOU lets the call go on) or its group is
// orphaned (EIO).
//
// Preconditions: Kernel.mu is held.
func (tty *TTY) checkChangeLocked(t *Task, sig unix.Signal) error {
	tg := t.tg
	if !tty.isCttyLocked(tg) || tty.fg == 0 || tg.pgid == tty.fg {
		return nil
	}
	if t.sigMask.Has(int(sig)) || tg.handlers.actions[sig].Handler == linux.SIG_IGN {
		if sig == unix.SIGTTIN {
			return unix.EIO
		}
		return nil
	}
	if tty.k.orphanedLocked(tg.pgid, tg.sid) {
		return unix.EIO
	}
	tty.k.signalGroupLocked(tg.pgid, sig)
	return vfs.ErrInterrupted
}

// CheckRead implements host.Terminal.CheckRead.
func (tty *TTY) CheckRead(ctx context.Context) error {
	t := TaskFromContext(ctx)
	if t == nil {
		return nil
	}
	tty.k.mu.Lock()
	defer tty.k.mu.Unlock()
	return tty.checkChangeLocked(t, unix.SIGTTIN)
}

// CheckWrite implements host.Terminal.CheckWrite.
func (tty *TTY) CheckWrite(ctx context.Context, tostop func() bool) error {
	t := TaskFromContext(ctx)
	if t == nil {
		return nil
	}
	tty.k.mu.Lock()
	background := tty.isCttyLocked(t.tg) && tty.fg != 0 && t.tg.pgid != tty.fg
	tty.k.mu.Unlock()
	// tostop asks the host: not under Kernel.mu.
	if !background || !tostop() {
		return nil
	}
	tty.k.mu.Lock()
	defer tty.k.mu.Unlock()
	return tty.checkChangeLocked(t, unix.SIGTTOU)
}

// CheckChange implements host.Terminal.CheckChange.
func (tty *TTY) CheckChange(ctx context.Context) error {
	t := TaskFromContext(ctx)
	if t == nil {
		return nil
	}
	tty.k.mu.Lock()
	defer tty.k.mu.Unlock()
	return tty.checkChangeLocked(t, unix.SIGTTOU)
}

// JobControlIoctl implements host.Terminal.JobControlIoctl.
func (tty *TTY) JobControlIoctl(ctx context.Context, mem vfs.UserMemory, cmd uint32, arg uintptr, readable bool) (uintptr, error) {
	t := TaskFromContext(ctx)
	if t == nil {
		return 0, unix.ENOTTY
	}
	switch cmd {
	case unix.TIOCGPGRP:
		tty.k.mu.Lock()
		if !tty.isCttyLocked(t.tg) {
			tty.k.mu.Unlock()
			return 0, unix.ENOTTY
		}
		fg := tty.fg
		tty.k.mu.Unlock()
		return 0, putInt32(mem, arg, fg)
	case unix.TIOCGSID:
		tty.k.mu.Lock()
		if !tty.isCttyLocked(t.tg) {
			tty.k.mu.Unlock()
			return 0, unix.ENOTTY
		}
		sid := tty.sid
		tty.k.mu.Unlock()
		return 0, putInt32(mem, arg, sid)
	case unix.TIOCSPGRP:
		return 0, tty.setForeground(t, mem, arg)
	case unix.TIOCSCTTY:
		return 0, tty.setControlling(t, int64(arg), readable)
	case unix.TIOCNOTTY:
		return 0, tty.giveUp(t)
	}
	return 0, unix.ENOTTY
}

// setForeground implements TIOCSPGRP (tcsetpgrp(3)).
func (tty *TTY) setForeground(t *Task, mem vfs.UserMemory, arg uintptr) error {
	k := tty.k
	k.mu.Lock()
	err := tty.checkChangeLocked(t, unix.SIGTTOU)
	k.mu.Unlock()
	if err == unix.EIO {
		return unix.ENOTTY
	}
	if err != nil {
		return err
	}
	var b [4]byte
	if mem == nil {
		return unix.EFAULT
	}
	if n, err := mem.CopyIn(arg, b[:]); err != nil || n != len(b) {
		return unix.EFAULT
	}
	pgid := int32(binary.LittleEndian.Uint32(b[:]))
	if pgid < 0 {
		return unix.EINVAL
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !tty.isCttyLocked(t.tg) {
		return unix.ENOTTY
	}
	// The group's session: that of a member, or else of the process
	// with that ID (Linux: session_of_pgrp).
	var found *ThreadGroup
	for _, g := range k.groups {
		if g.pgid == pgid && !g.zombie {
			found = g
			break
		}
	}
	if found == nil {
		if g := k.groups[pgid]; g != nil && !g.zombie {
			found = g
		}
	}
	if found == nil {
		return unix.ESRCH
	}
	if found.sid != t.tg.sid {
		return unix.EPERM
	}
	tty.fg = pgid
	return nil
}

// setControlling implements TIOCSCTTY: a session leader with no
// controlling terminal acquires tty, if no other session holds it (with
// arg 1, CAP_SYS_ADMIN steals it).
func (tty *TTY) setControlling(t *Task, arg int64, readable bool) error {
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	leader := tg.sid == tg.id
	if leader && tty.isCttyLocked(tg) {
		return nil
	}
	if !leader {
		return unix.EPERM
	}
	if k.controllingTTYLocked(tg) != nil {
		return unix.EPERM
	}
	admin := t.Credentials().HasCap(capSysAdmin)
	if tty.sessionLocked() != 0 && !(arg == 1 && admin) {
		return unix.EPERM
	}
	if !readable && !admin {
		return unix.EPERM
	}
	tty.sid, tty.fg = tg.sid, tg.pgid
	tg.noCtty = false
	return nil
}

// OpenedWithoutNoctty implements devpts.Terminal.OpenedWithoutNoctty: a
// session leader with no controlling terminal acquires tty if no session
// holds it, with its process group in the foreground (Linux:
// tty_open_proc_set_tty).
func (tty *TTY) OpenedWithoutNoctty(ctx context.Context) {
	t := TaskFromContext(ctx)
	if t == nil {
		return
	}
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	if tg.sid != tg.id || tty.sessionLocked() != 0 || k.controllingTTYLocked(tg) != nil {
		return
	}
	tty.sid, tty.fg = tg.sid, tg.pgid
	tg.noCtty = false
}

// giveUp implements TIOCNOTTY: the caller's process drops its
// controlling terminal; if it is the session leader the terminal leaves
// the session, and the foreground group gets SIGHUP and SIGCONT.
func (tty *TTY) giveUp(t *Task) error {
	k := tty.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	if !tty.isCttyLocked(tg) {
		return unix.ENOTTY
	}
	if tg.sid != tg.id {
		tg.noCtty = true
		return nil
	}
	tty.hangUpLocked()
	return nil
}

// hangUpLocked detaches tty from its session, sending SIGHUP and SIGCONT
// to the foreground process group.
//
// Preconditions: Kernel.mu is held.
func (tty *TTY) hangUpLocked() {
	fg := tty.fg
	tty.sid, tty.fg = 0, 0
	if fg != 0 {
		tty.k.signalGroupLocked(fg, unix.SIGHUP)
		tty.k.signalGroupLocked(fg, unix.SIGCONT)
	}
}

// ReleaseControllingTTYLocked is called when tg exits: if tg is a
// session leader, its controlling terminal is hung up (the foreground
// group gets SIGHUP and SIGCONT) and left without a session. Linux:
// disassociate_ctty(1) from do_exit.
//
// Preconditions: Kernel.mu is held.
func (k *Kernel) ReleaseControllingTTYLocked(tg *ThreadGroup) {
	if tg.sid != tg.id || tg.noCtty {
		return
	}
	for _, tty := range k.kernelTTYsLocked() {
		if tty.sid == tg.sid {
			tty.hangUpLocked()
		}
	}
}

// ForegroundProcessGroup returns the foreground process group of the
// terminal that is init's controlling terminal, or 0: where runsc should
// send the signals (SIGINT, SIGTSTP, ...) it receives from the host
// terminal.
func (k *Kernel) ForegroundProcessGroup() int32 {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.init == nil {
		return 0
	}
	for _, tty := range k.kernelTTYsLocked() {
		if tty.isCttyLocked(k.init) {
			return tty.fg
		}
	}
	return 0
}

// putInt32 writes v to guest memory at addr, or fails with EFAULT.
func putInt32(mem vfs.UserMemory, addr uintptr, v int32) error {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	if mem == nil {
		return unix.EFAULT
	}
	if n, err := mem.CopyOut(addr, b[:]); err != nil || n != len(b) {
		return unix.EFAULT
	}
	return nil
}
