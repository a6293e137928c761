package linux

import (
	"crypto/rand"
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
}

// Uname implements uname(2).
func Uname(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	bufAddr := args[0]
	u := t.Kernel().UTS()
	var un unix.Utsname
	put := func(dst *[65]byte, s string) { copy(dst[:64], s) }
	put(&un.Sysname, u.Sysname)
	put(&un.Nodename, u.Nodename)
	put(&un.Release, u.Release)
	put(&un.Version, u.Version)
	put(&un.Machine, u.Machine)
	put(&un.Domainname, u.Domainname)
	return 0, copyOut(t, bufAddr, abi.AsBytes(&un))
}

// hostnameArg reads sethostname/setdomainname's name, checking
// CAP_SYS_ADMIN.
func hostnameArg(t *kernel.Task, addr uint64, n int64) (string, error) {
	if !t.Credentials().HasCap(unix.CAP_SYS_ADMIN) {
		return "", unix.EPERM
	}
	if n < 0 || n > 64 {
		return "", unix.EINVAL
	}
	b := make([]byte, n)
	if err := copyIn(t, addr, b); err != nil {
		return "", err
	}
	return string(b), nil
}

// Sethostname implements sethostname(2).
func Sethostname(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	nameAddr, length := args[0], int64(args[1])
	name, err := hostnameArg(t, nameAddr, length)
	if err != nil {
		return 0, err
	}
	t.Kernel().SetHostname(name)
	return 0, nil
}

// Setdomainname implements setdomainname(2).
func Setdomainname(t *kernel.Task, args arch.SyscallArgs) (uint64, error) {
	nameAddr, length := args[0], int64(args[1])
	name, err := hostnameArg(t, nameAddr, length)
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
	infoAddr := args[0]
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
	return 0, copyOut(t, infoAddr, abi.AsBytes(&si))
}
