package tcp

import "testing"

func TestCurrEstab(t *testing.T) {
	c, _ := loopbackPair(t, false)
	p := c.(*endpoint).proto
	if got := p.CurrEstab(); got != 2 {
		t.Fatalf("CurrEstab with one connection = %d, want 2 (both ends)", got)
	}
	if a, s := p.Stats().ActiveOpens.Load(), p.Stats().PassiveOpens.Load(); a != 1 || s != 1 {
		t.Errorf("ActiveOpens %d PassiveOpens %d, want 1 and 1", a, s)
	}
	// The client leaves ESTABLISHED at once; the server is ESTABLISHED
	// until the FIN arrives, then CLOSE-WAIT: counted either way.
	c.Close()
	if got := p.CurrEstab(); got != 1 {
		t.Errorf("CurrEstab after the client closed = %d, want 1", got)
	}
}
