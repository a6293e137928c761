// Package container keeps the state of OCI containers on disk: one
// directory per container under the runtime's root (--root), holding
// state.json (written atomically: a temporary file renamed over the old
// one) and a lock file that every runsc command changing the container
// holds (flock) while it works. runsc is a short-lived CLI, so this
// directory is all that connects one command to the next.
package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Status is a container's OCI status.
type Status string

// The statuses of the OCI runtime spec's state.
const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

// Process is a host process the container owns, recorded with its start
// time (field 22 of /proc/PID/stat) so that a PID reused by some other
// process is never taken for it.
type Process struct {
	PID       int    `json:"pid"`
	StartTime uint64 `json:"startTime"`
}

// Container is the state of one container, as saved in state.json.
type Container struct {
	ID     string `json:"id"`
	Bundle string `json:"bundle"`
	// Rootfs is the absolute path of the container's root on the host.
	Rootfs string `json:"rootfs"`
	// Spec is the container's config.json as it was at create: the
	// bundle may change afterwards.
	Spec    *specs.Spec `json:"spec"`
	Created time.Time   `json:"created"`
	Owner   string      `json:"owner"`
	// Status is the last status a command recorded; Stopped is also
	// what a container whose sandbox is gone has (see CurrentStatus).
	Status Status `json:"status"`
	// Sandbox is the runsc boot process, Gofer the runsc gofer.
	Sandbox Process `json:"sandbox"`
	Gofer   Process `json:"gofer"`
	// HostUID is the host UID (and GID) the sandbox runs as.
	HostUID uint32 `json:"hostUID"`
	// CgroupPath is the sandbox's host cgroup, "" if none.
	CgroupPath string `json:"cgroupPath,omitempty"`
	// Creator is the runsc process creating the container, set until
	// create has finished (hooks run, PID file written): a container
	// whose creator died before that was never fully created and is
	// stopped, whatever status it recorded.
	Creator *Process `json:"creator,omitempty"`
	// ExitStatus is the first process's status once it is known.
	ExitStatus *int `json:"exitStatus,omitempty"`

	dir string
}

// ErrNotExist is the error of loading a container that does not exist.
var ErrNotExist = errors.New("container does not exist")

// maxIDLength bounds container IDs: a path component of the state
// directory (docker's are 64 hex digits).
const maxIDLength = 128

// ValidateID checks that id can name a container: non-empty, at most
// maxIDLength characters of letters, digits, '_', '+', '-' and '.', and
// not "." or "..": it is a directory name under --root.
func ValidateID(id string) error {
	if id == "" {
		return errors.New("container ID must not be empty")
	}
	if len(id) > maxIDLength {
		return fmt.Errorf("container ID of %d characters is too long (at most %d)", len(id), maxIDLength)
	}
	if id == "." || id == ".." {
		return fmt.Errorf("invalid container ID %q", id)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_+-.", r)
		if !ok {
			return fmt.Errorf("invalid container ID %q: only letters, digits and _+-. are allowed", id)
		}
	}
	return nil
}

// Dir is the container's state directory.
func (c *Container) Dir() string { return c.dir }

// stateFile and lockFile are the names in a state directory.
const (
	stateFile = "state.json"
	lockFile  = "lock"
)

// Lock is a held container lock.
type Lock struct{ f *os.File }

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l != nil && l.f != nil {
		l.f.Close()
	}
}

// lockDir takes the exclusive lock of a state directory.
func lockDir(dir string) (*Lock, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0600)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", dir, err)
	}
	return &Lock{f: f}, nil
}

// New makes the state directory of a new container and returns it
// locked. It fails if a container of that ID exists.
func New(root, id, bundle string, spec *specs.Spec) (*Container, *Lock, error) {
	if err := ValidateID(id); err != nil {
		return nil, nil, err
	}
	if err := os.MkdirAll(root, 0711); err != nil {
		return nil, nil, fmt.Errorf("--root: %w", err)
	}
	dir := filepath.Join(root, id)
	if err := os.Mkdir(dir, 0700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, nil, fmt.Errorf("container %q already exists", id)
		}
		return nil, nil, err
	}
	l, err := lockDir(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	c := &Container{ID: id, Bundle: bundle, Spec: spec, Created: time.Now().UTC(), Owner: "", Status: Creating, dir: dir}
	if spec != nil && spec.Root != nil {
		c.Rootfs = spec.Root.Path
		if !filepath.IsAbs(c.Rootfs) {
			c.Rootfs = filepath.Join(bundle, c.Rootfs)
		}
	}
	if err := c.Save(); err != nil {
		l.Unlock()
		os.RemoveAll(dir)
		return nil, nil, err
	}
	return c, l, nil
}

