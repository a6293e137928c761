package strace

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
)

// fakeMemory is guest memory made of regions keyed by start address.
type fakeMemory map[uintptr][]byte

var errFault = errors.New("bad address")

func (m fakeMemory) region(addr uintptr) ([]byte, bool) {
	for start, b := range m {
		if addr >= start && addr < start+uintptr(len(b)) {
			return b[addr-start:], true
		}
	}
	return nil, false
}

func (m fakeMemory) ReadString(addr uintptr, max int) (string, error) {
	b, ok := m.region(addr)
	if !ok {
		return "", errFault
	}
	for i := 0; i < len(b) && i < max; i++ {
		if b[i] == 0 {
			return string(b[:i]), nil
		}
	}
	if len(b) < max {
		return "", errFault // ran off the region before a NUL
	}
	return string(b[:max]), nil
}

func (m fakeMemory) ReadBytes(addr uintptr, n int) ([]byte, error) {
	b, ok := m.region(addr)
	if !ok || len(b) < n {
		return nil, errFault
	}
	return b[:n], nil
}

// Guest addresses used by the tests.
const (
	pathAddr  = 0x1000
	bufAddr   = 0x2000
	argvAddr  = 0x3000
	envpAddr  = 0x3100
	strsAddr  = 0x3200
	sigAddr   = 0x4000
	saAddr    = 0x4100
	sockAddr  = 0x5000
	statAddr  = 0x6000
	pairAddr  = 0x7000
	iovAddr   = 0x7100
	pollAddr  = 0x7200
	wstatAddr = 0x7300
)

func le64(vs ...uint64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, v)
	}
	return b
}

func newMemory() fakeMemory {
	st := unix.Stat_t{Mode: unix.S_IFREG | 0o644, Size: 1234}
	sa := linux.SigAction{Handler: 0x401000, Flags: linux.SA_RESTORER | linux.SA_RESTART, Restorer: 0x402000}
	sin := unix.RawSockaddrInet4{Family: unix.AF_INET, Port: 0x5000, Addr: [4]byte{127, 0, 0, 1}} // port 80, network order
	return fakeMemory{
		pathAddr:  []byte("/etc/passwd\x00"),
		bufAddr:   []byte("hello, world\n\x00\x01\x1b[0m and a long tail to be cut"),
		argvAddr:  le64(strsAddr, strsAddr+3, 0),
		envpAddr:  le64(strsAddr+6, strsAddr+13, 0),
		strsAddr:  []byte("ls\x00-l\x00HOME=/\x00TERM=xterm\x00"),
		sigAddr:   le64(uint64(linux.SignalSetOf(int(unix.SIGINT), int(unix.SIGTERM)))),
		saAddr:    append([]byte(nil), linux.AsBytes(&sa)...),
		sockAddr:  append([]byte(nil), linux.AsBytes(&sin)...),
		statAddr:  append([]byte(nil), linux.AsBytes(&st)...),
		pairAddr:  []byte{3, 0, 0, 0, 4, 0, 0, 0},
		iovAddr:   le64(bufAddr, 5, bufAddr+7, 6),
		pollAddr:  []byte{3, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 4, 0, 0, 0},
		wstatAddr: []byte{0, 0, 0, 0},
	}
}

