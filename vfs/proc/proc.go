// Package proc implements the Sentry's procfs: /proc as the sandbox's
// programs see it. It shows only the sandbox's own processes (invariant 3
// of the architecture): a directory per live or zombie process with the
// usual files (status, stat, cmdline, maps, fd/, ...), the magic links
// self and thread-self, and a few system-wide files whose figures describe
// the sandbox rather than the host (meminfo, loadavg, stat) plus a small
// sys/ tree of constants.
//
// The package does not import the kernel: it reads what it shows through
// the small Kernel, Process, Thread and Memory interfaces defined here,
// which the boot code implements with adapters over the Sentry's kernel.
// The caller's identity (for /proc/self) comes from the context through
// Kernel.CallerPID.
//
// Every regular file is generated when it is opened (a snapshot, as
// Linux's seq_file files are per open) and read with offsets; directories
// are listed afresh on each readdir; symlinks are computed on each
// readlink. Inode numbers are a function of (PID, TID, file) so they are
// stable. Writes fail with EACCES, except to oom_score_adj, which keeps
// the value.
//
// Lock order: filesystem.mu is a leaf. No lock of this package is held
// while calling the Kernel interface or the VFS.
package proc

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/vfs"
)

// Name is the filesystem type name.
const Name = "proc"

// Kernel is what procfs needs from the Sentry's kernel.
type Kernel interface {
	// VFS returns the virtual filesystem, for the path names of files.
	VFS() *vfs.VirtualFilesystem
	// CallerPID returns the process ID of the task on whose behalf ctx
	// runs, or 0 if ctx has none.
	CallerPID(ctx context.Context) int32
	// CallerTID returns the thread ID of the task on whose behalf ctx
	// runs, or 0 if ctx has none.
	CallerTID(ctx context.Context) int32
	// CallerRoot returns the root directory of the task on whose behalf
	// ctx runs, with a reference; not Ok if ctx has no task.
	CallerRoot(ctx context.Context) vfs.VirtualDentry
	// ProcessIDs returns the IDs of the live and zombie processes in
	// increasing order.
	ProcessIDs() []int32
	// Process returns the process with ID pid, or nil.
	Process(pid int32) Process
	// LastPID returns the most recently allocated process or thread ID.
	LastPID() int32
	// RunningThreads returns the number of live tasks.
	RunningThreads() int
	// UTS returns the uname names.
	UTS() UTS
	// BootTime returns when the kernel started.
	BootTime() time.Time
	// MemoryUsage returns the bytes of guest memory in use.
	MemoryUsage() uint64
	// Mounts returns the mounts visible from the caller's mount namespace,
	// the root first.
	Mounts(ctx context.Context) []MountInfo
}

// UTS are uname(2)'s names.
type UTS struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
}

// MountInfo describes one mount for /proc/PID/mounts and mountinfo.
type MountInfo struct {
	// ID and ParentID are the mount's and its parent's IDs (the root's
	// parent is itself).
	ID, ParentID uint64
	// Dev is the filesystem's st_dev.
	Dev uint64
	// Root is the path of the mount's root inside its filesystem ("/" if
	// empty).
	Root string
	// MountPoint is where the mount is attached, as a path.
	MountPoint string
	// Optional are mountinfo's optional fields ("shared:N",
	// "master:N", "unbindable"), space-separated; empty for a private
	// mount.
	Optional string
	// FSType is the filesystem type name.
	FSType string
	// Source is the mount source ("none" if empty).
	Source string
	// Flags are the mount flags (unix.MS_RDONLY, MS_NOSUID, ...).
	Flags uint32
}

