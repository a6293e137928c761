package cmd

import (
	"bytes"
	"testing"
)

func TestStatusLines(t *testing.T) {
	var b bytes.Buffer
	writeStatus(&b, statusCrash, "panic in the Sentry\ngoroutine 1 [running]:\n")
	if got, want := b.String(), "crash panic in the Sentry goroutine 1 [running]:\n"; got != want {
		t.Errorf("crash line %q, want %q (one line)", got, want)
	}
	for _, tc := range []struct {
		line string
		want bootReport
		ok   bool
	}{
		{"exit 0\n", bootReport{exited: true, status: 0}, true},
		{"exit 255\n", bootReport{exited: true, status: 255}, true},
		{"exit 256\n", bootReport{}, false},
		{"exit -1\n", bootReport{}, false},
		{"exit\n", bootReport{}, false},
		{"crash lost the gofer\n", bootReport{crash: "lost the gofer"}, true},
		{"crash\n", bootReport{crash: "unknown reason"}, true},
		{"", bootReport{}, false}, // EOF: boot died without a word
		{"exit 3", bootReport{exited: true, status: 3}, true},
		{"ok\n", bootReport{}, false},
	} {
		got, ok := parseEndLine(tc.line)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseEndLine(%q) = %+v, %t; want %+v, %t", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}
