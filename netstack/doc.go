// Package netstack is Palisade's user-space TCP/IP stack. A Stack is one
// network namespace: its interfaces (loopback, and in sandbox mode an
// Ethernet link over a packet socket), addresses, routes and transport
// endpoints. The Sentry's socket files are thin wrappers over the Endpoints
// of this package, so the guest's packets are parsed here and never by the
// host's socket layer.
//
// netstack imports only abi and the standard library (ARCHITECTURE.md): it
// knows nothing of tasks, files or guest memory. Endpoint operations never
// block; they return EAGAIN (or EINPROGRESS for connect) and report readiness
// changes through the function given to SetNotify, and the socket file blocks
// on those notifications.
package netstack
