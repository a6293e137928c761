package strace

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/abi/linux"
)

// Limits on how much of guest memory one argument shows.
const (
	maxStringLen  = 32 // bytes of a buffer or string, as strace -s 32
	maxArrayElems = 8  // elements of argv, iovecs, pollfds
	maxEnvCount   = 4096
)

// kind is how one argument is rendered.
type kind uint8

const (
	kHex        kind = iota // opaque value in hex, "0" for zero
	kPtr                    // address: "NULL" or hex
	kInt                    // C int, signed decimal
	kLong                   // long, off_t or loff_t, signed decimal
	kUint                   // size_t or unsigned long, decimal
	kUint32                 // unsigned int, decimal
	kFD                     // file descriptor
	kDirFD                  // file descriptor or AT_FDCWD
	kPath                   // NUL-terminated path, in full
	kString                 // NUL-terminated string, truncated
	kInBuf                  // buffer the call reads, length in args[ref]
	kMode                   // permission bits, octal
	kOpenMode               // octal mode, shown only if args[ref] has O_CREAT or O_TMPFILE
	kFlags                  // bit set named by table
	kEnum                   // value named by table
	kSignal                 // signal number
	kArgv                   // NULL-terminated array of strings
	kEnvp                   // NULL-terminated array of strings, counted
	kCloneFlags             // clone(2) flags with exit signal in the low byte
	kFutexOp                // futex(2) op with its modifier flags
	kFcntlArg               // fcntl(2) argument, depending on the command in args[ref]
	kSigset                 // pointer to a sigset_t
	kSigaction              // pointer to a struct sigaction
	kTimespec               // pointer to a struct timespec
	kSockaddr               // pointer to a socket address of args[ref] bytes
	kPollFDs                // pointer to args[ref] struct pollfd
	kIovec                  // pointer to args[ref] struct iovec the call reads

	// Output arguments: an address at entry, decoded by Exit on success.
	kOutBuf      // buffer of ret bytes
	kOutString   // string of ret bytes, not NUL-terminated (readlink)
	kOutPath     // NUL-terminated string (getcwd)
	kOutStat     // struct stat
	kOutFDPair   // int[2]
	kOutTimespec // struct timespec
	kOutStatus   // wait status int
)

// arg describes one syscall argument.
type arg struct {
	kind  kind
	ref   int // index of a related argument: length, count or flags
	table []linux.FlagName
}

// isOutput reports whether a is decoded at exit.
func (a arg) isOutput() bool { return a.kind >= kOutBuf }

// enter renders args[i] at syscall entry; ok is false if the argument is
// to be left out.
func (a arg) enter(mem Memory, args [6]uintptr, i int) (s string, ok bool) {
	v := args[i]
	if a.isOutput() {
		return ptr(v), true
	}
	switch a.kind {
	case kHex:
		return hex(uint64(v)), true
	case kPtr:
		return ptr(v), true
	case kInt, kFD:
		return strconv.Itoa(int(int32(v))), true
	case kLong:
		return strconv.FormatInt(int64(v), 10), true
	case kUint:
		return strconv.FormatUint(uint64(v), 10), true
	case kUint32:
		return strconv.FormatUint(uint64(uint32(v)), 10), true
	case kDirFD:
		if int32(v) == unix.AT_FDCWD {
			return "AT_FDCWD", true
		}
		return strconv.Itoa(int(int32(v))), true
	case kPath:
		return readString(mem, v, linux.MaxPathLen, false), true
	case kString:
		return readString(mem, v, maxStringLen, true), true
	case kInBuf:
		return readBuf(mem, v, uint64(args[a.ref])), true
	case kMode:
		return mode(uint64(v)), true
	case kOpenMode:
		if args[a.ref]&(unix.O_CREAT|unix.O_TMPFILE) == 0 {
			return "", false
		}
		return mode(uint64(v)), true
	case kFlags:
		return linux.FormatFlags(uint64(v), a.table), true
	case kEnum:
		return linux.FormatValue(uint64(v), a.table), true
	case kSignal:
		return linux.SignalName(int(int32(v))), true
	case kArgv:
		return argv(mem, v), true
	case kEnvp:
		return envp(mem, v), true
	case kCloneFlags:
		return cloneFlags(uint64(v)), true
	case kFutexOp:
		return futexOp(uint64(uint32(v))), true
	case kFcntlArg:
		return fcntlArg(uint64(args[a.ref]), v)
	case kSigset:
		return readStruct(mem, v, 8, func(b []byte) string { return sigset(binary.LittleEndian.Uint64(b)) }), true
	case kSigaction:
		return readStruct(mem, v, 32, sigaction), true
	case kTimespec:
		return readStruct(mem, v, 16, timespec), true
	case kSockaddr:
		n := min(int(args[a.ref]), 128)
		if n < 2 {
			return ptr(v), true
		}
		return readStruct(mem, v, n, sockaddr), true
	case kPollFDs:
		return pollFDs(mem, v, int(uint32(args[a.ref]))), true
	case kIovec:
		return iovecs(mem, v, int(args[a.ref])), true
	}
	return hex(uint64(v)), true
}

