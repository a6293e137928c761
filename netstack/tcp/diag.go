package tcp

// ListenQueue reports a listener's accept queue for socket diagnostics
// (sock_diag's idiag_rqueue and idiag_wqueue of a listener: the
// connections waiting to be accepted and the backlog). listening is false
// for a socket that is not listening.
func (e *endpoint) ListenQueue() (queued, backlog int, listening bool) {
	e.mu.Lock()
	defer e.unlock()
	if e.state != stateListen {
		return 0, 0, false
	}
	return len(e.acceptQ), e.backlog, true
}
