package linux

import (
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	partial(unix.SYS_PERSONALITY, "flags are kept, inherited and reported; READ_IMPLIES_EXEC applies to mmap and mprotect; UNAME26 changes nothing, and there is no address randomisation for ADDR_NO_RANDOMIZE to turn off", Personality)
}

// Personality implements personality(2): 0xffffffff queries, any other
// value (unknown personas too, as Linux since 4.1) replaces the task's;
// the old value is returned either way. The argument is an unsigned int:
// the upper half of the register is ignored.
func Personality(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	p := uint32(args[0])
	if p == 0xffffffff {
		return uint64(t.Personality()), nil
	}
	return uint64(t.SetPersonality(p)), nil
}
