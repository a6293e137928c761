package kernel

import (
	"github.com/palisade-sandbox/palisade/sentry/kernel/ipc"
	"golang.org/x/sys/unix"
)

// IPCNamespace returns the sandbox's System V IPC namespace, created on
// first use. There is one per kernel: CLONE_NEWIPC is not modelled yet.
func (k *Kernel) IPCNamespace() *ipc.Namespace {
	if ns := k.ipcNS.Load(); ns != nil {
		return ns
	}
	k.ipcNS.CompareAndSwap(nil, ipc.NewNamespace(k.MemoryFile))
	return k.ipcNS.Load()
}

// IPCCreds returns t's identity for System V IPC permission checks:
// effective IDs, supplementary groups, the capabilities that matter, and
// its process ID.
func (t *Task) IPCCreds() *ipc.Creds {
	c := t.Credentials()
	return &ipc.Creds{
		UID: c.EffectiveUID, GID: c.EffectiveGID, Groups: c.Groups,
		IPCOwner: c.HasCap(unix.CAP_IPC_OWNER),
		SysAdmin: c.HasCap(unix.CAP_SYS_ADMIN),
		Resource: c.HasCap(unix.CAP_SYS_RESOURCE),
		IPCLock:  c.HasCap(unix.CAP_IPC_LOCK),
		PID:      t.tg.id,
	}
}

// exitIPCLocked applies the exiting process's SEM_UNDO adjustments.
//
// Preconditions: Kernel.mu is held (it nests outside ipc.Namespace.mu).
func (k *Kernel) exitIPCLocked(tg *ThreadGroup) {
	if ns := k.ipcNS.Load(); ns != nil {
		ns.ExitProcess(tg.id)
	}
}