func TestEnter(t *testing.T) {
	mem := newMemory()
	fdcwd := uintptr(0xffffff9c) // AT_FDCWD as the low 32 bits of a register
	for _, tc := range []struct {
		nr   uintptr
		args [6]uintptr
		want string
	}{
		{unix.SYS_OPENAT, [6]uintptr{fdcwd, pathAddr, unix.O_RDONLY | unix.O_CLOEXEC},
			`openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC)`},
		{unix.SYS_OPENAT, [6]uintptr{3, pathAddr + 5, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC, 0o644},
			`openat(3, "passwd", O_WRONLY|O_CREAT|O_TRUNC, 0644)`},
		{unix.SYS_OPENAT, [6]uintptr{fdcwd, 0xdead0000, 0},
			`openat(AT_FDCWD, 0xdead0000, O_RDONLY)`},
		{unix.SYS_WRITE, [6]uintptr{1, bufAddr, 13}, `write(1, "hello, world\n", 13)`},
		{unix.SYS_WRITE, [6]uintptr{2, bufAddr + 13, 40},
			`write(2, "\0\1\33[0m and a long tail to be cut"..., 40)`},
		{unix.SYS_READ, [6]uintptr{0, bufAddr, 4096}, `read(0, 0x2000, 4096)`},
		{unix.SYS_MMAP, [6]uintptr{0, 8192, unix.PROT_READ | unix.PROT_WRITE, unix.MAP_PRIVATE | unix.MAP_ANONYMOUS, ^uintptr(0), 0},
			`mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`},
		{unix.SYS_EXECVE, [6]uintptr{pathAddr, argvAddr, envpAddr},
			`execve("/etc/passwd", ["ls", "-l"], 0x3100 /* 2 vars */)`},
		{unix.SYS_RT_SIGPROCMASK, [6]uintptr{unix.SIG_BLOCK, sigAddr, 0, 8},
			`rt_sigprocmask(SIG_BLOCK, [INT TERM], NULL, 8)`},
		{unix.SYS_RT_SIGACTION, [6]uintptr{uintptr(unix.SIGINT), saAddr, 0, 8},
			`rt_sigaction(SIGINT, {sa_handler=0x401000, sa_mask=[], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x402000}, NULL, 8)`},
		{unix.SYS_CLONE, [6]uintptr{unix.CLONE_CHILD_CLEARTID | unix.CLONE_CHILD_SETTID | uintptr(unix.SIGCHLD), 0, 0, 0x7f00, 0},
			`clone(CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, NULL, NULL, 0x7f00, 0)`},
		{unix.SYS_FUTEX, [6]uintptr{0x7f0010, linux.FUTEX_WAIT | linux.FUTEX_PRIVATE_FLAG, 2},
			`futex(0x7f0010, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0)`},
		{unix.SYS_FCNTL, [6]uintptr{3, unix.F_GETFD}, `fcntl(3, F_GETFD)`},
		{unix.SYS_FCNTL, [6]uintptr{3, unix.F_SETFD, unix.FD_CLOEXEC}, `fcntl(3, F_SETFD, FD_CLOEXEC)`},
		{unix.SYS_CONNECT, [6]uintptr{3, sockAddr, 16},
			`connect(3, {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}, 16)`},
		{unix.SYS_WRITEV, [6]uintptr{1, iovAddr, 2},
			`writev(1, [{iov_base="hello", iov_len=5}, {iov_base="world\n", iov_len=6}], 2)`},
		{unix.SYS_POLL, [6]uintptr{pollAddr, 2, 1000},
			`poll([{fd=3, events=POLLIN}, {fd=4, events=POLLOUT}], 2, 1000)`},
		{unix.SYS_KILL, [6]uintptr{42, uintptr(linux.SIGRTMIN + 3)}, `kill(42, SIGRTMIN+3)`},
		{unix.SYS_UMASK, [6]uintptr{0o22}, `umask(022)`},
		{unix.SYS_GETPID, [6]uintptr{1, 2, 3}, `getpid()`},
		{unix.SYS_IO_URING_SETUP, [6]uintptr{8, 0x7fff0000}, `io_uring_setup(0x8, 0x7fff0000)`},
		{500, [6]uintptr{0, 1}, `syscall_500(0, 0x1, 0, 0, 0, 0)`},
	} {
		if got := Enter(mem, tc.nr, tc.args); got != tc.want {
			t.Errorf("Enter(%s) =\n\t%s\nwant\n\t%s", linux.SyscallName(tc.nr), got, tc.want)
		}
	}
}

