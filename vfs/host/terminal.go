package host

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// TerminalKey identifies a host terminal: its device number (st_rdev),
// the same for every descriptor of the terminal.
type TerminalKey uint64

// Terminal is the Sentry's job control layer for one host terminal: its
// controlling session and foreground process group, which live in the
// kernel (kernel.TTY) because they name the sandbox's own sessions and
// process groups. A host file that is a terminal consults it, with the
// caller's context, before reads, writes and settings changes, and hands
// it the job control ioctls. Each method may return vfs.ErrInterrupted
// after sending the caller's process group SIGTTIN or SIGTTOU; the call
// then restarts once the group is continued (or fails with EINTR if a
// handler ran), as in Linux.
type Terminal interface {
	// JobControlIoctl serves TIOCGPGRP, TIOCSPGRP, TIOCGSID, TIOCSCTTY
	// and TIOCNOTTY. readable says whether the caller's file is open
	// for reading (TIOCSCTTY needs it, or CAP_SYS_ADMIN).
	JobControlIoctl(ctx context.Context, mem vfs.UserMemory, cmd uint32, arg uintptr, readable bool) (uintptr, error)
	// CheckRead is called before a read: nil, EIO, or ErrInterrupted
	// after SIGTTIN for a background process group.
	CheckRead(ctx context.Context) error
	// CheckWrite is called before a write; tostop reports whether the
	// terminal has TOSTOP set, and is only called for a background
	// caller.
	CheckWrite(ctx context.Context, tostop func() bool) error
	// CheckChange is called before a change of the terminal's settings
	// (tcsetattr): a background caller gets SIGTTOU.
	CheckChange(ctx context.Context) error
}

// TerminalProvider returns the Terminal of the host terminal key as
// seen by the caller in ctx, or nil if ctx has no caller (then no job
// control applies).
type TerminalProvider func(ctx context.Context, key TerminalKey) Terminal

// terminalProvider is the registered provider, or nil.
var terminalProvider atomic.Pointer[TerminalProvider]

// SetTerminalProvider registers the kernel's terminal layer. Until one is
// registered, TIOCGPGRP and TIOCSPGRP pass through to the host and no job
// control checks are made.
func SetTerminalProvider(p TerminalProvider) { terminalProvider.Store(&p) }

// terminal returns f's Terminal for the caller in ctx, or nil if f is not
// a terminal or no provider is registered.
func (f *hostFile) terminal(ctx context.Context) Terminal {
	if !f.isTTY {
		return nil
	}
	p := terminalProvider.Load()
	if p == nil {
		return nil
	}
	return (*p)(ctx, f.ttyKey)
}

// kept holds, for each host terminal the Sentry was given, a duplicate of
// a descriptor of it, from which OpenTerminal reopens it after the guest
// has closed every descriptor of its own (Linux keeps the tty_struct of a
// session's controlling terminal). The duplicates are never closed: a
// sandbox is given few terminals. mu is a leaf lock.
var kept struct {
	mu sync.Mutex
	m  map[TerminalKey]int
}

// keepTerminal records a duplicate of hostFD, a descriptor of the
// terminal key, unless one is kept already.
func keepTerminal(key TerminalKey, hostFD int) {
	kept.mu.Lock()
	defer kept.mu.Unlock()
	if _, ok := kept.m[key]; ok {
		return
	}
	nfd, err := unix.FcntlInt(uintptr(hostFD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return
	}
	if kept.m == nil {
		kept.m = map[TerminalKey]int{}
	}
	kept.m[key] = nfd
}

// TerminalKeys returns the keys of the host terminals the Sentry was
// given, in increasing order.
func TerminalKeys() []TerminalKey {
	kept.mu.Lock()
	defer kept.mu.Unlock()
	keys := make([]TerminalKey, 0, len(kept.m))
	for k := range kept.m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// OpenTerminal opens a new description of the host terminal key (for
// /dev/tty): a duplicate of the descriptor kept for it, so it shares the
// host's file status flags with the others. ENXIO if the Sentry was not
// given that terminal.
func OpenTerminal(key TerminalKey) (vfs.FileDescriptionImpl, error) {
	kept.mu.Lock()
	hfd, ok := kept.m[key]
	kept.mu.Unlock()
	if !ok {
		return nil, unix.ENXIO
	}
	return openDup(hfd)
}
