package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// NUMA memory policies, served as Linux serves them on a machine with one
// memory node, node 0 (docs/memory.md): modes, flags and node masks are
// validated as Linux does, policies are recorded (per task and per
// mapping) and read back, pages are always on node 0 and never move.
func init() {
	full(unix.SYS_SET_MEMPOLICY, SetMempolicy)
	full(unix.SYS_GET_MEMPOLICY, GetMempolicy)
	full(unix.SYS_MBIND, Mbind)
	full(unix.SYS_SET_MEMPOLICY_HOME_NODE, SetMempolicyHomeNode)
	full(unix.SYS_MIGRATE_PAGES, MigratePages)
	full(unix.SYS_MOVE_PAGES, MovePages)
}

// Modes, mode flags and call flags (linux/mempolicy.h).
const (
	mpolDefault            = 0
	mpolPreferred          = 1
	mpolBind               = 2
	mpolInterleave         = 3
	mpolLocal              = 4
	mpolPreferredMany      = 5
	mpolWeightedInterleave = 6
	mpolMax                = 7

	mpolFStaticNodes    = 1 << 15
	mpolFRelativeNodes  = 1 << 14
	mpolFNumaBalancing  = 1 << 13
	mpolModeFlags       = mpolFStaticNodes | mpolFRelativeNodes | mpolFNumaBalancing
	mpolUserNodemask    = mpolFStaticNodes | mpolFRelativeNodes
	mpolFNode           = 1 << 0
	mpolFAddr           = 1 << 1
	mpolFMemsAllowed    = 1 << 2
	mpolMFStrict        = 1 << 0
	mpolMFMove          = 1 << 1
	mpolMFMoveAll       = 1 << 2
	mpolMFValid         = mpolMFStrict | mpolMFMove | mpolMFMoveAll
	mempolicyMaxNodes   = 1024 // MAX_NUMNODES (CONFIG_NODES_SHIFT=10)
	mempolicyNodeWords  = mempolicyMaxNodes / 64
	mempolicyNrNodeIDs  = 1 // nr_node_ids: node 0 only
	mempolicyNodeMaskMx = 4096 * 8
)

// nodeMask is a node mask as Linux reads it from the guest: its first
// MAX_NUMNODES bits.
type nodeMask [mempolicyNodeWords]uint64

func (m *nodeMask) empty() bool {
	for _, w := range m {
		if w != 0 {
			return false
		}
	}
	return true
}

// onlyNode0 reports whether m names no node but node 0.
func (m *nodeMask) onlyNode0() bool {
	if m[0]&^1 != 0 {
		return false
	}
	for _, w := range m[1:] {
		if w != 0 {
			return false
		}
	}
	return true
}

// readMaskWord reads bits [64*i, 64*i+nbits) of the mask at addr.
func readMaskWord(t *kernel.Task, addr uint64, i, nbits uint64) (uint64, error) {
	var b [8]byte
	if err := copyIn(t, addr+8*i, b[:]); err != nil {
		return 0, err
	}
	w := binary.LittleEndian.Uint64(b[:])
	if nbits < 64 {
		w &= 1<<nbits - 1
	}
	return w, nil
}

// nodesArg reads a node mask of maxnode-1 bits, as Linux's get_nodes: none
// without a mask or with maxnode 1; EINVAL past a page of bits; bits past
// MAX_NUMNODES must be clear (EINVAL), read a word at a time from the end,
// so nothing is allocated for a large maxnode.
func nodesArg(t *kernel.Task, addr, maxnode uint64) (nodeMask, error) {
	var m nodeMask
	maxnode--
	if maxnode == 0 || addr == 0 {
		return m, nil
	}
	if maxnode > mempolicyNodeMaskMx {
		return m, unix.EINVAL
	}
	for maxnode > mempolicyMaxNodes {
		n := min(maxnode, 64)
		w, err := readMaskWord(t, addr, (maxnode-1)/64, n)
		if err != nil {
			return m, err
		}
		if maxnode-n >= mempolicyMaxNodes {
			maxnode -= n
		} else {
			maxnode = mempolicyMaxNodes
		}
		if w != 0 {
			return m, unix.EINVAL
		}
	}
	for i := uint64(0); i*64 < maxnode; i++ {
		w, err := readMaskWord(t, addr, i, min(maxnode-i*64, 64))
		if err != nil {
			return m, err
		}
		m[i] = w
	}
	return m, nil
}