// Load reads a container's state. It does not lock.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			if _, serr := os.Stat(dir); serr == nil {
				// A create that died before its first save.
				return &Container{ID: id, Status: Stopped, dir: dir}, nil
			}
			return nil, fmt.Errorf("%q: %w", id, ErrNotExist)
		}
		return nil, err
	}
	c := &Container{}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("container %q: corrupt state: %w", id, err)
	}
	c.dir = dir
	return c, nil
}

// LoadLocked reads a container's state while holding its lock.
func LoadLocked(root, id string) (*Container, *Lock, error) {
	if err := ValidateID(id); err != nil {
		return nil, nil, err
	}
	dir := filepath.Join(root, id)
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, fmt.Errorf("%q: %w", id, ErrNotExist)
	}
	l, err := lockDir(dir)
	if err != nil {
		return nil, nil, err
	}
	c, err := Load(root, id)
	if err != nil {
		l.Unlock()
		return nil, nil, err
	}
	return c, l, nil
}

// Save writes the state atomically: readers see the old file or the new
// one, never part of one. It does not fsync: the state describes live
// processes and means nothing after the host crashes (every container is
// stopped then), and an fsync on a disk-backed --root (docker's is under
// /var/run, on disk on some hosts) costs milliseconds on each create,
// start and pause.
func (c *Container) Save() error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, ".state-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(c.dir, stateFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("saving container state: %w", err)
	}
	return nil
}

// Remove deletes the state directory.
func (c *Container) Remove() error { return os.RemoveAll(c.dir) }

// List returns the IDs of the containers under root, sorted.
func List(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if e.IsDir() && ValidateID(e.Name()) == nil {
			if _, err := os.Stat(filepath.Join(root, e.Name(), lockFile)); err == nil {
				ids = append(ids, e.Name())
			}
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// ProcessOf records the running process pid with its start time.
func ProcessOf(pid int) Process {
	st, _ := startTime(pid)
	return Process{PID: pid, StartTime: st}
}

// Alive reports whether p is still the same running process (not a
// zombie).
func (p Process) Alive() bool {
	if p.PID <= 0 {
		return false
	}
	st, state, err := statOf(p.PID)
	return err == nil && st == p.StartTime && state != 'Z' && state != 'X'
}

// Kill sends sig to p if it is still the same process.
func (p Process) Kill(sig unix.Signal) error {
	if !p.Alive() {
		return unix.ESRCH
	}
	return unix.Kill(p.PID, sig)
}

func startTime(pid int) (uint64, error) {
	st, _, err := statOf(pid)
	return st, err
}

// statOf reads a process's start time and state letter from
// /proc/PID/stat.
func statOf(pid int) (uint64, byte, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may hold anything; the
	// fields after the last ')' are plain.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, 0, errors.New("malformed stat")
	}
	st, err := strconv.ParseUint(f[19], 10, 64) // field 22: starttime
	return st, f[0][0], err
}

// CurrentStatus is the container's status now: the recorded one while
// its sandbox lives, Stopped once it is gone or once the runsc that was
// creating it died before it finished.
func (c *Container) CurrentStatus() Status {
	if c.Creator != nil && !c.Creator.Alive() {
		return Stopped
	}
	switch c.Status {
	case Created, Running, Paused:
		if c.Sandbox.Alive() {
			return c.Status
		}
		return Stopped
	case Creating:
		if c.Sandbox.Alive() {
			return Creating
		}
		return Stopped
	}
	return Stopped
}

// State returns the OCI state of the container (runc's shape: the spec's
// fields plus rootfs, created and owner).
func (c *Container) State() State {
	s := State{
		OCIVersion: specs.Version, ID: c.ID, Status: c.CurrentStatus(), Bundle: c.Bundle,
		Rootfs: c.Rootfs, Created: c.Created, Owner: c.Owner,
	}
	if c.Spec != nil {
		s.Annotations = c.Spec.Annotations
	}
	if s.Status != Stopped {
		s.PID = c.Sandbox.PID
	}
	return s
}

// State is the JSON `runsc state` prints and hooks read on stdin.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      Status            `json:"status"`
	PID         int               `json:"pid"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs,omitempty"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}
