package boot

import (
	"context"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/palisade-sandbox/palisade/sentry/kernel"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"github.com/palisade-sandbox/palisade/syscalls/inet"
	"github.com/palisade-sandbox/palisade/syscalls/linux"
	"github.com/palisade-sandbox/palisade/vfs"
	"github.com/palisade-sandbox/palisade/vfs/dev"
	"github.com/palisade-sandbox/palisade/vfs/proc"
)

// /dev/tty's opener is the kernel's (kernel.OpenControllingTerminal,
// registered by package kernel); /dev/console's finder is here.
func init() {
	dev.SetConsoleFinder(consoleTerminal)
}

// scratchMemory is a UserMemory of a few bytes at address 0, for asking a
// terminal's ioctls questions on the Sentry's own behalf.
type scratchMemory struct{ b [64]byte }

// CopyIn implements vfs.UserMemory.CopyIn.
func (m *scratchMemory) CopyIn(addr uintptr, dst []byte) (int, error) {
	if addr >= uintptr(len(m.b)) {
		return 0, unix.EFAULT
	}
	return copy(dst, m.b[addr:]), nil
}

// CopyOut implements vfs.UserMemory.CopyOut.
func (m *scratchMemory) CopyOut(addr uintptr, src []byte) (int, error) {
	if addr >= uintptr(len(m.b)) {
		return 0, unix.EFAULT
	}
	return copy(m.b[addr:], src), nil
}

// consoleTerminal is /dev/console's dev.TerminalFinder: the sandbox's
// stdout (descriptor 1 of process 1) if it is a terminal; ENXIO
// otherwise, or once process 1 is gone.
func consoleTerminal(ctx context.Context) (*vfs.FileDescription, error) {
	t := kernel.TaskFromContext(ctx)
	if t == nil {
		return nil, unix.ENXIO
	}
	tg := t.Kernel().ThreadGroupByID(1)
	if tg == nil {
		return nil, unix.ENXIO
	}
	init := tg.MainTask()
	if init == nil {
		return nil, unix.ENXIO
	}
	ft := init.ProcFDTable()
	if ft == nil {
		return nil, unix.ENXIO
	}
	f, _ := ft.Get(1)
	if f == nil {
		return nil, unix.ENXIO
	}
	var m scratchMemory
	if _, err := f.Ioctl(ctx, &m, unix.TCGETS, 0); err != nil {
		f.DecRef(ctx)
		return nil, unix.ENXIO
	}
	return f, nil
}

// NewProcFilesystem returns a procfs showing k's processes. cpuinfo is the
// host's /proc/cpuinfo, read at start-up, of which it shows k's CPUs.
// /proc/meminfo's MemTotal is the host's memory or lim's memory limit,
// whichever is smaller. /proc/PID/mounts lists the mount tree of the
// reader's root. oomScoreAdj is every process's oom_score_adj until it
// writes its own.
func NewProcFilesystem(k *kernel.Kernel, cpuinfo []byte, lim ContainerLimits, oomScoreAdj int32) (*vfs.Filesystem, error) {
	var si unix.Sysinfo_t
	if err := unix.Sysinfo(&si); err != nil {
		return nil, err
	}
	return proc.New(&procKernel{k: k}, proc.Options{
		CPUInfo:     limitCPUInfo(cpuinfo, k.NumCPU()),
		MemTotal:    lim.MemTotal(si.Totalram * uint64(si.Unit)),
		OOMScoreAdj: oomScoreAdj,
		Files:       append(append(append(ipcProcFiles(k), mqueueProcFiles(k)...), netSysctlFiles()...), aioProcFiles(k)...),
		Net:         inet.ProcNet{Kernel: k, Unix: func() []byte { return linux.ProcNetUnix(k) }},
	}), nil
}

// procKernel adapts *kernel.Kernel to proc.Kernel.
type procKernel struct {
	k *kernel.Kernel
}

var (
	_ proc.Kernel           = (*procKernel)(nil)
	_ proc.Process          = procProcess{}
	_ proc.Thread           = procThread{}
	_ proc.ExecutableThread = procThread{}
	_ proc.TracedThread     = procThread{}
	_ proc.MemThread        = procThread{}
	_ proc.Memory           = procMemory{}
)

// VFS implements proc.Kernel.VFS.
func (pk *procKernel) VFS() *vfs.VirtualFilesystem { return pk.k.VFS }

// CallerPID implements proc.Kernel.CallerPID.
func (pk *procKernel) CallerPID(ctx context.Context) int32 {
	if t := kernel.TaskFromContext(ctx); t != nil {
		return t.ThreadGroup().ID()
	}
	return 0
}

// CallerTID implements proc.Kernel.CallerTID.
func (pk *procKernel) CallerTID(ctx context.Context) int32 {
	if t := kernel.TaskFromContext(ctx); t != nil {
		return t.ThreadID()
	}
	return 0
}

// CallerRoot implements proc.Kernel.CallerRoot.
func (pk *procKernel) CallerRoot(ctx context.Context) vfs.VirtualDentry {
	if t := kernel.TaskFromContext(ctx); t != nil {
		if vd := t.ProcRoot(); vd.Ok() {
			return vd
		}
	}
	return pk.k.Mounts.Root()
}

