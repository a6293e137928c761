package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// UIDRegistry is the host-wide directory that records which host UIDs
// sandboxes hold: one file per UID, named by it, holding the absolute
// state directory of its container. It is not under --root: runtimes
// with different roots (docker's, containerd's, a person's) share the
// host, and two sandboxes must never get the same UID, or they could
// signal and trace each other's processes. A variable for tests.
var UIDRegistry = "/run/palisade/uids"

// HostUIDs is the range of host UIDs (and GIDs) sandboxes run as, one
// each, so that no two sandboxes can signal or trace each other's
// processes or share per-UID host limits.
type HostUIDs struct {
	Base  uint32
	Count uint32
}

// AllocateUID takes the lowest free UID of r for the container id of
// root. A UID is free when no record holds it and no host process runs
// as it (a sandbox of an older runsc, another user). A record whose
// container no longer exists is stale and is reused. Allocations are
// serialised by a lock on the registry.
func AllocateUID(root, id string, r HostUIDs) (uint32, error) {
	owner, err := uidOwner(root, id)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(UIDRegistry, 0o700); err != nil {
		return 0, fmt.Errorf("host UID registry: %w", err)
	}
	lock, err := lockDir(UIDRegistry)
	if err != nil {
		return 0, err
	}
	defer lock.Unlock()
	inUse := hostUIDsInUse()
	for i := uint32(0); i < r.Count; i++ {
		uid := r.Base + i
		if inUse[uid] {
			continue
		}
		p := filepath.Join(UIDRegistry, strconv.FormatUint(uint64(uid), 10))
		if rec, err := os.ReadFile(p); err == nil {
			holder := strings.TrimSpace(string(rec))
			if _, serr := os.Stat(holder); holder == "" || !errors.Is(serr, os.ErrNotExist) {
				continue
			}
			os.Remove(p) // stale: its container is gone
		}
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return 0, fmt.Errorf("host UID registry: %w", err)
		}
		_, err = f.WriteString(owner)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(p)
			return 0, fmt.Errorf("host UID registry: %w", err)
		}
		return uid, nil
	}
	return 0, fmt.Errorf("no free sandbox host UID in %d..%d (--sandbox-uid-base): all are taken", r.Base, r.Base+r.Count-1)
}

// FreeUID releases uid if the container id of root holds it.
func FreeUID(root, id string, uid uint32) {
	owner, err := uidOwner(root, id)
	if err != nil {
		return
	}
	p := filepath.Join(UIDRegistry, strconv.FormatUint(uint64(uid), 10))
	if rec, err := os.ReadFile(p); err == nil && strings.TrimSpace(string(rec)) == owner {
		os.Remove(p)
	}
}

// uidOwner is what a UID record holds: the container's absolute state
// directory.
func uidOwner(root, id string) (string, error) {
	if err := ValidateID(id); err != nil {
		return "", err
	}
	return filepath.Abs(filepath.Join(root, id))
}

// hostUIDsInUse returns the real, effective and saved UIDs of every host
// process (that it can read).
func hostUIDsInUse() map[uint32]bool {
	out := map[uint32]bool{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return out
	}
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Uid:"); ok {
				for _, f := range strings.Fields(v) {
					if n, err := strconv.ParseUint(f, 10, 32); err == nil {
						out[uint32(n)] = true
					}
				}
				break
			}
		}
	}
	return out
}
