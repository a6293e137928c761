package filter

import (
	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/platform/ptrace"
	"github.com/palisade-sandbox/palisade/runsc/seccomp"
)

// stubRules is the allow-list of the stub processes, which run guest code.
// Guest system calls never reach it: PTRACE_SYSEMU stops them before the
// kernel's seccomp check. It bounds what runs there otherwise: the
// stub's trampolines and the calls the Sentry injects (listed at
// ptrace.Options.StubFilter), each with the arguments the platform uses.
// It is defence in depth against a guest that found a way to make the host
// serve a call, or to get the Sentry to inject one of its choosing.
var stubRules = []seccomp.Rule{
	{Name: "mmap", Nr: unix.SYS_MMAP, Action: seccomp.Allow,
		Conds: []seccomp.Cond{seccomp.In32(3, unix.MAP_SHARED|unix.MAP_FIXED), seccomp.In32(4, ptrace.StubMemFD)},
		Why:   "guest memory: ranges of the memory file, at fixed addresses"},
	{Name: "munmap", Nr: unix.SYS_MUNMAP, Action: seccomp.Allow,
		Why: "guest munmap, and dropping what exec mapped in the master stub"},
	{Name: "mprotect", Nr: unix.SYS_MPROTECT, Action: seccomp.Allow,
		Why: "guest mprotect"},
	{Name: "fork", Nr: unix.SYS_FORK, Action: seccomp.Allow,
		Why: "the master stub forks every new stub process"},
	{Name: "clone", Nr: unix.SYS_CLONE, Action: seccomp.Allow,
		Conds: []seccomp.Cond{seccomp.In64(0, ptrace.StubThreadCloneFlags)},
		Why:   "a new thread in a stub process, sharing everything; no new namespaces, no fork"},
	{Name: "wait4", Nr: unix.SYS_WAIT4, Action: seccomp.Allow,
		Conds: []seccomp.Cond{seccomp.In32(2, unix.WNOHANG|unix.WALL)},
		Why:   "the master stub reaps the stubs it forked"},
	// One rule a number: the two pairs are allowed as a cross product.
	// The mixed ones fail harmlessly: PR_SET_PDEATHSIG of a number that
	// is no signal is EINVAL; PR_SET_NAME of address 9, which the
	// platform never maps (it is below MinUserAddress), is EFAULT.
	{Name: "prctl", Nr: unix.SYS_PRCTL, Action: seccomp.Allow,
		Conds: []seccomp.Cond{seccomp.In32(0, unix.PR_SET_PDEATHSIG, unix.PR_SET_NAME), seccomp.In64(1, uint64(unix.SIGKILL), ptrace.StubNameAddr)},
		Why:   "a forked stub dies with its parent; the Sentry names a stub after its guest process, from the stub page's name slot only"},
	{Name: "pause", Nr: unix.SYS_PAUSE, Action: seccomp.Allow,
		Why: "a new stub thread waits to be seized"},
	{Name: "exit", Nr: unix.SYS_EXIT, Action: seccomp.Allow,
		Why: "a stub thread whose guest thread ended exits"},
	// The vsyscall page's calls are emulated by the host kernel after a
	// seccomp check but without a ptrace stop: refuse them with SIGSYS
	// (a signal the Sentry hands to the guest) instead of serving the
	// host's time or CPU number, and instead of killing the process.
	{Name: "gettimeofday", Nr: unix.SYS_GETTIMEOFDAY, Action: seccomp.Trap,
		Why: "vsyscall page: guest code, refused"},
	{Name: "time", Nr: unix.SYS_TIME, Action: seccomp.Trap,
		Why: "vsyscall page: guest code, refused"},
	{Name: "getcpu", Nr: unix.SYS_GETCPU, Action: seccomp.Trap,
		Why: "vsyscall page: guest code, refused"},
}

// StubRules returns the stub processes' allow-list (a copy), for tests.
func StubRules() []seccomp.Rule {
	return append([]seccomp.Rule(nil), stubRules...)
}

// StubProgram returns the compiled stub filter, for ptrace.Options.
func StubProgram() ([]unix.SockFilter, error) {
	return seccomp.Build(stubRules)
}
