package mm

import "golang.org/x/sys/unix"

// Policy is a NUMA memory policy (set_mempolicy(2), mbind(2)) as
// get_mempolicy(2) reports it. The Sentry has one memory node, so a policy
// changes no placement; it is recorded so that it reads back as set.
// Linux: struct mempolicy.
type Policy struct {
	// Mode is the MPOL_* mode with its MPOL_F_* mode flags; 0
	// (MPOL_DEFAULT) is no policy.
	Mode int32
	// Nodes is the first 64 bits of the node mask get_mempolicy reports:
	// the nodes the policy uses, or the caller's mask as given for
	// MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES.
	Nodes uint64
}

// SetPolicy gives every VMA of the page-aligned range [start, end) policy
// p, splitting VMAs at its ends, as Linux's mbind: EFAULT if any page of
// the range is unmapped, ENOMEM if splitting would exceed the map count.
func (mm *MemoryManager) SetPolicy(start, end uint64, p Policy) error {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	for cur := start; cur < end; {
		v := mm.vmaAtLocked(cur)
		if v == nil {
			return unix.EFAULT
		}
		cur = v.end
	}
	if len(mm.vmas)+mm.splitsLocked(start)+mm.splitsLocked(end) > maxMapCount {
		return unix.ENOMEM
	}
	mm.splitVMAsLocked(start)
	mm.splitVMAsLocked(end)
	for i := mm.findVMALocked(start); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		mm.vmas[i].policy = p
	}
	mm.mergeLocked(start, end)
	return nil
}

// PolicyAt returns the policy of the VMA containing addr: EFAULT if addr
// is unmapped.
func (mm *MemoryManager) PolicyAt(addr uint64) (Policy, error) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	v := mm.vmaAtLocked(addr)
	if v == nil {
		return Policy{}, unix.EFAULT
	}
	return v.policy, nil
}

// ForEachPolicy calls fn with the policy of each VMA meeting [start,
// end), in order, until it returns false; unmapped parts are skipped
// (set_mempolicy_home_node).
func (mm *MemoryManager) ForEachPolicy(start, end uint64, fn func(Policy) bool) {
	mm.mu.Lock()
	defer mm.mu.Unlock()
	for i := mm.findVMALocked(start); i < len(mm.vmas) && mm.vmas[i].start < end; i++ {
		if !fn(mm.vmas[i].policy) {
			return
		}
	}
}

// PageState reports the page at addr as move_pages(2) does: mapped says
// whether a VMA contains it, resident whether it is backed by memory.
func (mm *MemoryManager) PageState(addr uint64) (mapped, resident bool) {
	var vec [1]byte
	n, err := mm.Mincore(addr&^(pageSize-1), vec[:])
	if err != nil || n == 0 {
		return false, false
	}
	return true, vec[0]&1 != 0
}
