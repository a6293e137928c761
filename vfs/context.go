package vfs

import (
	"context"
	"errors"
	"fmt"
)

// Capability numbers used by the VFS's permission checks (Linux:
// include/uapi/linux/capability.h).
const (
	CapChown          = 0
	CapDACOverride    = 1
	CapDACReadSearch  = 2
	CapFowner         = 3
	CapFsetid         = 4
	CapMknod          = 27
	CapSysAdmin       = 21
	allCaps           = ^uint64(0)
	credentialsCtxKey = ctxKey(0)
	blockerCtxKey     = ctxKey(1)
)

type ctxKey int

// Credentials are the identity a file operation runs with (Linux: the
// filesystem UID/GID and effective capabilities of struct cred). They are
// immutable once placed in a context.
type Credentials struct {
	// UID and GID are the filesystem user and group IDs.
	UID, GID uint32
	// Groups are the supplementary group IDs.
	Groups []uint32
	// EffectiveCaps has bit N set if capability N is effective.
	EffectiveCaps uint64
	// RealUID and RealGID are the real IDs, used only by AccessAt with
	// useEffectiveIDs false (access(2) without AT_EACCESS), and only if
	// HasRealIDs is set; otherwise AccessAt uses UID and GID.
	RealUID, RealGID uint32
	// HasRealIDs says RealUID and RealGID are filled in.
	HasRealIDs bool
}

// RootCredentials returns the credentials of the sandbox's root user: UID
// and GID 0 with every capability. Code acting for no task (boot-time
// setup, tests) passes them deliberately with WithCredentials; the VFS
// never assumes them.
func RootCredentials() *Credentials {
	return &Credentials{EffectiveCaps: allCaps}
}

// HasCap reports whether c has capability cp in its effective set.
func (c *Credentials) HasCap(cp uint) bool {
	return cp < 64 && c.EffectiveCaps&(1<<cp) != 0
}

// InGroup reports whether gid is c's GID or one of its supplementary groups.
func (c *Credentials) InGroup(gid uint32) bool {
	if c.GID == gid {
		return true
	}
	for _, g := range c.Groups {
		if g == gid {
			return true
		}
	}
	return false
}

// WithCredentials returns a context carrying c.
func WithCredentials(ctx context.Context, c *Credentials) context.Context {
	return context.WithValue(ctx, credentialsCtxKey, c)
}

// CredentialsFromContext returns the credentials carried by ctx, or nil if
// none. Code that acts on them must use MustCredentials instead, so that a
// missing identity is never mistaken for any identity.
func CredentialsFromContext(ctx context.Context) *Credentials {
	c, _ := ctx.Value(credentialsCtxKey).(*Credentials)
	return c
}

// MustCredentials returns the credentials carried by ctx for operation op
// (a name such as "openat" or "pipe", used only in the panic message).
//
// A context without credentials is a programming error: every task's
// context carries its credentials, and code acting for no task must say
// whose identity it uses (WithCredentials(ctx, RootCredentials()) at
// boot). MustCredentials panics rather than guess, so such a path fails
// at once instead of running its permission checks as root.
func MustCredentials(ctx context.Context, op string) *Credentials {
	if c := CredentialsFromContext(ctx); c != nil {
		return c
	}
	panic(fmt.Sprintf("vfs: %s: context carries no credentials", op))
}

// credsOf is MustCredentials for the VFS's own permission checks.
func credsOf(ctx context.Context, op string) *Credentials {
	return MustCredentials(ctx, op)
}

// Blocker lets a file operation wait on behalf of the calling task.
type Blocker interface {
	// Block waits until ch is readable (or closed), the caller's deadline
	// passes, or the caller is interrupted by a signal; it returns nil,
	// unix.ETIMEDOUT, or ErrInterrupted respectively.
	Block(ch <-chan struct{}) error
}

// ErrInterrupted is returned by operations interrupted by a signal while
// blocked. The syscall layer turns it into EINTR or a syscall restart.
var ErrInterrupted = errors.New("interrupted by a signal")

// WithBlocker returns a context carrying b.
func WithBlocker(ctx context.Context, b Blocker) context.Context {
	return context.WithValue(ctx, blockerCtxKey, b)
}

// BlockerFromContext returns the Blocker carried by ctx, or nil if none.
func BlockerFromContext(ctx context.Context) Blocker {
	b, _ := ctx.Value(blockerCtxKey).(Blocker)
	return b
}

// Block waits for ch using ctx's Blocker, or uninterruptibly if ctx has
// none. File implementations use it to wait for readiness.
func Block(ctx context.Context, ch <-chan struct{}) error {
	if b := BlockerFromContext(ctx); b != nil {
		return b.Block(ch)
	}
	<-ch
	return nil
}
