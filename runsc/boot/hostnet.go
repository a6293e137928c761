package boot

import (
	"github.com/palisade-sandbox/palisade/netstack"
	"github.com/palisade-sandbox/palisade/runsc/boot/filter"
	"github.com/palisade-sandbox/palisade/runsc/caps"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/syscalls/hostinet"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
)

// useHostNetwork makes k's AF_INET and AF_INET6 sockets host sockets
// held by the Sentry (--network=host, docs/network.md), in the network
// namespace boot runs in.
func useHostNetwork(k *kernel.Kernel) {
	logf := func(format string, args ...any) { k.Warnf(format, args...) }
	inet.SetEndpointFactory(k, func(family, stype, protocol int) (netstack.Endpoint, error) {
		ep, err := hostinet.NewEndpoint(family, stype, protocol, logf)
		if err != nil {
			return nil, err
		}
		return ep, nil
	})
	// NETLINK_ROUTE dumps and interface ioctls describe the host
	// namespace from a snapshot taken now, before the seccomp filter
	// (which allows no AF_NETLINK socket on the host).
	if snap, err := hostinet.TakeSnapshot(); err != nil {
		k.Warnf("hostinet: no snapshot of the host's interfaces (%v): netlink shows the sandbox's loopback stack", err)
	} else {
		inet.SetHostInterfaces(k, snap)
	}
}

// dropPrivileges gives up the boot process's capabilities and installs
// the Sentry's seccomp filter, widened for host sockets when network is
// "host": the last step before guest code runs.
func dropPrivileges(network string, linkFDs []int) error {
	if err := caps.Limit(); err != nil {
		return err
	}
	return filter.Install(network == "host", linkFDs...)
}
