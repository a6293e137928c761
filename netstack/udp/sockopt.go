package udp

// Buffer sizes, as Linux's defaults on x86-64 (net.core.rmem_default,
// rmem_max, SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF).
const (
	DefaultBufSize = 212992
	MaxBufSize     = 2 * 212992
	MinRcvBuf      = 2304
	MinSndBuf      = 4608
	// datagramOverhead is what each queued datagram costs on top of its
	// bytes (Linux charges the skb's truesize).
	datagramOverhead = 256
)
