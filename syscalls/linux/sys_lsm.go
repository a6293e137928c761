package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_LSM_LIST_MODULES, LsmListModules)
	full(unix.SYS_LSM_GET_SELF_ATTR, LsmGetSelfAttr)
	full(unix.SYS_LSM_SET_SELF_ATTR, LsmSetSelfAttr)
}

// Linux security module IDs and flags (include/uapi/linux/lsm.h).
const (
	lsmIDUndef      = 0
	lsmIDCapability = 100
	lsmAttrUndef    = 0
	lsmFlagSingle   = 1
	// lsmCtxSize is the size of struct lsm_ctx before its ctx bytes: id,
	// flags, len, ctx_len (each __u64).
	lsmCtxSize = 32
)

// sandboxLSMs are the security modules the sandbox's kernel reports: only
// the capability module, which every Linux with CONFIG_SECURITY lists and
// which has no process attributes. So lsm_get_self_attr finds no
// attribute (EOPNOTSUPP) and lsm_set_self_attr no module to set one
// (EOPNOTSUPP), as on a Linux without SELinux, AppArmor or Smack.
var sandboxLSMs = []uint64{lsmIDCapability}

// LsmListModules implements lsm_list_modules(2).
func LsmListModules(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	idsAddr, sizeAddr, flags := args[0], args[1], uint32(args[2])
	if flags != 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if err := copyIn(t, sizeAddr, b[:]); err != nil {
		return 0, err
	}
	usize := binary.LittleEndian.Uint32(b[:])
	total := uint32(8 * len(sandboxLSMs))
	binary.LittleEndian.PutUint32(b[:], total)
	if err := copyOut(t, sizeAddr, b[:]); err != nil {
		return 0, err
	}
	if usize < total {
		return 0, unix.E2BIG
	}
	ids := make([]byte, total)
	for i, id := range sandboxLSMs {
		binary.LittleEndian.PutUint64(ids[8*i:], id)
	}
	if err := copyOut(t, idsAddr, ids); err != nil {
		return 0, err
	}
	return uint64(len(sandboxLSMs)), nil
}

// LsmGetSelfAttr implements lsm_get_self_attr(2). Its checks come in
// Linux's order; then, no module having the attribute, the size written
// back is 0 and the answer EOPNOTSUPP.
func LsmGetSelfAttr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	attr, ctxAddr, sizeAddr, flags := uint32(args[0]), args[1], args[2], uint32(args[3])
	if attr == lsmAttrUndef || sizeAddr == 0 {
		return 0, unix.EINVAL
	}
	var b [4]byte
	if err := copyIn(t, sizeAddr, b[:]); err != nil {
		return 0, err
	}
	if flags != 0 {
		if flags != lsmFlagSingle || ctxAddr == 0 {
			return 0, unix.EINVAL
		}
		var ctx [lsmCtxSize]byte
		if err := copyIn(t, ctxAddr, ctx[:]); err != nil {
			return 0, err
		}
		if binary.LittleEndian.Uint64(ctx[:]) == lsmIDUndef {
			return 0, unix.EINVAL
		}
	}
	binary.LittleEndian.PutUint32(b[:], 0)
	if err := copyOut(t, sizeAddr, b[:]); err != nil {
		return 0, err
	}
	return 0, unix.EOPNOTSUPP
}

// LsmSetSelfAttr implements lsm_set_self_attr(2): the context is read and
// checked as Linux does, and then no module takes it (EOPNOTSUPP).
func LsmSetSelfAttr(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ctxAddr, size, flags := args[1], uint32(args[2]), uint32(args[3])
	if flags != 0 || size < lsmCtxSize {
		return 0, unix.EINVAL
	}
	if size > pageSize {
		return 0, unix.E2BIG
	}
	// Linux copies the whole context (at most a page) before it looks.
	buf := make([]byte, size)
	if err := copyIn(t, ctxAddr, buf); err != nil {
		return 0, err
	}
	length, ctxLen := binary.LittleEndian.Uint64(buf[16:]), binary.LittleEndian.Uint64(buf[24:])
	if uint64(size) < length || ctxLen > ^uint64(0)-lsmCtxSize || length < lsmCtxSize+ctxLen {
		return 0, unix.EINVAL
	}
	return 0, unix.EOPNOTSUPP
}
