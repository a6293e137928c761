package kernel

import (
	"github.com/palisade-sandbox/palisade/platform"
	"golang.org/x/sys/unix"
)

// MemoryBarrier makes every guest thread pass a full memory barrier
// before it returns (membarrier(2)): EINVAL if the platform cannot.
func (k *Kernel) MemoryBarrier() error {
	mb, ok := k.Platform.(platform.MemoryBarrierer)
	if !ok {
		return unix.EINVAL
	}
	return mb.MemoryBarrier()
}

// CanMemoryBarrier reports whether MemoryBarrier works here.
func (k *Kernel) CanMemoryBarrier() bool {
	mb, ok := k.Platform.(platform.MemoryBarrierer)
	return ok && mb.CanMemoryBarrier()
}
