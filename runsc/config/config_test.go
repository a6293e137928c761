package config

import (
	"flag"
	"testing"
)

func TestMaxTasksIsValidatedAndPassedOn(t *testing.T) {
	for _, tc := range []struct {
		arg string
		ok  bool
	}{
		{"", true}, // the default
		{"--max-tasks=1", true},
		{"--max-tasks=100", true},
		{"--max-tasks=0", false},
		{"--max-tasks=-5", false},
		{"--max-tasks=2000000", false},
	} {
		var c Config
		fs := flag.NewFlagSet("runsc", flag.ContinueOnError)
		c.RegisterFlags(fs)
		var args []string
		if tc.arg != "" {
			args = []string{tc.arg}
		}
		if err := fs.Parse(args); err != nil {
			t.Fatalf("%q: %v", tc.arg, err)
		}
		if err := c.Validate(); (err == nil) != tc.ok {
			t.Errorf("%q: Validate() = %v, want ok=%t", tc.arg, err, tc.ok)
		}
		if !tc.ok {
			continue
		}
		// A child runsc sees the same value.
		var child Config
		cfs := flag.NewFlagSet("child", flag.ContinueOnError)
		child.RegisterFlags(cfs)
		if err := cfs.Parse(c.ToFlags()); err != nil {
			t.Fatalf("%q: parsing ToFlags %q: %v", tc.arg, c.ToFlags(), err)
		}
		if child.MaxTasks != c.MaxTasks {
			t.Errorf("%q: child got --max-tasks=%d, want %d", tc.arg, child.MaxTasks, c.MaxTasks)
		}
	}
	var c Config
	c.RegisterFlags(flag.NewFlagSet("runsc", flag.ContinueOnError))
	if c.MaxTasks != DefaultMaxTasks {
		t.Errorf("default --max-tasks = %d, want %d", c.MaxTasks, DefaultMaxTasks)
	}
}
