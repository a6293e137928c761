package linux

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestErrnoName(t *testing.T) {
	for _, tc := range []struct {
		e         unix.Errno
		name, msg string
	}{
		{unix.ENOENT, "ENOENT", "No such file or directory"},
		{unix.EAGAIN, "EAGAIN", "Resource temporarily unavailable"},
		{unix.ENOSYS, "ENOSYS", "Function not implemented"},
		{ERESTARTSYS, "ERESTARTSYS", "To be restarted if SA_RESTART is set"},
		{ERESTART_RESTARTBLOCK, "ERESTART_RESTARTBLOCK", "Interrupted by signal"},
		{999, "errno 999", "Unknown error 999"},
	} {
		if got := ErrnoName(tc.e); got != tc.name {
			t.Errorf("ErrnoName(%d) = %q, want %q", tc.e, got, tc.name)
		}
		if got := ErrnoMessage(tc.e); got != tc.msg {
			t.Errorf("ErrnoMessage(%d) = %q, want %q", tc.e, got, tc.msg)
		}
	}
	if !IsRestartErrno(ERESTARTNOHAND) || IsRestartErrno(unix.EINTR) || IsRestartErrno(ENOIOCTLCMD) {
		t.Errorf("IsRestartErrno: want true for ERESTARTNOHAND, false for EINTR and ENOIOCTLCMD")
	}
}

func TestSignalName(t *testing.T) {
	for sig, want := range map[int]string{
		1: "SIGHUP", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 17: "SIGCHLD", 29: "SIGIO", 31: "SIGSYS",
		32: "SIGRTMIN", 35: "SIGRTMIN+3", 64: "SIGRTMIN+32", 0: "0", 65: "65", -1: "-1",
	} {
		if got := SignalName(sig); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", sig, got, want)
		}
	}
	s := SignalSetOf(int(unix.SIGINT), SIGRTMAX)
	if s != 1<<1|1<<63 || !s.Has(SIGRTMAX) || s.Has(int(unix.SIGTERM)) || s.Has(0) {
		t.Errorf("SignalSetOf(SIGINT, SIGRTMAX) = %#x, want %#x", uint64(s), uint64(1<<1|1<<63))
	}
}

func TestFormatFlags(t *testing.T) {
	for _, tc := range []struct {
		v     uint64
		table []FlagName
		want  string
	}{
		{unix.O_RDONLY | unix.O_CLOEXEC | 0x80000000, OpenFlags, "O_RDONLY|O_CLOEXEC|0x80000000"},
		{unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, OpenFlags, "O_WRONLY|O_CREAT|O_TRUNC"},
		{unix.O_RDWR | unix.O_SYNC, OpenFlags, "O_RDWR|O_SYNC"},
		{unix.O_RDONLY | unix.O_DSYNC, OpenFlags, "O_RDONLY|O_DSYNC"},
		{unix.O_RDWR | unix.O_TMPFILE, OpenFlags, "O_RDWR|O_TMPFILE"},
		{unix.O_DIRECTORY | O_LARGEFILE, OpenFlags, "O_RDONLY|O_LARGEFILE|O_DIRECTORY"},
		{0, ProtFlags, "PROT_NONE"},
		{unix.PROT_READ | unix.PROT_EXEC, ProtFlags, "PROT_READ|PROT_EXEC"},
		{unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, MapFlags, "MAP_PRIVATE|MAP_ANONYMOUS"},
		{unix.MAP_SHARED_VALIDATE | unix.MAP_SYNC, MapFlags, "MAP_SHARED_VALIDATE|MAP_SYNC"},
		{unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_THREAD, CloneFlags, "CLONE_VM|CLONE_FS|CLONE_THREAD"},
		{0, WaitOptions, "0"},
		{unix.WNOHANG | unix.WALL, WaitOptions, "WNOHANG|__WALL"},
		{0x1 << 40, ATFlags, "0x10000000000"},
		{unix.SOCK_STREAM | unix.SOCK_CLOEXEC, SocketTypes, "SOCK_STREAM|SOCK_CLOEXEC"},
	} {
		if got := FormatFlags(tc.v, tc.table); got != tc.want {
			t.Errorf("FormatFlags(%#x) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestFormatValue(t *testing.T) {
	for _, tc := range []struct {
		v     uint64
		table []FlagName
		want  string
	}{
		{unix.TIOCGWINSZ, IoctlRequests, "TIOCGWINSZ"},
		{FIOCLEX, IoctlRequests, "FIOCLEX"},
		{unix.F_DUPFD_CLOEXEC, FcntlCommands, "F_DUPFD_CLOEXEC"},
		{ARCH_SET_FS, ArchPrctlCodes, "ARCH_SET_FS"},
		{unix.PR_SET_NAME, PrctlOptions, "PR_SET_NAME"},
		{unix.MADV_DONTNEED, MadviseAdvice, "MADV_DONTNEED"},
		{unix.SIG_SETMASK, SigprocmaskHow, "SIG_SETMASK"},
		{FUTEX_WAKE, FutexOps, "FUTEX_WAKE"},
		{0xdead, FcntlCommands, "0xdead"},
	} {
		if got := FormatValue(tc.v, tc.table); got != tc.want {
			t.Errorf("FormatValue(%#x) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestTablesHaveNoDuplicateValues(t *testing.T) {
	for name, table := range map[string][]FlagName{
		"OpenFlags": OpenFlags, "ProtFlags": ProtFlags, "MapFlags": MapFlags, "CloneFlags": CloneFlags,
		"ATFlags": ATFlags, "FcntlCommands": FcntlCommands, "IoctlRequests": IoctlRequests,
		"MadviseAdvice": MadviseAdvice, "WaitOptions": WaitOptions, "FutexOps": FutexOps,
		"PrctlOptions": PrctlOptions, "ArchPrctlCodes": ArchPrctlCodes, "ClockIDs": ClockIDs,
		"SigactionFlags": SigactionFlags, "PollEvents": PollEvents,
	} {
		seen := make(map[[2]uint64]string)
		for _, f := range table {
			k := [2]uint64{f.Value, f.Mask}
			if prev, ok := seen[k]; ok {
				t.Errorf("%s: %s and %s share value %#x", name, prev, f.Name, f.Value)
			}
			seen[k] = f.Name
		}
	}
}
