package inet

import (
	"sync"

	"github.com/palisade-sandbox/palisade/netstack"
)

// EndpointFactory makes the transport endpoint of a new socket of family,
// stype and protocol instead of the sandbox's stack: --network=host uses
// one that makes host sockets (syscalls/hostinet). Its errors are
// socket(2)'s.
type EndpointFactory func(family, stype, protocol int) (netstack.Endpoint, error)

// factories maps a kernel to its EndpointFactory.
var factories sync.Map

// SetEndpointFactory makes f the maker of k's inet socket endpoints.
func SetEndpointFactory(k any, f EndpointFactory) { factories.Store(k, f) }

// EndpointFactoryFor returns k's EndpointFactory, or nil when k's sockets
// live in its netstack.
func EndpointFactoryFor(k any) EndpointFactory {
	if f, ok := factories.Load(k); ok {
		return f.(EndpointFactory)
	}
	return nil
}

// InterfaceSource describes a network namespace's interfaces and routes
// (netlink.Source has the same methods).
type InterfaceSource interface {
	Interfaces() []netstack.InterfaceInfo
	Routes() []netstack.RouteEntry
}

// hostSources maps a kernel to the InterfaceSource of its host namespace.
var hostSources sync.Map

// SetHostInterfaces makes src what k's NETLINK_ROUTE dumps and interface
// ioctls describe (--network=host: the host namespace's snapshot).
func SetHostInterfaces(k any, src InterfaceSource) { hostSources.Store(k, src) }

// HostInterfacesFor returns k's host InterfaceSource, or nil.
func HostInterfacesFor(k any) InterfaceSource {
	if s, ok := hostSources.Load(k); ok {
		return s.(InterfaceSource)
	}
	return nil
}