// splitMode separates mode flags from a mode, as Linux's
// sanitize_mpol_flags: unknown modes, static with relative nodes, and
// NUMA balancing with anything but MPOL_BIND or MPOL_PREFERRED_MANY are
// EINVAL.
func splitMode(mode int32) (int32, int32, error) {
	flags := mode & mpolModeFlags
	mode &^= mpolModeFlags
	if uint32(mode) >= mpolMax {
		return 0, 0, unix.EINVAL
	}
	if flags&mpolUserNodemask == mpolUserNodemask {
		return 0, 0, unix.EINVAL
	}
	if flags&mpolFNumaBalancing != 0 && mode != mpolBind && mode != mpolPreferredMany {
		return 0, 0, unix.EINVAL
	}
	return mode, flags, nil
}

// newPolicy builds the policy of mode and nodes, as Linux's mpol_new and
// mpol_set_nodemask on a machine whose only node is 0.
func newPolicy(mode, flags int32, nodes *nodeMask) (mm.Policy, error) {
	switch {
	case mode == mpolDefault:
		if !nodes.empty() {
			return mm.Policy{}, unix.EINVAL
		}
		return mm.Policy{}, nil
	case mode == mpolPreferred && nodes.empty():
		if flags&mpolUserNodemask != 0 {
			return mm.Policy{}, unix.EINVAL
		}
		mode = mpolLocal
	case mode == mpolLocal:
		if !nodes.empty() || flags&mpolUserNodemask != 0 {
			return mm.Policy{}, unix.EINVAL
		}
	case nodes.empty():
		return mm.Policy{}, unix.EINVAL
	}
	p := mm.Policy{Mode: mode | flags}
	if mode == mpolLocal {
		return p, nil
	}
	// The nodes used: with relative nodes, any node maps onto node 0;
	// else those of the mask that exist.
	if flags&mpolFRelativeNodes == 0 && nodes[0]&1 == 0 {
		return mm.Policy{}, unix.EINVAL
	}
	p.Nodes = 1
	if flags&mpolUserNodemask != 0 {
		p.Nodes = nodes[0]
	}
	return p, nil
}

// SetMempolicy implements set_mempolicy(2).
func SetMempolicy(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	mode, maskAddr, maxnode := intArg(args[0]), args[1], args[2]
	mode, flags, err := splitMode(mode)
	if err != nil {
		return 0, err
	}
	nodes, err := nodesArg(t, maskAddr, maxnode)
	if err != nil {
		return 0, err
	}
	p, err := newPolicy(mode, flags, &nodes)
	if err != nil {
		return 0, err
	}
	t.SetMempolicy(p)
	return 0, nil
}

// zeroPage clears guest node masks larger than a node ID needs.
var zeroPage [4096]byte