// exit renders output argument args[i] after a successful call that
// returned ret; ok is false if a is not an output argument.
func (a arg) exit(mem Memory, args [6]uintptr, i int, ret uintptr) (s string, ok bool) {
	if !a.isOutput() {
		return "", false
	}
	v := args[i]
	switch a.kind {
	case kOutBuf:
		return readBuf(mem, v, uint64(ret)), true
	case kOutString:
		if v == 0 {
			return ptr(v), true
		}
		b, err := mem.ReadBytes(v, min(int(ret), linux.MaxPathLen))
		if err != nil {
			return ptr(v), true
		}
		return quote(b), true
	case kOutPath:
		return readString(mem, v, linux.MaxPathLen, false), true
	case kOutStat:
		return readStruct(mem, v, statSize, stat), true
	case kOutFDPair:
		return readStruct(mem, v, 8, func(b []byte) string {
			return "[" + strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b)))) + ", " +
				strconv.Itoa(int(int32(binary.LittleEndian.Uint32(b[4:])))) + "]"
		}), true
	case kOutTimespec:
		return readStruct(mem, v, 16, timespec), true
	case kOutStatus:
		if v == 0 || ret == 0 {
			return "", false
		}
		return readStruct(mem, v, 4, func(b []byte) string { return waitStatus(binary.LittleEndian.Uint32(b)) }), true
	}
	return "", false
}

// statSize is sizeof(struct stat).
var statSize = len(linux.AsBytes(new(unix.Stat_t)))

// retKind is how a syscall's return value is rendered.
type retKind uint8

const (
	retDec retKind = iota // signed decimal
	retHex                // address
	retOct                // mode (umask)
)

func (r retKind) format(v uintptr) string {
	switch r {
	case retHex:
		return hex(uint64(v))
	case retOct:
		return mode(uint64(v))
	}
	return strconv.FormatInt(int64(v), 10)
}

// hex renders v as "0x..", or "0".
func hex(v uint64) string {
	if v == 0 {
		return "0"
	}
	return "0x" + strconv.FormatUint(v, 16)
}

// ptr renders address v as "NULL" or hex.
func ptr(v uintptr) string {
	if v == 0 {
		return "NULL"
	}
	return hex(uint64(v))
}

// mode renders permission bits in octal with a leading 0 and at least
// three digits: "0644", "022", "000".
func mode(v uint64) string {
	s := "0" + strconv.FormatUint(v, 8)
	for len(s) < 3 {
		s = "0" + s
	}
	return s
}

// readString renders the NUL-terminated string at addr, at most max
// bytes of it; if truncate, longer strings are cut to maxStringLen and
// marked "...".
func readString(mem Memory, addr uintptr, max int, truncate bool) string {
	if addr == 0 {
		return "NULL"
	}
	if truncate {
		max = maxStringLen + 1
	}
	s, err := mem.ReadString(addr, max)
	if err != nil {
		return ptr(addr)
	}
	if truncate && len(s) > maxStringLen {
		return quote([]byte(s[:maxStringLen])) + "..."
	}
	return quote([]byte(s))
}

