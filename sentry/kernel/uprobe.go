package kernel

import "github.com/palisade-sandbox/palisade/abi/linux"

// ForceKernelSignal delivers sig to t as Linux's force_sig does (si_code
// SI_KERNEL): it cannot be blocked or ignored. uretprobe(2) called from
// anywhere but a uprobe trampoline answers this way with SIGILL.
func (t *Task) ForceKernelSignal(sig int) {
	t.forceSignal(sig, linux.SI_KERNEL, 0)
}
