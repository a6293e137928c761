package config

import (
	"flag"
	"slices"
	"testing"
)

func TestNetworkModes(t *testing.T) {
	for _, tc := range []struct {
		mode string
		ok   bool
	}{
		{"sandbox", true}, {"none", true}, {"host", true}, {"bridge", false}, {"", false},
	} {
		var c Config
		fs := flag.NewFlagSet("runsc", flag.ContinueOnError)
		c.RegisterFlags(fs)
		if err := fs.Parse([]string{"--network=" + tc.mode}); err != nil {
			t.Fatal(err)
		}
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("--network=%q: Validate() = %v, want ok=%t", tc.mode, err, tc.ok)
		}
		if tc.ok && !slices.Contains(c.ToFlags(), "--network="+tc.mode) {
			t.Errorf("--network=%q is not passed on to child processes: %v", tc.mode, c.ToFlags())
		}
	}
}