// readBuf renders the n-byte buffer at addr, cut to maxStringLen.
func readBuf(mem Memory, addr uintptr, n uint64) string {
	if addr == 0 {
		return "NULL"
	}
	b, err := mem.ReadBytes(addr, int(min(n, maxStringLen)))
	if err != nil {
		return ptr(addr)
	}
	if n > maxStringLen {
		return quote(b) + "..."
	}
	return quote(b)
}

// readStruct reads n bytes at addr and renders them with format, or
// renders the address if it is NULL or unreadable.
func readStruct(mem Memory, addr uintptr, n int, format func([]byte) string) string {
	if addr == 0 {
		return "NULL"
	}
	b, err := mem.ReadBytes(addr, n)
	if err != nil || len(b) < n {
		return ptr(addr)
	}
	return format(b)
}

// quote renders b as a C string literal the way strace does: printable
// ASCII as is, common control characters as \n-style escapes, other bytes
// in octal.
func quote(b []byte) string {
	var s strings.Builder
	s.WriteByte('"')
	for i, c := range b {
		switch c {
		case '"', '\\':
			s.WriteByte('\\')
			s.WriteByte(c)
		case '\t':
			s.WriteString(`\t`)
		case '\n':
			s.WriteString(`\n`)
		case '\v':
			s.WriteString(`\v`)
		case '\f':
			s.WriteString(`\f`)
		case '\r':
			s.WriteString(`\r`)
		default:
			if c >= ' ' && c <= '~' {
				s.WriteByte(c)
				continue
			}
			// Use the shortest octal form unless an octal digit follows.
			o := strconv.FormatUint(uint64(c), 8)
			if i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7' {
				o = strings.Repeat("0", 3-len(o)) + o
			}
			s.WriteByte('\\')
			s.WriteString(o)
		}
	}
	s.WriteByte('"')
	return s.String()
}

// readPointer reads the 8-byte guest pointer at addr.
func readPointer(mem Memory, addr uintptr) (uintptr, bool) {
	b, err := mem.ReadBytes(addr, 8)
	if err != nil || len(b) < 8 {
		return 0, false
	}
	return uintptr(binary.LittleEndian.Uint64(b)), true
}

// argv renders a NULL-terminated string array: ["ls", "-l"], at most
// maxArrayElems elements, then "...".
func argv(mem Memory, addr uintptr) string {
	if addr == 0 {
		return "NULL"
	}
	var elems []string
	for i := 0; ; i++ {
		p, ok := readPointer(mem, addr+uintptr(8*i))
		if !ok {
			if i == 0 {
				return ptr(addr)
			}
			elems = append(elems, "...")
			break
		}
		if p == 0 {
			break
		}
		if i == maxArrayElems {
			elems = append(elems, "...")
			break
		}
		elems = append(elems, readString(mem, p, maxStringLen, true))
	}
	return "[" + strings.Join(elems, ", ") + "]"
}

// envp renders an environment array as strace does by default: its
// address and how many variables it holds.
func envp(mem Memory, addr uintptr) string {
	if addr == 0 {
		return "NULL"
	}
	n := 0
	for ; n < maxEnvCount; n++ {
		p, ok := readPointer(mem, addr+uintptr(8*n))
		if !ok {
			return ptr(addr)
		}
		if p == 0 {
			break
		}
	}
	suffix := " vars */"
	if n == 1 {
		suffix = " var */"
	}
	return ptr(addr) + " /* " + strconv.Itoa(n) + suffix
}

// cloneFlags renders clone(2) flags: named flags, then the exit signal.
func cloneFlags(v uint64) string {
	var parts []string
	if f := v &^ unix.CSIGNAL; f != 0 || v == 0 {
		parts = append(parts, linux.FormatFlags(f, linux.CloneFlags))
	}
	if sig := v & unix.CSIGNAL; sig != 0 {
		parts = append(parts, linux.SignalName(int(sig)))
	}
	return strings.Join(parts, "|")
}

// futexOp renders a futex(2) op: "FUTEX_WAIT_PRIVATE",
// "FUTEX_WAIT_BITSET_PRIVATE|FUTEX_CLOCK_REALTIME".
func futexOp(v uint64) string {
	s := linux.FormatValue(v&^(linux.FUTEX_PRIVATE_FLAG|linux.FUTEX_CLOCK_REALTIME), linux.FutexOps)
	if v&linux.FUTEX_PRIVATE_FLAG != 0 {
		s += "_PRIVATE"
	}
	if v&linux.FUTEX_CLOCK_REALTIME != 0 {
		s += "|FUTEX_CLOCK_REALTIME"
	}
	return s
}

