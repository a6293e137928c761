package integration

import (
	"os/exec"
	"strings"
	"testing"
)

// TestRawSocketPing runs busybox ping, which always opens a raw ICMP
// socket (SOCK_RAW, IPPROTO_ICMP or IPPROTO_ICMPV6, with ICMP_FILTER or
// ICMP6_FILTER and IPV6_CHECKSUM), inside the sandbox against its own
// loopback addresses, as `docker run --runtime=runsc busybox ping` does
// with a container's default CAP_NET_RAW. iputils ping is run too where
// present (it prefers a ping socket, which the sandbox allows).
func TestRawSocketPing(t *testing.T) {
	bb, err := exec.LookPath("busybox")
	if err != nil {
		t.Skip("no busybox on this machine")
	}
	for _, dst := range []string{"127.0.0.1", "::1"} {
		r := run(t, "/", runsc(t), "--network=none", "do", bb, "ping", "-c", "2", "-W", "10", dst)
		if r.status != 0 || !strings.Contains(r.stdout, "2 packets received") {
			t.Errorf("busybox ping %s: status %d\nstdout: %s\nstderr: %s", dst, r.status, r.stdout, r.stderr)
		}
	}
	if ping, err := exec.LookPath("ping"); err == nil {
		for _, dst := range []string{"127.0.0.1", "::1"} {
			r := run(t, "/", runsc(t), "--network=none", "do", ping, "-c", "1", "-W", "10", dst)
			if r.status != 0 || !strings.Contains(r.stdout, "1 received") {
				t.Errorf("ping %s: status %d\nstdout: %s\nstderr: %s", dst, r.status, r.stdout, r.stderr)
			}
		}
	}
}
