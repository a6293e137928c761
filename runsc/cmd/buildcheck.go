package cmd

import (
	"errors"
	"runtime/debug"
)

// checkStaticBuild refuses a runsc built with cgo. Such a binary is linked
// against glibc, whose thread creation and other calls the boot process's
// seccomp filter does not allow: the Sentry would be killed with SIGSYS
// after the filter is installed, and the only sign would be a sandbox that
// failed to start. `make runsc` builds with CGO_ENABLED=0.
func checkStaticBuild() error {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	for _, s := range info.Settings {
		if s.Key == "CGO_ENABLED" && s.Value == "1" {
			return errors.New("this runsc was built with cgo, which the sandbox's seccomp filter does not allow; rebuild it with CGO_ENABLED=0 (make runsc)")
		}
	}
	return nil
}
