package kernel

import "golang.org/x/sys/unix"

// RebootNamespace ends the sandbox as reboot(2) ends a child PID
// namespace (Linux: reboot_pid_ns): init is killed and reported to whoever
// waits for it as killed by sig (SIGHUP for a restart, SIGINT for a halt
// or a power-off), which kills every other process of the sandbox; the
// calling thread exits with status 0. The caller returns ErrNoSysReturn.
func (t *Task) RebootNamespace(sig unix.Signal) {
	k := t.k
	k.mu.Lock()
	if k.init != nil && !k.init.zombie {
		k.killGroupLocked(k.init, WaitStatusSignaled(int(sig), false))
	}
	k.mu.Unlock()
	t.Exit(WaitStatusExited(0))
}
