package kernel

import "github.com/palisade-sandbox/palisade/sentry/mm"

// Mempolicy returns t's NUMA memory policy (set_mempolicy(2)).
func (t *Task) Mempolicy() mm.Policy {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.mempolicy
}

// SetMempolicy records p, already validated, as t's policy.
func (t *Task) SetMempolicy(p mm.Policy) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.mempolicy = p
}
