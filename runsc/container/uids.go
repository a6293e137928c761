package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// uidDir is the directory under --root that records which host UIDs
// sandboxes hold: one file per UID, named by it, holding the container ID.
const uidDir = ".uids"

// HostUIDs is the range of host UIDs (and GIDs) sandboxes run as, one
// each, so that no two sandboxes can signal or trace each other's
// processes or share per-UID host limits.
type HostUIDs struct {
	Base  uint32
	Count uint32
}

// AllocateUID takes the lowest free UID of r for the container id. A
// record whose container no longer exists under root is stale and is
// reused.
func AllocateUID(root, id string, r HostUIDs) (uint32, error) {
	dir := filepath.Join(root, uidDir)
	if err := os.MkdirAll(dir, 0700); err != nil {
		return 0, err
	}
	for i := uint32(0); i < r.Count; i++ {
		uid := r.Base + i
		p := filepath.Join(dir, strconv.FormatUint(uint64(uid), 10))
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0600)
		if errors.Is(err, os.ErrExist) {
			if owner, rerr := os.ReadFile(p); rerr == nil && len(owner) > 0 {
				if _, serr := os.Stat(filepath.Join(root, strings.TrimSpace(string(owner)))); errors.Is(serr, os.ErrNotExist) {
					os.Remove(p) // stale: its container is gone
					i--
				}
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		_, err = f.WriteString(id)
		f.Close()
		if err != nil {
			os.Remove(p)
			return 0, err
		}
		return uid, nil
	}
	return 0, fmt.Errorf("no free sandbox host UID in %d..%d (--sandbox-uid-base): %d sandboxes exist", r.Base, r.Base+r.Count-1, r.Count)
}

// FreeUID releases uid if the container id holds it.
func FreeUID(root, id string, uid uint32) {
	p := filepath.Join(root, uidDir, strconv.FormatUint(uint64(uid), 10))
	if owner, err := os.ReadFile(p); err == nil && string(owner) == id {
		os.Remove(p)
	}
}
