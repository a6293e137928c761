package boot

import (
	"strings"
	"testing"
)

// TestAddLinkMTUBounds checks the MTUs a taken-over link may have: IPv4's
// minimum (68) up to 64 KiB, as Linux allows, and nothing else.
func TestAddLinkMTUBounds(t *testing.T) {
	for _, mtu := range []int{0, 67, 65536} {
		l := Link{Name: "eth0", Index: 2, FD: 100, MAC: "02:00:00:00:00:01", MTU: mtu}
		err := addLink(nil, l)
		if err == nil || !strings.Contains(err.Error(), "out of range") {
			t.Errorf("MTU %d: %v, want out of range", mtu, err)
		}
	}
}
