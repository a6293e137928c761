package container

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultHookTimeout bounds a hook without a timeout of its own, so that
// a hook that hangs cannot hang the runtime.
const defaultHookTimeout = 2 * time.Minute

// RunHooks runs hooks in order, each with the container's state JSON on
// its stdin, its args, env and timeout, as the OCI spec says. The first
// that fails (or times out) stops the rest; its error names the kind of
// hook and the index.
func RunHooks(kind string, hooks []specs.Hook, st State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	for i, h := range hooks {
		if err := runHook(kind, i, h, b); err != nil {
			return err
		}
	}
	return nil
}

// RunHooksAll runs every hook as RunHooks does but goes on after one
// fails, and returns the failures joined: the runtime spec says a failing
// poststart or poststop hook is logged, and the remaining hooks and the
// lifecycle continue as if it had succeeded.
func RunHooksAll(kind string, hooks []specs.Hook, st State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	var errs []error
	for i, h := range hooks {
		if err := runHook(kind, i, h, b); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// runHook runs hooks.KIND[i], h, with the state JSON b on its stdin.
func runHook(kind string, i int, h specs.Hook, b []byte) error {
	timeout := defaultHookTimeout
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("hooks.%s[%d].timeout must be positive", kind, i)
		}
		timeout = time.Duration(*h.Timeout) * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args
	} else {
		cmd.Args = []string{h.Path}
	}
	cmd.Env = h.Env
	cmd.Stdin = bytes.NewReader(b)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// The hook's own children must not keep it "running" past the
	// timeout by holding its output pipe.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	timedOut := ctx.Err() != nil
	cancel()
	if timedOut {
		return fmt.Errorf("hooks.%s[%d] (%s) timed out after %s", kind, i, h.Path, timeout)
	}
	if err != nil {
		return fmt.Errorf("hooks.%s[%d] (%s) failed: %v: %s", kind, i, h.Path, err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}
