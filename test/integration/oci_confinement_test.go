package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestOCIContainerProcessesHostView is TestSandboxProcessesHostView for
// containers made by runsc create/start: for two running containers it
// reads the host's view of each one's runsc-sandbox (the Sentry), stubs
// and runsc-gofer, and checks what docs/security.md ("Threat model")
// says of them: the sandbox and its stubs run as the container's own host
// UID (recorded in state.json, different for the two), with no
// capabilities; the gofer as host root with only its DAC capabilities;
// all with no_new_privs and a seccomp filter, a root that is not the
// host's, namespaces of their own, and none of the descriptors runsc
// create's caller left open. And the two sandboxes cannot signal each
// other.
func TestOCIContainerProcessesHostView(t *testing.T) {
	e := newOCIEnv(t)
	// A host file runsc create inherits (no O_CLOEXEC), as a shell's
	// 5>file would leave it, at descriptor 3 of runsc.
	leakPath := filepath.Join(e.dir, "caller-file")
	leak, err := os.OpenFile(leakPath, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer leak.Close()
	var leakSt unix.Stat_t
	if err := unix.Fstat(int(leak.Fd()), &leakSt); err != nil {
		t.Fatal(err)
	}
	var hostRoot unix.Stat_t
	if err := unix.Stat("/", &hostRoot); err != nil {
		t.Fatal(err)
	}

	var recs []ociRecord
	var ids []string
	for _, name := range []string{"view-a", "view-b"} {
		id := e.id(name)
		e.deleteAtCleanup(id)
		cmd := e.command("create", "--bundle", e.bundle(e.spec("sleep", "100000"), nil), id)
		cmd.ExtraFiles = []*os.File{leak}
		// A file, not a pipe: the sandbox keeps create's stdio.
		out := e.tempFile()
		cmd.Stdout, cmd.Stderr = out, out
		err := cmd.Run()
		out.Close()
		if err != nil {
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("runsc create %s: %v: %s", id, err, b)
		}
		e.must("start", id)
		recs = append(recs, e.record(id))
		ids = append(ids, id)
	}
	if recs[0].HostUID == recs[1].HostUID {
		t.Errorf("both containers run as host UID %d", recs[0].HostUID)
	}

	for i, rec := range recs {
		procs := []sandboxProcess{{"boot", rec.Sandbox.PID}, {"gofer", rec.Gofer.PID}}
		for _, s := range stubsUnder(rec.Sandbox.PID) {
			procs = append(procs, sandboxProcess{"stub", s.pid})
		}
		if len(procs) < 3 {
			t.Fatalf("%s: no stub under its sandbox (pid %d)", ids[i], rec.Sandbox.PID)
		}
		mine := map[int]bool{}
		for _, p := range procs {
			mine[p.pid] = true
			name := fmt.Sprintf("%s %s (pid %d)", ids[i], p.role, p.pid)
			wantID := strconv.Itoa(rec.HostUID)
			wantCaps := "0000000000000000"
			if p.role == "gofer" {
				wantID, wantCaps = "0", fmt.Sprintf("%016x", goferCapMask)
			}
			for _, f := range []string{"Uid", "Gid"} {
				if got, want := statusField(p.pid, f), strings.Repeat(wantID+" ", 4); got+" " != want {
					t.Errorf("%s: %s = %q, want %q", name, f, got, strings.TrimSpace(want))
				}
			}
			if p.role != "gofer" {
				if got := statusField(p.pid, "Groups"); got != "" {
					t.Errorf("%s: supplementary groups %q, want none", name, got)
				}
			}
			if got := statusField(p.pid, "NoNewPrivs"); got != "1" {
				t.Errorf("%s: NoNewPrivs = %q, want 1", name, got)
			}
			if got := statusField(p.pid, "Seccomp"); got != "2" {
				t.Errorf("%s: Seccomp = %q, want 2 (filter)", name, got)
			}
			for _, set := range []string{"CapInh", "CapAmb"} {
				if got := statusField(p.pid, set); got != "0000000000000000" {
					t.Errorf("%s: %s = %q, want none", name, set, got)
				}
			}
			for _, set := range []string{"CapPrm", "CapEff", "CapBnd"} {
				if got := statusField(p.pid, set); got != wantCaps {
					t.Errorf("%s: %s = %q, want %s", name, set, got, wantCaps)
				}
			}
			var root unix.Stat_t
			if err := unix.Stat(filepath.Join("/proc", strconv.Itoa(p.pid), "root"), &root); err != nil {
				t.Errorf("%s: stat of its root: %v", name, err)
			} else if root.Dev == hostRoot.Dev && root.Ino == hostRoot.Ino {
				t.Errorf("%s: its root is the host's /", name)
			}
			nss := []string{"mnt", "pid", "net", "ipc", "uts"}
			if p.role != "gofer" {
				nss = append(nss, "user")
			}
			for _, ns := range nss {
				host, _ := os.Readlink("/proc/self/ns/" + ns)
				theirs, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(p.pid), "ns", ns))
				if theirs == "" || theirs == host {
					t.Errorf("%s: %s namespace %q is the host's", name, ns, theirs)
				}
				if p.role == "boot" {
					other, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(recs[1-i].Sandbox.PID), "ns", ns))
					if other == theirs {
						t.Errorf("%s: shares its %s namespace with the other container's sandbox", name, ns)
					}
				}
			}
			checkFDs(t, name, p.role, hostFDs(t, p.pid), &leakSt, &hostRoot)
		}
		// Nothing else on the host runs as the container's UID.
		others := hostProcs(func(_ string, pid int) bool {
			f := strings.Fields(statusField(pid, "Uid"))
			return !mine[pid] && len(f) > 0 && f[0] == strconv.Itoa(rec.HostUID) && procState(pid) != "Z"
		})
		if len(others) > 0 {
			t.Errorf("%s: other host processes run as its UID %d: %v", ids[i], rec.HostUID, others)
		}
	}

	// Signals: a process with the first sandbox's host credentials may
	// signal that sandbox (the check can fail) but not the other one,
	// its stubs or its gofer.
	a, b := recs[0], recs[1]
	canSignal := func(pid int) bool {
		cmd := exec.Command("/bin/busybox", "kill", "-0", strconv.Itoa(pid))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(a.HostUID), Gid: uint32(a.HostUID)}}
		return cmd.Run() == nil
	}
	if !canSignal(a.Sandbox.PID) {
		t.Errorf("a process running as host UID %d cannot signal its own sandbox (pid %d): the check is broken", a.HostUID, a.Sandbox.PID)
	}
	targets := []sandboxProcess{{"sandbox", b.Sandbox.PID}, {"gofer", b.Gofer.PID}}
	for _, s := range stubsUnder(b.Sandbox.PID) {
		targets = append(targets, sandboxProcess{"stub", s.pid})
	}
	for _, p := range targets {
		if canSignal(p.pid) {
			t.Errorf("the first container's host UID %d can signal the second container's %s (pid %d)", a.HostUID, p.role, p.pid)
		}
	}
}