// ProcessIDs implements proc.Kernel.ProcessIDs.
func (pk *procKernel) ProcessIDs() []int32 {
	tgs := pk.k.ThreadGroups()
	out := make([]int32, len(tgs))
	for i, tg := range tgs {
		out[i] = tg.ID()
	}
	return out
}

// Process implements proc.Kernel.Process.
func (pk *procKernel) Process(pid int32) proc.Process {
	tg := pk.k.ThreadGroupByID(pid)
	if tg == nil {
		return nil
	}
	return procProcess{tg}
}

// LastPID implements proc.Kernel.LastPID.
func (pk *procKernel) LastPID() int32 { return pk.k.LastID() }

// RunningThreads implements proc.Kernel.RunningThreads.
func (pk *procKernel) RunningThreads() int { return pk.k.LiveTaskCount() }

// UTS implements proc.Kernel.UTS.
func (pk *procKernel) UTS() proc.UTS {
	u := pk.k.UTS()
	return proc.UTS{Sysname: u.Sysname, Nodename: u.Nodename, Release: u.Release, Version: u.Version, Machine: u.Machine, Domainname: u.Domainname}
}

// BootTime implements proc.Kernel.BootTime.
func (pk *procKernel) BootTime() time.Time { return pk.k.BootTime }

// MemoryUsage implements proc.Kernel.MemoryUsage.
func (pk *procKernel) MemoryUsage() uint64 {
	if pk.k.MemoryFile == nil {
		return 0
	}
	return pk.k.MemoryFile.Usage()
}

// Mounts implements proc.Kernel.Mounts: the mount tree of the caller's
// root, as seen from it.
func (pk *procKernel) Mounts(ctx context.Context) []proc.MountInfo {
	root := pk.CallerRoot(ctx)
	defer root.DecRef(ctx)
	ms := pk.k.VFS.MountsFrom(ctx, root)
	out := make([]proc.MountInfo, len(ms))
	for i, m := range ms {
		out[i] = proc.MountInfo{
			ID: m.ID, ParentID: m.ParentID, Dev: m.Dev, Root: m.Root, MountPoint: m.MountPoint,
			FSType: m.FSType, Source: m.Source, Flags: m.Flags, Optional: optionalFields(m),
		}
	}
	return out
}

// optionalFields formats mountinfo's optional fields for m.
func optionalFields(m vfs.MountInfo) string {
	switch m.Propagation {
	case unix.MS_SHARED:
		return fmt.Sprintf("shared:%d", m.PeerGroup)
	case unix.MS_SLAVE:
		return "master:1"
	case unix.MS_UNBINDABLE:
		return "unbindable"
	}
	return ""
}

// procProcess adapts *kernel.ThreadGroup to proc.Process.
type procProcess struct{ tg *kernel.ThreadGroup }

// PID implements proc.Process.PID.
func (p procProcess) PID() int32 { return p.tg.ID() }

// StartTime implements proc.Process.StartTime.
func (p procProcess) StartTime() time.Time { return p.tg.StartTime() }

// ParentPID implements proc.Process.ParentPID.
func (p procProcess) ParentPID() int32 { return p.tg.ParentID() }

// ProcessGroupID implements proc.Process.ProcessGroupID.
func (p procProcess) ProcessGroupID() int32 { return p.tg.ProcessGroupID() }

// SessionID implements proc.Process.SessionID.
func (p procProcess) SessionID() int32 { return p.tg.SessionID() }

// ControllingTerminal implements proc.Process.ControllingTerminal.
func (p procProcess) ControllingTerminal() (uint64, int32, bool) {
	return p.tg.ControllingTerminal()
}

// Zombie implements proc.Process.Zombie.
func (p procProcess) Zombie() bool { return p.tg.IsZombie() }

// ThreadIDs implements proc.Process.ThreadIDs.
func (p procProcess) ThreadIDs() []int32 { return p.tg.TaskIDs() }

// Thread implements proc.Process.Thread.
func (p procProcess) Thread(tid int32) proc.Thread {
	if t := p.tg.TaskWithID(tid); t != nil {
		return procThread{t}
	}
	return nil
}

// MainThread implements proc.Process.MainThread.
func (p procProcess) MainThread() proc.Thread {
	if t := p.tg.MainTask(); t != nil {
		return procThread{t}
	}
	return nil
}

// Limit implements proc.Process.Limit.
func (p procProcess) Limit(resource int) unix.Rlimit {
	if resource < 0 || resource > unix.RLIMIT_RTTIME {
		return unix.Rlimit{}
	}
	return p.tg.Limit(resource)
}

// Signals implements proc.Process.Signals.
func (p procProcess) Signals() proc.ProcessSignals {
	ign, cgt := p.tg.SignalDispositions()
	return proc.ProcessSignals{
		Ignored: uint64(ign), Caught: uint64(cgt),
		SharedPending: uint64(p.tg.SharedPendingSignals()),
		Queued:        p.tg.QueuedSignalCount(),
	}
}

