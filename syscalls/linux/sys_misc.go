package linux

import (
	"crypto/rand"
	"encoding/binary"
	"runtime"
	"time"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"golang.org/x/sys/unix"
)

func init() {
	full(unix.SYS_UNAME, Uname)
	full(unix.SYS_SETHOSTNAME, Sethostname)
	full(unix.SYS_SETDOMAINNAME, Setdomainname)
	full(unix.SYS_GETRANDOM, Getrandom)
	partial(unix.SYS_SYSINFO, "load averages are zero", Sysinfo)
	full(unix.SYS_GETUID, Getuid)
	full(unix.SYS_GETEUID, Geteuid)
	full(unix.SYS_GETGID, Getgid)
	full(unix.SYS_GETEGID, Getegid)
	full(unix.SYS_GETRESUID, Getresuid)
	full(unix.SYS_GETRESGID, Getresgid)
	full(unix.SYS_GETGROUPS, Getgroups)
	partial(unix.SYS_PRLIMIT64, "enforced: NOFILE, NPROC, STACK (at exec), AS (mmap), FSIZE, CPU, MEMLOCK; recorded only: the rest", Prlimit64)
	partial(unix.SYS_GETRLIMIT, "as prlimit64", Getrlimit)
	partial(unix.SYS_SETRLIMIT, "as prlimit64", Setrlimit)
	full(unix.SYS_SCHED_YIELD, SchedYield)
	partial(unix.SYS_SCHED_GETAFFINITY, "reports the sandbox's CPUs", SchedGetaffinity)
	full(unix.SYS_GETCPU, Getcpu)
}

// Uname implements uname(2).
func Uname(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	u := t.Kernel().UTS()
	var un unix.Utsname
	put := func(dst *[65]byte, s string) { copy(dst[:64], s) }
	put(&un.Sysname, u.Sysname)
	put(&un.Nodename, u.Nodename)
	put(&un.Release, u.Release)
	put(&un.Version, u.Version)
	put(&un.Machine, u.Machine)
	put(&un.Domainname, u.Domainname)
	return 0, copyOut(t, args[0], abi.AsBytes(&un))
}

// hostnameArg reads sethostname/setdomainname's name, checking
// CAP_SYS_ADMIN.
func hostnameArg(t *kernel.Task, args arch.SyscallArgs) (string, error) {
	if !t.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
		return "", unix.EPERM
	}
	n := int64(args[1])
	if n < 0 || n > 64 {
		return "", unix.EINVAL
	}
	b := make([]byte, n)
	if err := copyIn(t, args[0], b); err != nil {
		return "", err
	}
	return string(b), nil
}

// Sethostname implements sethostname(2).
func Sethostname(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	name, err := hostnameArg(t, args)
	if err != nil {
		return 0, err
	}
	t.Kernel().SetHostname(name)
	return 0, nil
}

// Setdomainname implements setdomainname(2).
func Setdomainname(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	name, err := hostnameArg(t, args)
	if err != nil {
		return 0, err
	}
	t.Kernel().SetDomainname(name)
	return 0, nil
}

// Getrandom implements getrandom(2).
func Getrandom(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	addr, n, flags := args[0], args[1], args[2]
	if flags&^uint64(unix.GRND_NONBLOCK|unix.GRND_RANDOM|unix.GRND_INSECURE) != 0 ||
		flags&(unix.GRND_RANDOM|unix.GRND_INSECURE) == unix.GRND_RANDOM|unix.GRND_INSECURE {
		return 0, unix.EINVAL
	}
	n = min(n, 32<<20)
	buf := make([]byte, min(n, ioChunk))
	var done uint64
	for done < n {
		chunk := buf[:min(uint64(len(buf)), n-done)]
		rand.Read(chunk)
		if _, err := t.CopyOut(addr+done, chunk); err != nil {
			if done == 0 {
				return 0, unix.EFAULT
			}
			break
		}
		done += uint64(len(chunk))
	}
	return done, nil
}

// Sysinfo implements sysinfo(2) with the sandbox's figures.
func Sysinfo(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	k := t.Kernel()
	var si unix.Sysinfo_t
	si.Uptime = int64((time.Since(k.BootTime) + bootOffset) / time.Second)
	var host unix.Sysinfo_t
	if err := unix.Sysinfo(&host); err == nil {
		si.Totalram = host.Totalram * uint64(host.Unit)
		si.Totalswap = host.Totalswap * uint64(host.Unit)
		si.Freeswap = host.Freeswap * uint64(host.Unit)
	}
	used := k.MemoryFile.Usage()
	if si.Totalram > used {
		si.Freeram = si.Totalram - used
	}
	si.Procs = uint16(len(k.ThreadGroups()))
	si.Unit = 1
	return 0, copyOut(t, args[0], abi.AsBytes(&si))
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

func copyOutIDs(t *kernel.Task, args arch.SyscallArgs, ids ...uint32) (uint64, error) {
	for i, id := range ids {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], id)
		if err := copyOut(t, args[i], b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// Getresuid implements getresuid(2).
func Getresuid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	c := t.Credentials()
	return copyOutIDs(t, args, c.RealUID, c.EffectiveUID, c.SavedUID)
}

// Getresgid implements getresgid(2).
func Getresgid(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	c := t.Credentials()
	return copyOutIDs(t, args, c.RealGID, c.EffectiveGID, c.SavedGID)
}

// Getgroups implements getgroups(2).
func Getgroups(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	groups := t.Credentials().Groups
	size := intArg(args[0])
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
	return uint64(len(groups)), copyOut(t, args[1], b)
}

// rlimit is struct rlimit.
func rlimitBytes(l unix.Rlimit) []byte {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], l.Cur)
	binary.LittleEndian.PutUint64(b[8:], l.Max)
	return b[:]
}

