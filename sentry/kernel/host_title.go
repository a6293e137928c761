package kernel

import (
	"strings"

	"github.com/palisade-sandbox/palisade/platform"
)

// The host process behind a process's address space (a stub of the ptrace
// platform) shows host tools (ps, docker top) the process's name and
// command line: its thread group leader's comm, and the arguments of the
// program it last exec'd (hostArgs), as Linux would show the process
// itself. It is updated only when they change: on exec, on fork (a new
// address space), and when the leader renames itself.

// updateHostTitle passes t's process's title to the platform, if its
// address space can show one. It must be called by t or, before t starts,
// by its creator.
func (t *Task) updateHostTitle() {
	if t.mm == nil {
		return
	}
	ht, ok := t.mm.AddressSpace().(platform.HostTitler)
	if !ok {
		return
	}
	t.k.mu.Lock()
	comm := t.comm
	if l := t.tg.leader; l != nil {
		comm = l.comm
	}
	args := t.tg.hostArgs
	t.k.mu.Unlock()
	ht.SetHostTitle(comm, args)
}

// hostArgsOf returns the command line a program's arguments make, as ps
// shows it: the arguments joined by spaces, read from the new address
// space as /proc/PID/cmdline would be (at most maxCmdlineBytes).
func hostArgsOf(copyIn func(uint64, []byte) (int, error), start, end uint64) string {
	return strings.Join(readArgv(start, end, copyIn), " ")
}