// Process is one process (thread group) of the sandbox.
type Process interface {
	// PID returns the process ID.
	PID() int32
	// StartTime returns when the process was created; with PID it
	// identifies the process across PID reuse.
	StartTime() time.Time
	// ParentPID returns the parent's PID (0 for init).
	ParentPID() int32
	// ProcessGroupID returns the process group ID.
	ProcessGroupID() int32
	// SessionID returns the session ID.
	SessionID() int32
	// ControllingTerminal returns the controlling terminal's device
	// number and foreground process group (0 if none); ok is false
	// without a controlling terminal.
	ControllingTerminal() (dev uint64, fg int32, ok bool)
	// Zombie reports whether the process has exited and awaits wait(2).
	Zombie() bool
	// ThreadIDs returns the IDs of the live threads in increasing order.
	ThreadIDs() []int32
	// Thread returns the live thread tid of the process, or nil.
	Thread(tid int32) Thread
	// MainThread returns the thread group leader, or another live
	// thread if the leader has exited; nil once no thread is left.
	MainThread() Thread
	// Limit returns resource limit resource (unix.RLIMIT_*).
	Limit(resource int) unix.Rlimit
	// Signals returns the process-wide signal state.
	Signals() ProcessSignals
}

// ProcessSignals is a process's signal state, as bit masks (bit N-1 is
// signal N).
type ProcessSignals struct {
	// Ignored and Caught are the signals whose action is SIG_IGN, or a
	// handler.
	Ignored, Caught uint64
	// SharedPending are the signals pending for the whole process.
	SharedPending uint64
	// Queued counts the queued signals of the process and its threads.
	Queued int
}

// Thread is one task of a process.
type Thread interface {
	// TID returns the thread ID.
	TID() int32
	// Comm returns the thread's name.
	Comm() string
	// State returns the state letter of /proc/PID/stat for a thread other
	// than the caller ('R', 'S', ...); the caller is always 'R'.
	State() byte
	// Credentials returns the thread's credentials.
	Credentials() Credentials
	// Signals returns the thread's blocked and pending signals.
	Signals() ThreadSignals
	// Umask returns the umask.
	Umask() uint32
	// Cwd and Root return the working and root directories with a
	// reference; not Ok once the thread is exiting.
	Cwd() vfs.VirtualDentry
	Root() vfs.VirtualDentry
	// FDs returns the open descriptors in increasing order.
	FDs() []int32
	// FD returns the file at descriptor fd with a reference, and its
	// close-on-exec flag; nil if fd is not open.
	FD(fd int32) (*vfs.FileDescription, bool)
	// Memory returns the thread's address space, or nil if it has none.
	Memory() Memory
}

// ThreadSignals is a thread's signal state, as bit masks.
type ThreadSignals struct {
	// Blocked is the signal mask; Pending the signals pending for the
	// thread alone.
	Blocked, Pending uint64
}

// Credentials are a thread's identities and capabilities.
type Credentials struct {
	RealUID, EffectiveUID, SavedUID, FSUID uint32
	RealGID, EffectiveGID, SavedGID, FSGID uint32
	// Groups are the supplementary groups.
	Groups []uint32
	// Capability sets: bit N is capability N.
	Inheritable, Permitted, Effective, Bounding, Ambient uint64
	// NoNewPrivs is prctl(PR_SET_NO_NEW_PRIVS).
	NoNewPrivs bool
	// Seccomp is the seccomp mode (0, 1 strict, 2 filter).
	Seccomp int
	// SeccompFilters is the number of seccomp filters installed.
	SeccompFilters int
}

// Memory is an address space.
type Memory interface {
	// Maps returns the text of /proc/PID/maps.
	Maps() string
	// Layout returns where the loader put argv, envp, the stack and auxv.
	Layout() Layout
	// CopyIn copies memory at addr into dst.
	CopyIn(addr uint64, dst []byte) (int, error)
}

// ResidentMemory is optionally implemented by a Memory that knows how
// many bytes are backed by pages (VmRSS).
type ResidentMemory interface {
	ResidentBytes() uint64
}

// LockedMemory is optionally implemented by a Memory that knows how many
// bytes are locked by mlock (VmLck).
type LockedMemory interface {
	LockedBytes() uint64
}

// Layout is what the loader placed where in an address space.
type Layout struct {
	ArgvStart, ArgvEnd uint64
	EnvvStart, EnvvEnd uint64
	StackStart         uint64
	// Auxv are the auxiliary vector's (type, value) pairs.
	Auxv []uint64
	// Executable is the program's path as given to execve.
	Executable string
}