// prlimit reads and/or sets a limit of target.
func prlimit(t *kernel.Task, pid int32, resource int, newAddr, oldAddr uint64) (uint64, error) {
	if resource < 0 || resource > unix.RLIMIT_RTTIME {
		return 0, unix.EINVAL
	}
	tg, err := processArg(t, pid)
	if err != nil {
		return 0, err
	}
	old := tg.Limit(resource)
	if newAddr != 0 {
		var b [16]byte
		if err := copyIn(t, newAddr, b[:]); err != nil {
			return 0, err
		}
		l := unix.Rlimit{Cur: binary.LittleEndian.Uint64(b[:]), Max: binary.LittleEndian.Uint64(b[8:])}
		if l.Cur > l.Max {
			return 0, unix.EINVAL
		}
		if l.Max > old.Max && !t.Credentials().HasCap(unix.CAP_SYS_RESOURCE) {
			return 0, unix.EPERM
		}
		if resource == unix.RLIMIT_NOFILE && l.Max > 1<<20 {
			return 0, unix.EPERM // fs.nr_open
		}
		tg.SetLimit(resource, l)
	}
	if oldAddr != 0 {
		return 0, copyOut(t, oldAddr, rlimitBytes(old))
	}
	return 0, nil
}

// Prlimit64 implements prlimit64(2).
func Prlimit64(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return prlimit(t, intArg(args[0]), int(intArg(args[1])), args[2], args[3])
}

// Getrlimit implements getrlimit(2).
func Getrlimit(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return prlimit(t, 0, int(intArg(args[0])), 0, args[1])
}

// Setrlimit implements setrlimit(2).
func Setrlimit(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	return prlimit(t, 0, int(intArg(args[0])), args[1], 0)
}

// SchedYield implements sched_yield(2).
func SchedYield(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	runtime.Gosched()
	return 0, nil
}

// SchedGetaffinity implements sched_getaffinity(2): the mask last set, or
// every CPU of the sandbox.
func SchedGetaffinity(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	size := args[1]
	if size < 8 || size%8 != 0 {
		return 0, unix.EINVAL
	}
	target, err := taskArg(t, intArg(args[0]))
	if err != nil {
		return 0, err
	}
	n := runtime.NumCPU()
	b := make([]byte, max(8, (n+63)/64*8))
	if uint64(len(b)) > size {
		return 0, unix.EINVAL
	}
	if mask := target.CPUMask(); mask != nil {
		for cpu := 0; cpu < n && cpu/8 < len(mask); cpu++ {
			b[cpu/8] |= mask[cpu/8] & (1 << (cpu % 8))
		}
	} else {
		for cpu := 0; cpu < n; cpu++ {
			b[cpu/8] |= 1 << (cpu % 8)
		}
	}
	return uint64(len(b)), copyOut(t, args[2], b)
}

// Getcpu implements getcpu(2).
func Getcpu(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	var zero [4]byte
	for _, a := range args[:2] {
		if a != 0 {
			if err := copyOut(t, a, zero[:]); err != nil {
				return 0, err
			}
		}
	}
	return 0, nil
}

func init() {
	// rseq is how glibc registers restartable sequences; it falls back
	// silently when the kernel lacks it, so this ENOSYS is expected and
	// not logged.
	register(unix.SYS_RSEQ, Unimplemented, "restartable sequences are not supported; glibc falls back", func(*kernel.Task, arch.SyscallArgs) (uint64, error) {
		return 0, unix.ENOSYS
	})
}

func init() {
	full(unix.SYS_FADVISE64, Fadvise64)
}

// Fadvise64 implements fadvise64(2). The advice is a hint about future
// access; the Sentry's caches don't use it, which Linux permits.
func Fadvise64(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	f, err := getFile(t, fdArg(args[0]))
	if err != nil {
		return 0, err
	}
	defer f.DecRef(t.Context())
	if int64(args[2]) < 0 {
		return 0, unix.EINVAL
	}
	switch intArg(args[3]) {
	case unix.FADV_NORMAL, unix.FADV_RANDOM, unix.FADV_SEQUENTIAL, unix.FADV_WILLNEED, unix.FADV_DONTNEED, unix.FADV_NOREUSE:
	default:
		return 0, unix.EINVAL
	}
	if st, err := f.Stat(t.Context()); err == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
		return 0, unix.ESPIPE
	}
	return 0, nil
}
