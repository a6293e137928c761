package tcp

import (
	"strconv"
	"time"
)

// Sysctls returns the net.* sysctls that describe this TCP's fixed limits
// and defaults, as /proc/sys/net shows them: contents by path below
// /proc/sys/net. They are read-only: the values are constants of the
// implementation.
func Sysctls() map[string]string {
	n := func(v int) string { return strconv.Itoa(v) + "\n" }
	sec := func(d time.Duration) string { return n(int(d / time.Second)) }
	return map[string]string{
		"core/rmem_max":               n(maxBufSysctl),
		"core/wmem_max":               n(maxBufSysctl),
		"core/somaxconn":              n(somaxconn),
		"ipv4/tcp_keepalive_time":     sec(defaultKeepIdle),
		"ipv4/tcp_keepalive_intvl":    sec(defaultKeepIntvl),
		"ipv4/tcp_keepalive_probes":   n(defaultKeepCnt),
		"ipv4/tcp_fin_timeout":        sec(finTimeout),
		"ipv4/tcp_syn_retries":        n(synRetries),
		"ipv4/tcp_synack_retries":     n(synAckRetries),
		"ipv4/tcp_retries2":           n(maxRetries),
		"ipv4/tcp_sack":               n(1),
		"ipv4/tcp_timestamps":         n(1),
		"ipv4/tcp_window_scaling":     n(1),
		"ipv4/tcp_congestion_control": "cubic\n",
	}
}