// fcntlArg renders fcntl(2)'s third argument for command cmd, or leaves
// it out for commands that take none.
func fcntlArg(cmd uint64, v uintptr) (string, bool) {
	switch cmd {
	case unix.F_GETFD, unix.F_GETFL, unix.F_GETOWN, unix.F_GETSIG, unix.F_GETLEASE,
		unix.F_GETPIPE_SZ, unix.F_GET_SEALS:
		return "", false
	case unix.F_SETFD:
		return linux.FormatFlags(uint64(v), linux.FDFlags), true
	case unix.F_SETFL:
		return linux.FormatFlags(uint64(v), linux.OpenFlags), true
	case unix.F_DUPFD, unix.F_DUPFD_CLOEXEC, unix.F_SETOWN, unix.F_SETSIG, unix.F_SETPIPE_SZ,
		unix.F_DUPFD_QUERY:
		return strconv.Itoa(int(int32(v))), true
	}
	return ptr(v), true
}

// sigset renders a signal set: "[INT TERM]", or "~[...]" listing the
// signals it lacks when it holds most of them.
func sigset(set uint64) string {
	prefix := "["
	if bits.OnesCount64(set) > linux.NumSignals/2 {
		prefix, set = "~[", ^set
	}
	var names []string
	for sig := 1; sig <= linux.NumSignals; sig++ {
		if set&(1<<uint(sig-1)) != 0 {
			names = append(names, strings.TrimPrefix(linux.SignalName(sig), "SIG"))
		}
	}
	return prefix + strings.Join(names, " ") + "]"
}

// sigaction renders a struct sigaction.
func sigaction(b []byte) string {
	var sa linux.SigAction
	linux.FromBytes(b, &sa)
	var s strings.Builder
	s.WriteString("{sa_handler=")
	switch sa.Handler {
	case linux.SIG_DFL:
		s.WriteString("SIG_DFL")
	case linux.SIG_IGN:
		s.WriteString("SIG_IGN")
	default:
		s.WriteString(hex(sa.Handler))
	}
	s.WriteString(", sa_mask=" + sigset(uint64(sa.Mask)))
	s.WriteString(", sa_flags=" + linux.FormatFlags(sa.Flags, linux.SigactionFlags))
	if sa.Flags&linux.SA_RESTORER != 0 {
		s.WriteString(", sa_restorer=" + hex(sa.Restorer))
	}
	s.WriteByte('}')
	return s.String()
}

// timespec renders a struct timespec.
func timespec(b []byte) string {
	var ts unix.Timespec
	linux.FromBytes(b, &ts)
	return "{tv_sec=" + strconv.FormatInt(ts.Sec, 10) + ", tv_nsec=" + strconv.FormatInt(ts.Nsec, 10) + "}"
}

// stat renders the interesting fields of a struct stat.
func stat(b []byte) string {
	var st unix.Stat_t
	linux.FromBytes(b, &st)
	var s strings.Builder
	s.WriteString("{st_mode=")
	s.WriteString(fileType(st.Mode))
	s.WriteString(mode(uint64(st.Mode & 0o7777)))
	if t := st.Mode & unix.S_IFMT; t == unix.S_IFCHR || t == unix.S_IFBLK {
		s.WriteString(", st_rdev=makedev(0x" + strconv.FormatUint(uint64(unix.Major(st.Rdev)), 16) +
			", 0x" + strconv.FormatUint(uint64(unix.Minor(st.Rdev)), 16) + ")")
	} else {
		s.WriteString(", st_size=" + strconv.FormatInt(st.Size, 10))
	}
	s.WriteString(", ...}")
	return s.String()
}

// fileType renders the S_IFMT bits of a mode with a trailing '|'.
func fileType(m uint32) string {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return "S_IFREG|"
	case unix.S_IFDIR:
		return "S_IFDIR|"
	case unix.S_IFLNK:
		return "S_IFLNK|"
	case unix.S_IFCHR:
		return "S_IFCHR|"
	case unix.S_IFBLK:
		return "S_IFBLK|"
	case unix.S_IFIFO:
		return "S_IFIFO|"
	case unix.S_IFSOCK:
		return "S_IFSOCK|"
	}
	return ""
}