// procThread adapts *kernel.Task to proc.Thread.
type procThread struct{ t *kernel.Task }

// TID implements proc.Thread.TID.
func (pt procThread) TID() int32 { return pt.t.ThreadID() }

// Comm implements proc.Thread.Comm.
func (pt procThread) Comm() string { return pt.t.Name() }

// State implements proc.Thread.State.
func (pt procThread) State() byte { return pt.t.ProcState() }

// Credentials implements proc.Thread.Credentials.
func (pt procThread) Credentials() proc.Credentials {
	c := pt.t.Credentials()
	return proc.Credentials{
		RealUID: c.RealUID, EffectiveUID: c.EffectiveUID, SavedUID: c.SavedUID, FSUID: c.FSUID,
		RealGID: c.RealGID, EffectiveGID: c.EffectiveGID, SavedGID: c.SavedGID, FSGID: c.FSGID,
		Groups:      append([]uint32(nil), c.Groups...),
		Inheritable: c.Inheritable, Permitted: c.Permitted, Effective: c.Effective, Bounding: c.Bounding, Ambient: c.Ambient,
		NoNewPrivs: c.NoNewPrivs, Seccomp: pt.t.SeccompMode(), SeccompFilters: pt.t.SeccompFilterCount(),
	}
}

// Signals implements proc.Thread.Signals.
func (pt procThread) Signals() proc.ThreadSignals {
	return proc.ThreadSignals{Blocked: uint64(pt.t.BlockedSignals()), Pending: uint64(pt.t.ThreadPendingSignals())}
}

// Umask implements proc.Thread.Umask.
func (pt procThread) Umask() uint32 { return pt.t.ProcUmask() }

// Cwd implements proc.Thread.Cwd.
func (pt procThread) Cwd() vfs.VirtualDentry { return pt.t.ProcCwd() }

// Executable implements proc.ExecutableThread.Executable.
func (pt procThread) Executable() vfs.VirtualDentry { return pt.t.ProcExecutable() }

// TracerID implements proc.TracedThread.TracerID.
func (pt procThread) TracerID() int32 { return pt.t.TracerID() }

// OpenMem implements proc.MemThread.OpenMem.
func (pt procThread) OpenMem(ctx context.Context) (proc.ForceMemory, error) {
	caller := kernel.TaskFromContext(ctx)
	if caller == nil {
		return nil, unix.EACCES
	}
	m, err := caller.ProcMemTarget(pt.t)
	if err != nil || m == nil {
		return nil, err
	}
	return m, nil
}

// Root implements proc.Thread.Root.
func (pt procThread) Root() vfs.VirtualDentry { return pt.t.ProcRoot() }

// FDs implements proc.Thread.FDs.
func (pt procThread) FDs() []int32 {
	if f := pt.t.ProcFDTable(); f != nil {
		return f.FDs()
	}
	return nil
}

// FD implements proc.Thread.FD.
func (pt procThread) FD(fd int32) (*vfs.FileDescription, bool) {
	f := pt.t.ProcFDTable()
	if f == nil {
		return nil, false
	}
	file, flags := f.Get(fd)
	return file, flags.CloseOnExec
}

// Memory implements proc.Thread.Memory.
func (pt procThread) Memory() proc.Memory {
	if m := pt.t.ProcMemoryManager(); m != nil {
		return procMemory{m}
	}
	return nil
}

// procMemory adapts *mm.MemoryManager to proc.Memory.
type procMemory struct{ m *mm.MemoryManager }

// Maps implements proc.Memory.Maps.
func (pm procMemory) Maps() string { return pm.m.Maps() }

// ResidentBytes implements proc.ResidentMemory.
func (pm procMemory) ResidentBytes() uint64 { return pm.m.ResidentSize() }

// LockedBytes implements proc.LockedMemory.
func (pm procMemory) LockedBytes() uint64 { return pm.m.LockedBytes() }

// Layout implements proc.Memory.Layout.
func (pm procMemory) Layout() proc.Layout {
	l := pm.m.Layout()
	return proc.Layout{
		ArgvStart: l.ArgvStart, ArgvEnd: l.ArgvEnd, EnvvStart: l.EnvvStart, EnvvEnd: l.EnvvEnd,
		StackStart: l.StackStart, Auxv: append([]uint64(nil), l.Auxv...), Executable: l.Executable,
	}
}

// CopyIn implements proc.Memory.CopyIn.
func (pm procMemory) CopyIn(addr uint64, dst []byte) (int, error) { return pm.m.CopyIn(addr, dst) }

// netSysctlFiles are /proc/sys/net's files: the network stack's fixed
// limits (inet.Sysctls), read-only.
func netSysctlFiles() []proc.File {
	m := inet.Sysctls()
	paths := make([]string, 0, len(m))
	for p := range m {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	files := make([]proc.File, 0, len(paths))
	for _, p := range paths {
		v := []byte(m[p])
		files = append(files, proc.File{Path: "sys/net/" + p, Read: func(context.Context) ([]byte, error) { return v, nil }})
	}
	return files
}