// GetMempolicy implements get_mempolicy(2).
func GetMempolicy(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	policyAddr, maskAddr, maxnode, addr, flags := args[0], args[1], args[2], args[3], args[4]
	if maskAddr != 0 && maxnode < mempolicyNrNodeIDs {
		return 0, unix.EINVAL
	}
	if flags&^uint64(mpolFNode|mpolFAddr|mpolFMemsAllowed) != 0 {
		return 0, unix.EINVAL
	}
	var mode int32
	var nodes uint64
	switch {
	case flags&mpolFMemsAllowed != 0:
		if flags&(mpolFNode|mpolFAddr) != 0 {
			return 0, unix.EINVAL
		}
		nodes = 1
	default:
		var p mm.Policy
		if flags&mpolFAddr != 0 {
			var err error
			if p, err = t.MemoryManager().PolicyAt(addr); err != nil {
				return 0, err
			}
		} else if addr != 0 {
			return 0, unix.EINVAL
		} else {
			p = t.Mempolicy()
		}
		mode, nodes = p.Mode, p.Nodes
		if p.Mode == mpolDefault {
			nodes = 0 // the default policy allocates locally
		}
		if flags&mpolFNode != 0 {
			// The node of the page at addr, or the next node of the
			// task's interleaving: always node 0.
			m := p.Mode &^ mpolModeFlags
			if flags&mpolFAddr == 0 && m != mpolInterleave && m != mpolWeightedInterleave {
				return 0, unix.EINVAL
			}
			mode = 0
		}
	}
	if policyAddr != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(mode))
		if err := copyOut(t, policyAddr, b[:]); err != nil {
			return 0, err
		}
	}
	if maskAddr == 0 {
		return 0, nil
	}
	// Linux copies the bits of maxnode-1 nodes rounded up to a long, at
	// most those of nr_node_ids, and clears the rest (at most a page).
	n := ((maxnode - 1 + 63) &^ 63) / 8
	if n > 8 {
		if n > uint64(len(zeroPage)) {
			return 0, unix.EINVAL
		}
		if err := copyOut(t, maskAddr+8, zeroPage[:n-8]); err != nil {
			return 0, err
		}
		n = 8
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], nodes)
	return 0, copyOut(t, maskAddr, b[:n])
}

// Mbind implements mbind(2): the policy of a range of mappings.
func Mbind(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	start, length, mode, maskAddr, maxnode, flags := args[0], args[1], intArg(args[2]), args[3], args[4], uint32(args[5])
	mode, mflags, err := splitMode(mode)
	if err != nil {
		return 0, err
	}
	nodes, err := nodesArg(t, maskAddr, maxnode)
	if err != nil {
		return 0, err
	}
	if flags&^mpolMFValid != 0 {
		return 0, unix.EINVAL
	}
	if flags&mpolMFMoveAll != 0 && !t.Credentials().HasCap(unix.CAP_SYS_NICE) {
		return 0, unix.EPERM
	}
	if start&(mmPageSize-1) != 0 {
		return 0, unix.EINVAL
	}
	end := start + (length+mmPageSize-1)&^(mmPageSize-1)
	if end < start {
		return 0, unix.EINVAL
	}
	if end == start {
		return 0, nil
	}
	p, err := newPolicy(mode, mflags, &nodes)
	if err != nil {
		return 0, err
	}
	// Every page is on node 0 already: MPOL_MF_STRICT finds none
	// elsewhere, and nothing moves.
	return 0, t.MemoryManager().SetPolicy(start, end, p)
}

// SetMempolicyHomeNode implements set_mempolicy_home_node(2): the home
// node of the mappings of a range with an MPOL_BIND or
// MPOL_PREFERRED_MANY policy; it can only be node 0, which changes
// nothing, and get_mempolicy does not report it.
func SetMempolicyHomeNode(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	start, length, home, flags := args[0], args[1], args[2], args[3]
	if start&(mmPageSize-1) != 0 || flags != 0 {
		return 0, unix.EINVAL
	}
	if home >= mempolicyNrNodeIDs {
		return 0, unix.EINVAL
	}
	end := start + (length+mmPageSize-1)&^(mmPageSize-1)
	if end < start {
		return 0, unix.EINVAL
	}
	if end == start {
		return 0, nil
	}
	// ENOENT unless a mapping of the range has a policy; EOPNOTSUPP at
	// the first whose policy is not MPOL_BIND or MPOL_PREFERRED_MANY.
	err := error(unix.ENOENT)
	t.MemoryManager().ForEachPolicy(start, end, func(p mm.Policy) bool {
		if p.Mode == mpolDefault {
			return true
		}
		if m := p.Mode &^ mpolModeFlags; m != mpolBind && m != mpolPreferredMany {
			err = unix.EOPNOTSUPP
			return false
		}
		err = nil
		return true
	})
	return 0, err
}

