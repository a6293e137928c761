package tcp

// CurrEstab returns the number of connections in the ESTABLISHED or
// CLOSE-WAIT state (RFC 1213 tcpCurrEstab; Linux: the Tcp CurrEstab of
// /proc/net/snmp). It is counted when asked rather than kept as a gauge,
// so no state change has to maintain it.
func (p *Protocol) CurrEstab() uint64 {
	p.mu.Lock()
	eps := make([]*endpoint, 0, len(p.conns))
	for _, e := range p.conns {
		eps = append(eps, e)
	}
	p.mu.Unlock()
	// Lock order: endpoint.mu before Protocol.mu, so the states are read
	// after p.mu is released.
	var n uint64
	for _, e := range eps {
		e.mu.Lock()
		st := e.state
		e.mu.Unlock()
		if st == stateEstablished || st == stateCloseWait {
			n++
		}
	}
	return n
}
