package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_MAP_SHADOW_STACK, MapShadowStack)
}

// MapShadowStack implements map_shadow_stack(2). The sandbox's CPU has no
// user shadow stacks (no X86_FEATURE_USER_SHSTK: the Sentry does not run
// guests with CET enabled), and Linux checks that before anything else:
// EOPNOTSUPP whatever the arguments.
func MapShadowStack(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return 0, unix.EOPNOTSUPP
}
