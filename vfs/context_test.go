package vfs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// TestNoCredentialsNeverActsAsRoot checks that an operation given a context
// without credentials panics, naming the operation, instead of running its
// permission checks as anyone (it once ran them as root with every
// capability). Each case is something only root may do, so a fallback to
// root would succeed.
func TestNoCredentialsNeverActsAsRoot(t *testing.T) {
	e := newEnv(t)
	e.writeFile("/rootonly", "secret")
	if err := e.vfs.SetStatAt(e.ctx, e.pop("/rootonly", false), vfs.SetStatOptions{Mask: unix.STATX_MODE, Mode: 0}); err != nil {
		t.Fatalf("chmod 0 /rootonly: %v", err)
	}
	fd, err := e.vfs.OpenAt(e.ctx, e.pop("/rootonly", false), vfs.OpenOptions{Flags: unix.O_RDONLY})
	if err != nil {
		t.Fatalf("OpenAt(/rootonly) as root: %v", err)
	}
	defer fd.DecRef(e.ctx)
	none := context.Background()
	for _, c := range []struct {
		name, op string
		call     func() error
	}{
		{"open a mode-0 file", "path walk", func() error {
			f, err := e.vfs.OpenAt(none, e.pop("/rootonly", false), vfs.OpenOptions{Flags: unix.O_RDONLY})
			if err == nil {
				f.DecRef(e.ctx)
			}
			return err
		}},
		{"stat", "path walk", func() error {
			_, err := e.vfs.StatAt(none, e.pop("/rootonly", false))
			return err
		}},
		{"mkdir", "path walk", func() error { return e.vfs.MkdirAt(none, e.pop("/ro/x", false), 0o755) }},
		{"access", "access", func() error { return e.vfs.AccessAt(none, e.pop("/rootonly", false), 4, vfs.CheckRealIDs) }},
		{"mount", "mount", func() error {
			fs := e.newTmpfs()
			defer fs.DecRef(e.ctx)
			return e.vfs.MountAt(none, e.pop("/tmp", true), fs, 0)
		}},
		{"fchown through an open file", "setattr", func() error {
			return fd.SetStat(none, vfs.SetStatOptions{Mask: unix.STATX_UID, UID: 1})
		}},
		{"fsetxattr trusted.*", "xattr", func() error { return fd.Setxattr(none, "trusted.x", []byte("v"), 0) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			panicked := func() (p any) {
				defer func() { p = recover() }()
				err = c.call()
				return nil
			}()
			if panicked == nil {
				t.Fatalf("without credentials: returned %v, want a panic naming %q", err, c.op)
			}
			if msg := fmt.Sprint(panicked); !strings.Contains(msg, c.op) || !strings.Contains(msg, "no credentials") {
				t.Fatalf("panic %q, want one naming %q and the missing credentials", msg, c.op)
			}
		})
	}
}

// TestMustCredentials checks the accessor filesystems use for ownership.
func TestMustCredentials(t *testing.T) {
	c := &vfs.Credentials{UID: 7, GID: 8}
	if got := vfs.MustCredentials(vfs.WithCredentials(context.Background(), c), "test"); got != c {
		t.Errorf("MustCredentials = %+v, want %+v", got, c)
	}
	defer func() {
		if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "pipe") {
			t.Errorf("MustCredentials without credentials: recovered %v, want a panic naming pipe", p)
		}
	}()
	vfs.MustCredentials(context.Background(), "pipe")
}
