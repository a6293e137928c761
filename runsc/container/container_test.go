package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "abc-DEF_1.2+3", strings.Repeat("f", maxIDLength)} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v, want ok", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "a/b", "../x", "a b", "x\x00", strings.Repeat("f", 1000), "é"} {
		if err := ValidateID(id); err == nil {
			t.Errorf("ValidateID(%q) = nil, want an error", id)
		}
	}
}

func TestNewLoadSaveList(t *testing.T) {
	root := t.TempDir()
	spec := &specs.Spec{Version: specs.Version, Root: &specs.Root{Path: "rootfs"}, Annotations: map[string]string{"k": "v"}}
	c, lock, err := New(root, "c1", "/bundle", spec)
	if err != nil {
		t.Fatal(err)
	}
	if c.Rootfs != "/bundle/rootfs" {
		t.Errorf("Rootfs = %q, want /bundle/rootfs", c.Rootfs)
	}
	c.Status = Created
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	lock.Unlock()
	if _, _, err := New(root, "c1", "/bundle", spec); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second New of c1: %v, want 'already exists'", err)
	}
	got, err := Load(root, "c1")
	if err != nil {
		t.Fatal(err)
	}
	// No sandbox process: the container is stopped whatever was saved.
	if st := got.CurrentStatus(); st != Stopped {
		t.Errorf("CurrentStatus = %s, want stopped", st)
	}
	if s := got.State(); s.ID != "c1" || s.Bundle != "/bundle" || s.Annotations["k"] != "v" || s.PID != 0 {
		t.Errorf("State = %+v", s)
	}
	if _, err := Load(root, "nope"); err == nil {
		t.Error("Load of a missing container succeeded")
	}
	ids, err := List(root)
	if err != nil || len(ids) != 1 || ids[0] != "c1" {
		t.Errorf("List = %v, %v; want [c1]", ids, err)
	}
	// No temporary files are left behind by Save.
	ents, _ := os.ReadDir(filepath.Join(root, "c1"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".state-") {
			t.Errorf("left %s behind", e.Name())
		}
	}
}

func TestLockExcludes(t *testing.T) {
	root := t.TempDir()
	_, lock, err := New(root, "c", "/b", &specs.Spec{Root: &specs.Root{Path: "/r"}})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		_, l2, err := LoadLocked(root, "c")
		if err == nil {
			l2.Unlock()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("LoadLocked returned while the lock was held")
	case <-time.After(50 * time.Millisecond):
	}
	lock.Unlock()
	<-got
}

func TestAliveIsTheSameProcess(t *testing.T) {
	self := ProcessOf(os.Getpid())
	if !self.Alive() {
		t.Fatal("this process is not alive")
	}
	reused := self
	reused.StartTime++
	if reused.Alive() {
		t.Error("a process with another start time is taken for this one")
	}
	if (Process{}).Alive() {
		t.Error("PID 0 is alive")
	}
}

func TestAllocateUID(t *testing.T) {
	root := t.TempDir()
	r := HostUIDs{Base: 5000, Count: 2}
	for _, id := range []string{"a", "b", "c", "d"} {
		if err := os.Mkdir(filepath.Join(root, id), 0700); err != nil {
			t.Fatal(err)
		}
	}
	a, err := AllocateUID(root, "a", r)
	if err != nil || a != 5000 {
		t.Fatalf("first: %d, %v", a, err)
	}
	b, err := AllocateUID(root, "b", r)
	if err != nil || b != 5001 {
		t.Fatalf("second: %d, %v", b, err)
	}
	if _, err := AllocateUID(root, "c", r); err == nil {
		t.Fatal("a third UID from a range of two")
	}
	FreeUID(root, "b", a) // not b's: kept
	FreeUID(root, "a", a)
	if c, err := AllocateUID(root, "c", r); err != nil || c != 5000 {
		t.Fatalf("after free: %d, %v", c, err)
	}
	// A record whose container is gone is stale and reused.
	os.RemoveAll(filepath.Join(root, "b"))
	if d, err := AllocateUID(root, "d", r); err != nil || d != 5001 {
		t.Fatalf("stale reuse: %d, %v", d, err)
	}
}

func TestRunHooks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	st := State{ID: "c1", Status: Created, Bundle: "/b"}
	ok := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + out + "; echo $X >> " + out}, Env: []string{"X=env-seen"}}
	if err := RunHooks("prestart", []specs.Hook{ok}, st); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(out)
	if !strings.Contains(string(b), `"id":"c1"`) || !strings.Contains(string(b), "env-seen") {
		t.Errorf("hook saw %q; want the state JSON and its env", b)
	}
	bad := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo boom; exit 3"}}
	err := RunHooks("createRuntime", []specs.Hook{bad, ok}, st)
	if err == nil || !strings.Contains(err.Error(), "createRuntime[0]") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("failing hook: %v", err)
	}
	one := 1
	hang := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "exec sleep 100"}, Timeout: &one}
	start := time.Now()
	err = RunHooks("poststart", []specs.Hook{hang}, st)
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("hanging hook: %v, want a timeout", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("a 1 s timeout took %s", d)
	}
	zero := 0
	if err := RunHooks("poststop", []specs.Hook{{Path: "/bin/true", Timeout: &zero}}, st); err == nil {
		t.Error("a zero timeout is accepted")
	}
}

func TestRunHooksAllGoesOnAfterAFailure(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	st := State{ID: "c1", Status: Running, Bundle: "/b"}
	bad := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo boom; exit 3"}}
	ok := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo ran >> " + out}}
	err := RunHooksAll("poststart", []specs.Hook{bad, ok, bad}, st)
	if err == nil || !strings.Contains(err.Error(), "poststart[0]") || !strings.Contains(err.Error(), "poststart[2]") {
		t.Errorf("failures: %v, want hooks 0 and 2 named", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "ran\n" {
		t.Errorf("hook after the failing one wrote %q, want it run once", b)
	}
}
