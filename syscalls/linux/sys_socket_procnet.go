package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/kernel/unixsocket"
)

// ProcNetUnix returns /proc/net/unix for the AF_UNIX sockets of kernel
// k's sandbox.
func ProcNetUnix(k *kernel.Kernel) []byte {
	ns, _ := socketNamespaces.LoadOrStore(k, unixsocket.NewNamespace())
	return ns.(*unixsocket.Namespace).ProcNetUnix()
}
