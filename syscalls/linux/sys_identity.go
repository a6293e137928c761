package linux

import (
	"encoding/binary"

	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_GETUID, Getuid)
	full(unix.SYS_GETEUID, Geteuid)
	full(unix.SYS_GETGID, Getgid)
	full(unix.SYS_GETEGID, Getegid)
	full(unix.SYS_GETRESUID, Getresuid)
	full(unix.SYS_GETRESGID, Getresgid)
	full(unix.SYS_GETGROUPS, Getgroups)
	full(unix.SYS_SETUID, Setuid)
	full(unix.SYS_SETGID, Setgid)
	full(unix.SYS_SETREUID, Setreuid)
	full(unix.SYS_SETREGID, Setregid)
	full(unix.SYS_SETRESUID, Setresuid)
	full(unix.SYS_SETRESGID, Setresgid)
	full(unix.SYS_SETFSUID, Setfsuid)
	full(unix.SYS_SETFSGID, Setfsgid)
	full(unix.SYS_SETGROUPS, Setgroups)
}

// idArg decodes a uid_t/gid_t argument.
func idArg(a uint64) uint32 { return uint32(a) }

// Setuid implements setuid(2).
func Setuid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	uid := idArg(args[0])
	if uid == ^uint32(0) {
		return 0, unix.EINVAL
	}
	return 0, t.SetUID(uid)
}

// Setgid implements setgid(2).
func Setgid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	gid := idArg(args[0])
	if gid == ^uint32(0) {
		return 0, unix.EINVAL
	}
	return 0, t.SetGID(gid)
}

// Setreuid implements setreuid(2).
func Setreuid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ruid, euid := idArg(args[0]), idArg(args[1])
	return 0, t.SetREUID(ruid, euid)
}

// Setregid implements setregid(2).
func Setregid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	rgid, egid := idArg(args[0]), idArg(args[1])
	return 0, t.SetREGID(rgid, egid)
}

// Setresuid implements setresuid(2).
func Setresuid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ruid, euid, suid := idArg(args[0]), idArg(args[1]), idArg(args[2])
	return 0, t.SetUIDs(ruid, euid, suid)
}

// Setresgid implements setresgid(2).
func Setresgid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	rgid, egid, sgid := idArg(args[0]), idArg(args[1]), idArg(args[2])
	return 0, t.SetGIDs(rgid, egid, sgid)
}

// Setfsuid implements setfsuid(2).
func Setfsuid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fsuid := idArg(args[0])
	return uint64(t.SetFSUID(fsuid)), nil
}

// Setfsgid implements setfsgid(2).
func Setfsgid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	fsgid := idArg(args[0])
	return uint64(t.SetFSGID(fsgid)), nil
}

// ngroupsMax is NGROUPS_MAX.
const ngroupsMax = 65536

// Setgroups implements setgroups(2).
func Setgroups(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	n, listAddr := intArg(args[0]), args[1]
	if n < 0 || n > ngroupsMax {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*int(n))
	if err := copyIn(t, listAddr, b); err != nil {
		return 0, err
	}
	groups := make([]uint32, n)
	for i := range groups {
		groups[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return 0, t.SetGroups(groups)
}

// Getuid implements getuid(2).
func Getuid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return uint64(t.Credentials().RealUID), nil
}

// Geteuid implements geteuid(2).
func Geteuid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return uint64(t.Credentials().EffectiveUID), nil
}

// Getgid implements getgid(2).
func Getgid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return uint64(t.Credentials().RealGID), nil
}

// Getegid implements getegid(2).
func Getegid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return uint64(t.Credentials().EffectiveGID), nil
}

// copyOutIDs writes ids[i] to addrs[i] in order, stopping at the first
// fault.
func copyOutIDs(t *kernel.Task, addrs [3]uint64, ids [3]uint32) (uint64, error) {
	for i, id := range ids {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], id)
		if err := copyOut(t, addrs[i], b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Getresuid implements getresuid(2).
func Getresuid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	ruidAddr, euidAddr, suidAddr := args[0], args[1], args[2]
	c := t.Credentials()
	return copyOutIDs(t, [3]uint64{ruidAddr, euidAddr, suidAddr}, [3]uint32{c.RealUID, c.EffectiveUID, c.SavedUID})
}

// Getresgid implements getresgid(2).
func Getresgid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	rgidAddr, egidAddr, sgidAddr := args[0], args[1], args[2]
	c := t.Credentials()
	return copyOutIDs(t, [3]uint64{rgidAddr, egidAddr, sgidAddr}, [3]uint32{c.RealGID, c.EffectiveGID, c.SavedGID})
}

// Getgroups implements getgroups(2).
func Getgroups(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	size, listAddr := intArg(args[0]), args[1]
	groups := t.Credentials().Groups
	if size < 0 {
		return 0, unix.EINVAL
	}
	if size == 0 {
		return uint64(len(groups)), nil
	}
	if int(size) < len(groups) {
		return 0, unix.EINVAL
	}
	b := make([]byte, 4*len(groups))
	for i, g := range groups {
		binary.LittleEndian.PutUint32(b[4*i:], g)
	}
	return uint64(len(groups)), copyOut(t, listAddr, b)
}