func TestExit(t *testing.T) {
	mem := newMemory()
	for _, tc := range []struct {
		nr    uintptr
		args  [6]uintptr
		ret   uintptr
		errno unix.Errno
		want  string
	}{
		{unix.SYS_OPENAT, [6]uintptr{}, 3, 0, `= 3`},
		{unix.SYS_OPENAT, [6]uintptr{}, 0, unix.ENOENT, `= -1 ENOENT (No such file or directory)`},
		{unix.SYS_READ, [6]uintptr{0, bufAddr, 4096}, 5, 0, `= 5 "hello"`},
		{unix.SYS_READ, [6]uintptr{0, bufAddr, 4096}, 0, unix.EAGAIN, `= -1 EAGAIN (Resource temporarily unavailable)`},
		{unix.SYS_MMAP, [6]uintptr{}, 0x7f0000001000, 0, `= 0x7f0000001000`},
		{unix.SYS_LSEEK, [6]uintptr{}, ^uintptr(0), 0, `= -1`},
		{unix.SYS_FSTAT, [6]uintptr{3, statAddr}, 0, 0, `= 0 {st_mode=S_IFREG|0644, st_size=1234, ...}`},
		{unix.SYS_PIPE2, [6]uintptr{pairAddr, unix.O_CLOEXEC}, 0, 0, `= 0 [3, 4]`},
		{unix.SYS_WAIT4, [6]uintptr{^uintptr(0), wstatAddr, 0, 0}, 42, 0, `= 42 [{WIFEXITED(s) && WEXITSTATUS(s) == 0}]`},
		{unix.SYS_READLINKAT, [6]uintptr{3, pathAddr, pathAddr, 64}, 4, 0, `= 4 "/etc"`},
		{unix.SYS_RT_SIGSUSPEND, [6]uintptr{}, 0, linux.ERESTARTNOHAND, `= ? ERESTARTNOHAND (To be restarted if no handler)`},
		{unix.SYS_UMASK, [6]uintptr{}, 0o22, 0, `= 022`},
		{500, [6]uintptr{}, 0, unix.ENOSYS, `= -1 ENOSYS (Function not implemented)`},
	} {
		if got := Exit(mem, tc.nr, tc.args, tc.ret, tc.errno); got != tc.want {
			t.Errorf("Exit(%s, ret %#x, %v) = %s, want %s", linux.SyscallName(tc.nr), tc.ret, tc.errno, got, tc.want)
		}
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"plain":         `"plain"`,
		"tab\there\r\n": `"tab\there\r\n"`,
		"q\"b\\":        `"q\"b\\"`,
		"\x00\x01":      `"\0\1"`,
		"\x007":         `"\0007"`,
		"\x1b[0m\xff":   `"\33[0m\377"`,
	} {
		if got := quote([]byte(in)); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestSigset(t *testing.T) {
	for _, tc := range []struct {
		set  uint64
		want string
	}{
		{0, "[]"},
		{^uint64(0), "~[]"},
		{^uint64(linux.SignalSetOf(int(unix.SIGKILL), int(unix.SIGSTOP))), "~[KILL STOP]"},
		{uint64(linux.SignalSetOf(int(unix.SIGCHLD), linux.SIGRTMIN+1)), "[CHLD RTMIN+1]"},
	} {
		if got := sigset(tc.set); got != tc.want {
			t.Errorf("sigset(%#x) = %s, want %s", tc.set, got, tc.want)
		}
	}
}

func TestWaitStatus(t *testing.T) {
	for _, tc := range []struct {
		status uint32
		want   string
	}{
		{0x0100, "[{WIFEXITED(s) && WEXITSTATUS(s) == 1}]"},
		{0x0009, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGKILL}]"},
		{0x008b, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGSEGV && WCOREDUMP(s)}]"},
		{0x137f, "[{WIFSTOPPED(s) && WSTOPSIG(s) == SIGSTOP}]"},
		{0xffff, "[{WIFCONTINUED(s)}]"},
	} {
		if got := waitStatus(tc.status); got != tc.want {
			t.Errorf("waitStatus(%#x) = %s, want %s", tc.status, got, tc.want)
		}
	}
}

// TestTableArgCounts checks every described call against the ABI's
// argument count.
func TestTableArgCounts(t *testing.T) {
	for nr, cl := range calls {
		if got, want := len(cl.args), linux.SyscallArgCount(nr); got != want {
			t.Errorf("%s: table describes %d arguments, the ABI has %d", linux.SyscallName(nr), got, want)
		}
	}
}

func TestMode(t *testing.T) {
	for v, want := range map[uint64]string{0: "000", 0o7: "007", 0o22: "022", 0o644: "0644", 0o4755: "04755"} {
		if got := mode(v); got != want {
			t.Errorf("mode(%#o) = %s, want %s", v, got, want)
		}
	}
}
