package kernel

import (
	"bytes"
	"log"
	"strings"
	"testing"
)

func TestWarnfLimitsEachFormat(t *testing.T) {
	var buf bytes.Buffer
	k := &Kernel{Log: log.New(&buf, "", 0)}
	for i := 0; i < 3*maxWarningsPerFormat; i++ {
		k.Warnf("task %d: op %d is not implemented", i, 7)
	}
	k.Warnf("another %s", "format")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if want := maxWarningsPerFormat + 2; len(lines) != want {
		t.Fatalf("%d lines logged, want %d:\n%s", len(lines), want, buf.String())
	}
	if !strings.HasSuffix(lines[maxWarningsPerFormat], "(further warnings like this are suppressed)") {
		t.Errorf("line %d = %q, want the suppression note", maxWarningsPerFormat, lines[maxWarningsPerFormat])
	}
	if lines[len(lines)-1] != "W another format" {
		t.Errorf("last line = %q, want the other format's warning", lines[len(lines)-1])
	}
	buf.Reset()
	k.WarnfEvery("x")
	k.WarnfEvery("x")
	if got := strings.Count(buf.String(), "W x\n"); got != 2 {
		t.Errorf("WarnfEvery logged %d lines, want 2", got)
	}
}