// waitStatus renders a wait(2) status as strace does.
func waitStatus(s uint32) string {
	var r string
	switch {
	case s&0x7f == 0:
		r = "WIFEXITED(s) && WEXITSTATUS(s) == " + strconv.Itoa(int(s>>8&0xff))
	case s == 0xffff:
		r = "WIFCONTINUED(s)"
	case s&0xff == 0x7f:
		r = "WIFSTOPPED(s) && WSTOPSIG(s) == " + linux.SignalName(int(s>>8&0xff))
	default:
		r = "WIFSIGNALED(s) && WTERMSIG(s) == " + linux.SignalName(int(s&0x7f))
		if s&0x80 != 0 {
			r += " && WCOREDUMP(s)"
		}
	}
	return "[{" + r + "}]"
}

// sockaddr renders a socket address.
func sockaddr(b []byte) string {
	family := binary.LittleEndian.Uint16(b)
	fam := linux.FormatValue(uint64(family), linux.SocketFamilies)
	switch {
	case family == unix.AF_UNIX:
		path := b[2:]
		if len(path) > 0 && path[0] == 0 { // abstract
			return "{sa_family=AF_UNIX, sun_path=@" + quote(path[1:]) + "}"
		}
		if i := strings.IndexByte(string(path), 0); i >= 0 {
			path = path[:i]
		}
		return "{sa_family=AF_UNIX, sun_path=" + quote(path) + "}"
	case family == unix.AF_INET && len(b) >= 8:
		addr := netip.AddrFrom4([4]byte(b[4:8]))
		return "{sa_family=AF_INET, sin_port=htons(" + strconv.Itoa(int(binary.BigEndian.Uint16(b[2:]))) +
			"), sin_addr=inet_addr(\"" + addr.String() + "\")}"
	case family == unix.AF_INET6 && len(b) >= 24:
		addr := netip.AddrFrom16([16]byte(b[8:24]))
		return "{sa_family=AF_INET6, sin6_port=htons(" + strconv.Itoa(int(binary.BigEndian.Uint16(b[2:]))) +
			"), sin6_addr=inet_pton(AF_INET6, \"" + addr.String() + "\")}"
	}
	return "{sa_family=" + fam + ", ...}"
}

// pollFDs renders an array of n struct pollfd.
func pollFDs(mem Memory, addr uintptr, n int) string {
	if addr == 0 {
		return "NULL"
	}
	b, err := mem.ReadBytes(addr, 8*min(n, maxArrayElems))
	if err != nil {
		return ptr(addr)
	}
	var elems []string
	for i := 0; i+8 <= len(b); i += 8 {
		fd := int32(binary.LittleEndian.Uint32(b[i:]))
		ev := binary.LittleEndian.Uint16(b[i+4:])
		elems = append(elems, "{fd="+strconv.Itoa(int(fd))+", events="+linux.FormatFlags(uint64(ev), linux.PollEvents)+"}")
	}
	if n > maxArrayElems {
		elems = append(elems, "...")
	}
	return "[" + strings.Join(elems, ", ") + "]"
}

// iovecs renders an array of n struct iovec whose buffers the call reads.
func iovecs(mem Memory, addr uintptr, n int) string {
	if addr == 0 {
		return "NULL"
	}
	if n < 0 {
		return ptr(addr)
	}
	b, err := mem.ReadBytes(addr, 16*min(n, maxArrayElems))
	if err != nil {
		return ptr(addr)
	}
	var elems []string
	for i := 0; i+16 <= len(b); i += 16 {
		base := uintptr(binary.LittleEndian.Uint64(b[i:]))
		size := binary.LittleEndian.Uint64(b[i+8:])
		elems = append(elems, "{iov_base="+readBuf(mem, base, size)+", iov_len="+strconv.FormatUint(size, 10)+"}")
	}
	if n > maxArrayElems {
		elems = append(elems, "...")
	}
	return "[" + strings.Join(elems, ", ") + "]"
}
