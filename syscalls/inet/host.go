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