// migrationTarget returns the address space of pid (0: the caller's) for
// migrate_pages and move_pages: ESRCH, or EPERM without ptrace access.
func migrationTarget(t *kernel.Task, pid int32) (*mm.MemoryManager, error) {
	if pid == 0 {
		return t.MemoryManager(), nil
	}
	return t.ProcessVMTarget(pid)
}

// MigratePages implements migrate_pages(2): moving another process's
// pages to nodes outside its allowed ones (any but node 0) needs
// CAP_SYS_NICE; a target set without node 0 is EINVAL; nothing moves.
func MigratePages(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, maxnode, oldAddr, newAddr := intArg(args[0]), args[1], args[2], args[3]
	if _, err := nodesArg(t, oldAddr, maxnode); err != nil {
		return 0, err
	}
	to, err := nodesArg(t, newAddr, maxnode)
	if err != nil {
		return 0, err
	}
	if _, err := migrationTarget(t, pid); err != nil {
		return 0, err
	}
	if !to.onlyNode0() && !t.Credentials().HasCap(unix.CAP_SYS_NICE) {
		return 0, unix.EPERM
	}
	if to[0]&1 == 0 {
		return 0, unix.EINVAL
	}
	return 0, nil
}

// movePagesChunk is how many pages move_pages handles between copies, as
// Linux's DO_PAGES_STAT_CHUNK_NR.
const movePagesChunk = 16

// MovePages implements move_pages(2). Without nodes it reports where each
// page is: node 0, -ENOENT if not present, -EFAULT if not mapped; with
// nodes every node but 0 is ENODEV, and each page's status is as without.
// Pages are read and statuses written a chunk at a time.
func MovePages(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	pid, count, pagesAddr, nodesAddr, statusAddr, flags := intArg(args[0]), args[1], args[2], args[3], args[4], uint32(args[5])
	if flags&^(mpolMFMove|mpolMFMoveAll) != 0 {
		return 0, unix.EINVAL
	}
	if flags&mpolMFMoveAll != 0 && !t.Credentials().HasCap(unix.CAP_SYS_NICE) {
		return 0, unix.EPERM
	}
	target, err := migrationTarget(t, pid)
	if err != nil {
		return 0, err
	}
	var pages [movePagesChunk * 8]byte
	var nodes [movePagesChunk * 4]byte
	var status [movePagesChunk * 4]byte
	for done := uint64(0); done < count; {
		if t.Killed() {
			return 0, unix.EINTR
		}
		n := min(count-done, movePagesChunk)
		if err := copyIn(t, pagesAddr+done*8, pages[:n*8]); err != nil {
			return 0, err
		}
		if nodesAddr != 0 {
			if err := copyIn(t, nodesAddr+done*4, nodes[:n*4]); err != nil {
				return 0, err
			}
		}
		for i := uint64(0); i < n; i++ {
			if nodesAddr != 0 && binary.LittleEndian.Uint32(nodes[i*4:]) != 0 {
				return 0, unix.ENODEV
			}
			addr := binary.LittleEndian.Uint64(pages[i*8:])
			var st int32
			switch mapped, resident := target.PageState(addr); {
			case !mapped:
				st = -int32(unix.EFAULT)
			case !resident:
				st = -int32(unix.ENOENT)
			}
			binary.LittleEndian.PutUint32(status[i*4:], uint32(st))
		}
		if err := copyOut(t, statusAddr+done*4, status[:n*4]); err != nil {
			return 0, err
		}
		done += n
	}
	return 0, nil
}