// Options configure a procfs instance.
type Options struct {
	// CPUInfo is the text of /proc/cpuinfo (the host's, read at
	// start-up).
	CPUInfo []byte
	// MemTotal is the memory the sandbox may use, in bytes (MemTotal of
	// /proc/meminfo).
	MemTotal uint64
	// BootID is /proc/sys/kernel/random/boot_id (random if empty).
	BootID string
	// OOMScoreAdj is what /proc/PID/oom_score_adj shows for a process
	// that never wrote it: a container's process.oomScoreAdj, which under
	// Linux every process of the container inherits from the first.
	OOMScoreAdj int32
	// Files are more files that other parts of the Sentry serve, such
	// as /proc/sys/kernel/shmmax and /proc/sysvipc/shm. A file whose
	// path names an existing /proc/sys file replaces it.
	Files []File
	// Net, if set, provides /proc/PID/net (and /proc/net, a link to
	// self/net): the tables of the sandbox's network stack.
	Net NetFiles
}

// File is a file of /proc served by another package.
type File struct {
	// Path is relative to /proc ("sys/kernel/sem", "sysvipc/shm"); its
	// directories are made as needed.
	Path string
	// Read returns the contents.
	Read func(ctx context.Context) ([]byte, error)
	// Write takes one write(2); nil makes the file read-only (0444),
	// otherwise it is 0644 (writable by root, as Linux's sysctls).
	Write func(ctx context.Context, src []byte) error
}

// NetFiles provides the files of /proc/PID/net. Every process of a sandbox
// shares its network stack, so the files do not depend on the process.
type NetFiles interface {
	// Names lists the files, in the order a listing shows them.
	Names() []string
	// Generate returns the current contents of file name.
	Generate(name string) ([]byte, error)
}

// filesystem is one procfs instance.
type filesystem struct {
	// k is the kernel. Immutable.
	k Kernel
	// opts are the construction options. Immutable.
	opts Options
	// dev is st_dev. Immutable.
	dev uint64
	// root is the root directory. Immutable.
	root *dirNode

	// mu protects oomScoreAdj.
	mu sync.Mutex
	// oomScoreAdj are the values written to /proc/PID/oom_score_adj, by
	// process (pid and start time); entries of dead processes are dropped
	// lazily.
	oomScoreAdj map[procKey]int32
}

// procKey identifies a process across PID reuse.
type procKey struct {
	pid   int32
	start int64
}

var _ vfs.FilesystemImpl = (*filesystem)(nil)

// Name implements vfs.FilesystemImpl.Name.
func (fs *filesystem) Name() string { return Name }

// Release implements vfs.FilesystemImpl.Release.
func (fs *filesystem) Release(ctx context.Context) {}

// New returns a procfs for k.
func New(k Kernel, opts Options) *vfs.Filesystem {
	if opts.BootID == "" {
		opts.BootID = newUUID()
	}
	fs := &filesystem{k: k, opts: opts, dev: vfs.AnonDevice(), oomScoreAdj: make(map[procKey]int32)}
	fs.root = fs.newRoot()
	return vfs.NewFilesystem(fs, fs.root)
}

// inoOf returns the stable inode number of the file at path (relative to
// /proc/PID or /proc/PID/task/TID, or to /proc when pid is 0).
func inoOf(pid, tid int32, path string) uint64 {
	if pid == 0 && path == "" {
		return 1 // the root
	}
	h := fnv.New64a()
	var b [8]byte
	b[0], b[1], b[2], b[3] = byte(pid), byte(pid>>8), byte(pid>>16), byte(pid>>24)
	b[4], b[5], b[6], b[7] = byte(tid), byte(tid>>8), byte(tid>>16), byte(tid>>24)
	h.Write(b[:])
	h.Write([]byte(path))
	ino := h.Sum64() &^ (1 << 63)
	if ino < 2 {
		ino += 2
	}
	return ino
}
