package integration

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// dockerDefaultCaps is Docker's default capability set for a container:
// CAP_NET_RAW is in it, so `docker run busybox ping` works with runc.
var dockerDefaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// TestOCIRawPing is `docker run --runtime=runsc busybox ping -c1
// 127.0.0.1` without docker: a container with Docker's default
// capabilities pings its own loopback through a raw socket; the same
// container without CAP_NET_RAW gets EPERM, as with runc.
func TestOCIRawPing(t *testing.T) {
	e := newOCIEnv(t)
	for _, withRaw := range []bool{true, false} {
		var caps []string
		for _, c := range dockerDefaultCaps {
			if withRaw || c != "CAP_NET_RAW" {
				caps = append(caps, c)
			}
		}
		spec := e.spec("/bin/busybox", "ping", "-c", "1", "-W", "10", "127.0.0.1")
		spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
		id := e.id("rawping")
		e.deleteAtCleanup(id)
		r := e.runsc("run", "--bundle", e.bundle(spec, nil), id)
		if withRaw {
			if r.status != 0 || !strings.Contains(r.stdout, "1 packets received") {
				t.Errorf("ping with CAP_NET_RAW: status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
			}
		} else if r.status == 0 || !strings.Contains(strings.ToLower(r.stderr+r.stdout), "permission denied") {
			t.Errorf("ping without CAP_NET_RAW: status %d, stdout %q, stderr %q", r.status, r.stdout, r.stderr)
		}
	}
}
