package kernel

// CPU-time accounting.
//
// A task's user time is the wall time it spends in guest code: the time
// inside platform.Context.Switch, measured by the task loop
// (accountSentry before the switch, accountGuest after it). Its system
// time is the CPU time of the task's own host thread, which serves only
// that task (it is locked to the task goroutine) outside Switch:
// syscalls, faults and signal delivery, but not the time it sleeps in a
// blocking call, nor its ptrace calls inside Switch, which the user charge
// covers. Both are sampled at the switch, and a reader adds the time of a
// guest run in progress, so a task spinning in guest code still sees its
// clock move.
//
// Process time is the sum over live threads plus what exited threads
// left behind (folded in lazily, once a thread has left tg.tasks).
// Children's times are added to the parent when the parent reaps them:
// each process registers with its parent when it first runs, and the
// parent folds in the children that have been reaped since whenever it
// reads its children's times.
//
// CPU timers (ITIMER_VIRTUAL, ITIMER_PROF, RLIMIT_CPU and POSIX timers on
// CPU clocks) are sampled: a wall-clock Go timer fires when the clock
// could have reached the deadline at the earliest (the remaining CPU time
// divided among the threads that could be using it), checks the clock,
// and either expires the timer or sleeps again. Sending the signal
// interrupts a task spinning in the guest.
//
// Lock order: Kernel.mu, then taskCPU.mu (a leaf, also taken without
// Kernel.mu by the task loop).

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"golang.org/x/sys/unix"
)

// Usage is an amount of CPU time: user (guest code) and system (the
// Sentry serving the guest). Linux: the utime/stime pairs.
type Usage struct {
	User, Sys time.Duration
}

// Total returns user plus system time.
func (u Usage) Total() time.Duration { return u.User + u.Sys }

func (u *Usage) add(v Usage) {
	u.User += v.User
	u.Sys += v.Sys
}

// cpuEpoch is the origin of monoNow.
var cpuEpoch = time.Now()

// monoNow returns monotonic nanoseconds since cpuEpoch.
func monoNow() int64 { return int64(time.Since(cpuEpoch)) }

// threadCPUNow returns the CPU time used so far by the calling host
// thread, and false if it can't be read.
func threadCPUNow() (int64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, false
	}
	return ts.Nano(), true
}

// taskCPU is one task's CPU-time accounting. Linux: task_struct's utime
// and stime.
type taskCPU struct {
	// mu protects user, sys, inGuest and guestSince. A leaf lock.
	mu   sync.Mutex
	user time.Duration
	sys  time.Duration
	// inGuest is set while the task runs guest code, since guestSince
	// (monoNow).
	inGuest    bool
	guestSince int64

	// The fields below are used only by the task goroutine.

	// lastThreadCPU is the host thread's CPU time when system time was
	// last charged.
	lastThreadCPU int64
	// lastNr and lastArg0 are the syscall number (or -1) and first
	// argument the guest stopped with, seen by accountGuest and acted on
	// by the next accountSentry once the call has been served.
	lastNr, lastArg0 uint64
}

// usage returns the task's times, including a guest run in progress.
func (c *taskCPU) usage() Usage {
	now := monoNow()
	c.mu.Lock()
	defer c.mu.Unlock()
	u := Usage{User: c.user, Sys: c.sys}
	if c.inGuest && now > c.guestSince {
		u.User += time.Duration(now - c.guestSince)
	}
	return u
}

// reapedChild remembers the times of a recently reaped child, for wait4.
type reapedChild struct {
	pid    int32
	usage  Usage
	maxRSS uint64
}

// groupCPU is a process's CPU-time accounting and CPU timers. Linux: the
// time fields and cpu timers of signal_struct.
type groupCPU struct {
	// threads maps each task of the process that has run to its
	// *taskCPU. The task loop reads it on every switch without
	// Kernel.mu; entries are added by their own task and removed, once
	// the task has exited, under Kernel.mu.
	threads sync.Map
	// maxRSS is the high-water mark of the address space size, in bytes
	// (an upper bound of the resident size, which the Sentry doesn't
	// track).
	maxRSS atomic.Uint64

	// The fields below are protected by Kernel.mu.

	// registered is set once the process has registered with its
	// parent's children.
	registered bool
	// dead is the time of exited threads.
	dead Usage
	// children are the child processes that have run, until the
	// process folds them into reaped once they have been reaped.
	children map[*ThreadGroup]struct{}
	// reaped and reapedMaxRSS are the times and largest maxrss of the
	// reaped children and their own reaped descendants. Linux:
	// signal_struct::cutime, cstime, cmaxrss.
	reaped       Usage
	reapedMaxRSS uint64
	// recent are the last children folded in, for wait4's rusage.
	recent     [8]reapedChild
	recentNext int
	// virt and prof are ITIMER_VIRTUAL and ITIMER_PROF.
	virt, prof cpuTimer
	// rlimit watches RLIMIT_CPU; rlimitCur and rlimitMax are the limits
	// it was armed for.
	rlimit               cpuTimer
	rlimitCur, rlimitMax uint64
}

// cpuState returns tg's CPU accounting.
func (tg *ThreadGroup) cpuState() *groupCPU { return &tg.realTimer.cpu }

// cpuAccount returns t's accounting, creating it when t first runs.
// Called only by t's goroutine.
func (t *Task) cpuAccount() *taskCPU {
	gc := t.tg.cpuState()
	if v, ok := gc.threads.Load(t); ok {
		return v.(*taskCPU)
	}
	c := &taskCPU{lastNr: ^uint64(0)}
	c.lastThreadCPU, _ = threadCPUNow()
	gc.threads.Store(t, c)
	k := t.k
	k.mu.Lock()
	t.tg.registerCPULocked()
	t.tg.checkCPULimitLocked()
	k.mu.Unlock()
	t.noteAddressSpaceSize()
	return c
}

// guestMark is what accountSentry hands to accountGuest.
type guestMark struct {
	c     *taskCPU
	start int64
}

// accountSentry is called by the task loop just before it switches into
// the guest: it finishes the bookkeeping of the syscall just served and
// starts a guest run.
func (t *Task) accountSentry() guestMark {
	c := t.cpuAccount()
	if nr := c.lastNr; nr != ^uint64(0) {
		c.lastNr = ^uint64(0)
		t.afterSyscall(nr, c.lastArg0)
	}
	// System time: the host thread's CPU since the last guest run ended.
	// Its CPU inside Switch (the ptrace calls) is not charged: the guest
	// run's wall time, charged as user time, already covers it.
	tc, ok := threadCPUNow()
	now := monoNow()
	c.mu.Lock()
	if ok && tc > c.lastThreadCPU {
		c.sys += time.Duration(tc - c.lastThreadCPU)
	}
	c.inGuest, c.guestSince = true, now
	c.mu.Unlock()
	return guestMark{c: c, start: now}
}

// accountGuest is called by the task loop when Switch returns: it
// charges the guest run as user time and starts the next stretch of
// system time (see accountSentry).
func (t *Task) accountGuest(m guestMark) {
	c := m.c
	now := monoNow()
	tc, ok := threadCPUNow()
	c.mu.Lock()
	if now > m.start {
		c.user += time.Duration(now - m.start)
	}
	c.inGuest = false
	c.mu.Unlock()
	if ok {
		c.lastThreadCPU = tc
	}
	c.lastNr, c.lastArg0 = t.st.Regs.Orig_rax, t.st.Regs.Rdi
}

// afterSyscall reacts to syscalls that change what CPU accounting
// watches. The limit and the address space belong to other parts of the
// kernel, which don't call back here; the task loop notices the calls
// that change them instead.
func (t *Task) afterSyscall(nr, arg0 uint64) {
	switch nr {
	case unix.SYS_SETRLIMIT, unix.SYS_PRLIMIT64:
		k := t.k
		k.mu.Lock()
		t.tg.checkCPULimitLocked()
		if pid := int32(arg0); nr == unix.SYS_PRLIMIT64 && pid > 0 {
			if tg := k.groups[pid]; tg != nil && tg != t.tg {
				tg.checkCPULimitLocked()
			}
		}
		k.mu.Unlock()
	case unix.SYS_BRK, unix.SYS_MMAP, unix.SYS_MREMAP, unix.SYS_EXECVE, unix.SYS_EXECVEAT:
		t.noteAddressSpaceSize()
	}
}

// noteAddressSpaceSize raises the process's maxrss high-water mark.
func (t *Task) noteAddressSpaceSize() {
	if t.mm == nil {
		return
	}
	size := t.mm.VirtualSize()
	gc := t.tg.cpuState()
	for {
		old := gc.maxRSS.Load()
		if size <= old || gc.maxRSS.CompareAndSwap(old, size) {
			return
		}
	}
}

// registerCPULocked adds tg to its parent's children, once.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) registerCPULocked() {
	gc := tg.cpuState()
	if gc.registered {
		return
	}
	gc.registered = true
	if tg.parent != nil {
		tg.parent.addCPUChildLocked(tg)
	}
}

func (tg *ThreadGroup) addCPUChildLocked(child *ThreadGroup) {
	gc := tg.cpuState()
	if gc.children == nil {
		gc.children = map[*ThreadGroup]struct{}{}
	}
	gc.children[child] = struct{}{}
}

// threadUsageLocked returns the times of t, a thread of tg.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) threadUsageLocked(t *Task) Usage {
	if v, ok := tg.cpuState().threads.Load(t); ok {
		return v.(*taskCPU).usage()
	}
	return Usage{}
}

// usageLocked returns the times of tg's threads, live and exited.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) usageLocked() Usage {
	gc := tg.cpuState()
	total := gc.dead
	gc.threads.Range(func(key, value any) bool {
		t, c := key.(*Task), value.(*taskCPU)
		u := c.usage()
		if _, live := tg.tasks[t]; !live {
			// t has exited (finishExit removed it under Kernel.mu
			// after its last accounting): its times are final.
			gc.dead.add(u)
			gc.threads.Delete(t)
		}
		total.add(u)
		return true
	})
	return total
}

// foldChildrenLocked adds the times of tg's reaped children to
// gc.reaped, and passes children that were given to another parent on
// to it.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) foldChildrenLocked() {
	gc := tg.cpuState()
	for child := range gc.children {
		if child.parent != tg {
			delete(gc.children, child)
			if child.parent != nil {
				child.parent.addCPUChildLocked(child)
			}
			continue
		}
		if tg.k.groups[child.id] == child {
			continue // running, or a zombie not yet reaped
		}
		delete(gc.children, child)
		u, rss := child.totalUsageLocked()
		gc.reaped.add(u)
		gc.reapedMaxRSS = max(gc.reapedMaxRSS, rss)
		gc.recent[gc.recentNext] = reapedChild{pid: child.id, usage: u, maxRSS: rss}
		gc.recentNext = (gc.recentNext + 1) % len(gc.recent)
	}
}

// totalUsageLocked returns the times of tg and its reaped descendants,
// and the largest maxrss among them (what wait4 reports for tg).
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) totalUsageLocked() (Usage, uint64) {
	tg.foldChildrenLocked()
	gc := tg.cpuState()
	u := tg.usageLocked()
	u.add(gc.reaped)
	return u, max(gc.maxRSS.Load(), gc.reapedMaxRSS)
}

// Who selects the times getrusage(2) reports.
type Who int

// Who values.
const (
	// UsageSelf is the calling process (RUSAGE_SELF).
	UsageSelf Who = iota
	// UsageChildren are the reaped children (RUSAGE_CHILDREN).
	UsageChildren
	// UsageThread is the calling thread (RUSAGE_THREAD).
	UsageThread
)

// ResourceUsage is what getrusage(2) reports.
type ResourceUsage struct {
	Usage
	// MaxRSS is the largest resident size in bytes; the Sentry
	// approximates it with the address space size.
	MaxRSS uint64
}

// ResourceUsage implements getrusage(2)'s accounting.
func (t *Task) ResourceUsage(who Who) ResourceUsage {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	gc := t.tg.cpuState()
	switch who {
	case UsageChildren:
		t.tg.foldChildrenLocked()
		return ResourceUsage{Usage: gc.reaped, MaxRSS: gc.reapedMaxRSS}
	case UsageThread:
		return ResourceUsage{Usage: t.tg.threadUsageLocked(t), MaxRSS: gc.maxRSS.Load()}
	}
	return ResourceUsage{Usage: t.tg.usageLocked(), MaxRSS: gc.maxRSS.Load()}
}

// ChildResourceUsage returns what wait4(2) reports for child pid, just
// waited for: the times of the child and of its reaped descendants. It
// returns zero if pid is neither a child nor a recently reaped one.
func (t *Task) ChildResourceUsage(pid int32) ResourceUsage {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	tg := t.tg
	tg.foldChildrenLocked()
	if child := k.groups[pid]; child != nil && child.parent == tg {
		u, rss := child.totalUsageLocked()
		return ResourceUsage{Usage: u, MaxRSS: rss}
	}
	gc := tg.cpuState()
	for i := range gc.recent {
		// Newest first.
		r := gc.recent[(gc.recentNext-1-i+2*len(gc.recent))%len(gc.recent)]
		if r.pid == pid {
			return ResourceUsage{Usage: r.usage, MaxRSS: r.maxRSS}
		}
	}
	return ResourceUsage{}
}

// CPU clock kinds. Linux: CPUCLOCK_PROF, CPUCLOCK_VIRT, CPUCLOCK_SCHED.
const (
	// CPUClockProf counts user and system time.
	CPUClockProf = 0
	// CPUClockVirt counts user time.
	CPUClockVirt = 1
	// CPUClockSched counts all time the task ran (here, as Prof).
	CPUClockSched = 2
)

// CPUClock is a CPU-time clock of one thread or one process.
type CPUClock struct {
	tg *ThreadGroup
	// task is the thread of a per-thread clock, nil for a process
	// clock.
	task  *Task
	which int
}

// CPUClockScope says whether a CPU clock counts one thread or a whole
// process.
type CPUClockScope int

const (
	// CPUClockProcess counts the time of every thread of a process.
	CPUClockProcess CPUClockScope = iota
	// CPUClockThread counts the time of one thread.
	CPUClockThread
)

// LookupCPUClock resolves a CPU clock for t (clock_getcpuclockid,
// pthread_getcpuclockid): pid 0 is t itself (its thread or its process);
// otherwise a per-thread clock must name a thread of t's process, and a
// process clock a process (a zombie too). It returns EINVAL as Linux does
// for anything else.
func (t *Task) LookupCPUClock(pid int32, scope CPUClockScope, which int) (CPUClock, error) {
	perThread := scope == CPUClockThread
	if which < CPUClockProf || which > CPUClockSched {
		return CPUClock{}, unix.EINVAL
	}
	if pid == 0 {
		c := CPUClock{tg: t.tg, which: which}
		if perThread {
			c.task = t
		}
		return c, nil
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if perThread {
		target := k.tasks[pid]
		if target == nil || target.tg != t.tg {
			return CPUClock{}, unix.EINVAL
		}
		return CPUClock{tg: t.tg, task: target, which: which}, nil
	}
	tg := k.groups[pid]
	if tg == nil {
		return CPUClock{}, unix.EINVAL
	}
	return CPUClock{tg: tg, which: which}, nil
}

// Now reads the clock.
func (c CPUClock) Now() time.Duration {
	k := c.tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return c.nowLocked()
}

// nowLocked reads the clock.
//
// Preconditions: Kernel.mu is held.
func (c CPUClock) nowLocked() time.Duration {
	var u Usage
	if c.task != nil {
		u = c.tg.threadUsageLocked(c.task)
	} else {
		u = c.tg.usageLocked()
	}
	if c.which == CPUClockVirt {
		return u.User
	}
	return u.Total()
}

// goneLocked reports whether the clock's thread or process has begun to
// exit, which ends its timers.
func (c CPUClock) goneLocked() bool {
	if c.tg.exiting {
		return true
	}
	if c.task != nil {
		_, live := c.tg.tasks[c.task]
		return !live || c.task.exiting
	}
	return false
}

// runnersLocked is how many threads could be advancing the clock at once.
func (c CPUClock) runnersLocked() time.Duration {
	if c.task != nil || len(c.tg.tasks) == 0 {
		return 1
	}
	return time.Duration(len(c.tg.tasks))
}

// maxCPUTime bounds deadlines so that sums can't overflow.
const maxCPUTime = time.Duration(1 << 62)

// CPU timer polling bounds: no poll comes sooner than minCPUPoll after
// the last, and a timer whose clock stands still backs off to at most
// maxIdleCPUPoll between polls.
const (
	minCPUPoll     = 500 * time.Microsecond
	maxIdleCPUPoll = 100 * time.Millisecond
)

// cpuTimer expires when a CPU clock reaches a deadline (see the file
// comment). All fields are protected by Kernel.mu.
type cpuTimer struct {
	clock CPUClock
	// expire is called with Kernel.mu held at each expiry, with the
	// number of further intervals that also elapsed (the overrun).
	expire func(overrun int64)
	// armed is set while the timer is running towards deadline (a
	// clock value); interval re-arms it after an expiry.
	armed    bool
	deadline time.Duration
	interval time.Duration
	// gen invalidates polls of a replaced setting.
	gen  uint64
	wall *time.Timer
	// lastSeen is the clock at the last poll; idle is the current
	// back-off while it stands still.
	lastSeen time.Duration
	idle     time.Duration
}

// setLocked arms the timer to expire after value more CPU time (value
// <= 0 disarms it; a tiny value expires at the next poll) and returns the
// previous remaining time and interval.
func (ct *cpuTimer) setLocked(value, interval time.Duration) (time.Duration, time.Duration) {
	oldValue, oldInterval := ct.remainingLocked(), ct.interval
	ct.stopLocked()
	ct.interval = min(interval, maxCPUTime)
	if value > 0 {
		now := ct.clock.nowLocked()
		ct.armed = true
		ct.deadline = now + min(value, maxCPUTime)
		ct.lastSeen, ct.idle = now, 0
		ct.scheduleLocked(now)
	}
	return oldValue, oldInterval
}

// stopLocked disarms the timer.
func (ct *cpuTimer) stopLocked() {
	ct.gen++
	ct.armed = false
	if ct.wall != nil {
		ct.wall.Stop()
		ct.wall = nil
	}
}

// remainingLocked returns the CPU time left before expiry, 0 if
// disarmed and 1ns if due but not yet expired.
func (ct *cpuTimer) remainingLocked() time.Duration {
	if !ct.armed {
		return 0
	}
	return max(ct.deadline-ct.clock.nowLocked(), time.Nanosecond)
}

// scheduleLocked sets the wall-clock poll for a clock now at now.
func (ct *cpuTimer) scheduleLocked(now time.Duration) {
	delay := (ct.deadline - now) / ct.clock.runnersLocked()
	if now == ct.lastSeen {
		ct.idle = min(max(2*ct.idle, minCPUPoll), maxIdleCPUPoll)
	} else {
		ct.idle = 0
	}
	ct.lastSeen = now
	delay = max(delay, ct.idle, minCPUPoll)
	gen := ct.gen
	k := ct.clock.tg.k
	ct.wall = time.AfterFunc(delay, func() { ct.poll(k, gen) })
}

// poll checks the clock from the wall-clock timer.
func (ct *cpuTimer) poll(k *Kernel, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ct.gen != gen || !ct.armed {
		return
	}
	ct.wall = nil
	if ct.clock.goneLocked() {
		ct.stopLocked()
		return
	}
	now := ct.clock.nowLocked()
	if now < ct.deadline {
		ct.scheduleLocked(now)
		return
	}
	var overrun int64
	if ct.interval > 0 {
		n := (now - ct.deadline) / ct.interval
		overrun = int64(n)
		ct.deadline = min(ct.deadline+(n+1)*ct.interval, maxCPUTime)
	} else {
		ct.armed = false
	}
	ct.expire(overrun)
	// expire may have re-set the timer itself.
	if ct.gen == gen && ct.armed && ct.wall == nil {
		ct.scheduleLocked(now)
	}
}

// groupTargetLocked returns the thread a process-directed signal to tg
// is addressed to, or nil if tg has no threads left.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) groupTargetLocked() *Task {
	if _, ok := tg.tasks[tg.leader]; ok && tg.leader != nil {
		return tg.leader
	}
	for m := range tg.tasks {
		return m
	}
	return nil
}

// sendKernelSignalLocked sends sig (SI_KERNEL) to tg.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) sendKernelSignalLocked(sig unix.Signal) {
	if target := tg.groupTargetLocked(); target != nil {
		info := linux.SignalInfo{Signo: int32(sig), Code: linux.SI_KERNEL}
		tg.k.sendLocked(target, &info, true)
	}
}

// itimerLocked returns ITIMER_PROF (prof) or ITIMER_VIRTUAL, set up.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) itimerLocked(prof bool) *cpuTimer {
	gc := tg.cpuState()
	ct, which, sig := &gc.virt, CPUClockVirt, unix.SIGVTALRM
	if prof {
		ct, which, sig = &gc.prof, CPUClockProf, unix.SIGPROF
	}
	if ct.expire == nil {
		ct.clock = CPUClock{tg: tg, which: which}
		ct.expire = func(int64) { tg.sendKernelSignalLocked(sig) }
	}
	return ct
}

// SetCPUItimer arms (value > 0) or disarms ITIMER_PROF (prof) or
// ITIMER_VIRTUAL and returns the previous remaining time and interval
// (setitimer(2)). ITIMER_VIRTUAL counts user time and sends SIGVTALRM;
// ITIMER_PROF counts user and system time and sends SIGPROF.
func (tg *ThreadGroup) SetCPUItimer(prof bool, value, interval time.Duration) (time.Duration, time.Duration) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	return tg.itimerLocked(prof).setLocked(value, interval)
}

// CPUItimer returns ITIMER_PROF's (prof) or ITIMER_VIRTUAL's remaining
// time and interval (getitimer(2)).
func (tg *ThreadGroup) CPUItimer(prof bool) (time.Duration, time.Duration) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	ct := tg.itimerLocked(prof)
	return ct.remainingLocked(), ct.interval
}

// checkCPULimitLocked (re)arms the RLIMIT_CPU watcher after the limit
// may have changed: SIGXCPU when the process's CPU time reaches the soft
// limit and every second after it, SIGKILL at the hard limit.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) checkCPULimitLocked() {
	gc := tg.cpuState()
	lim := tg.Limit(unix.RLIMIT_CPU)
	if gc.rlimit.armed && lim.Cur == gc.rlimitCur && lim.Max == gc.rlimitMax {
		return
	}
	gc.rlimitCur, gc.rlimitMax = lim.Cur, lim.Max
	ct := &gc.rlimit
	if ct.expire == nil {
		ct.clock = CPUClock{tg: tg, which: CPUClockProf}
		ct.expire = func(int64) { tg.cpuLimitExpiredLocked() }
	}
	next, ok := tg.nextCPULimitLocked(0)
	if !ok {
		ct.stopLocked()
		return
	}
	ct.setLocked(max(next-ct.clock.nowLocked(), time.Nanosecond), 0)
}

// nextCPULimitLocked returns the CPU time at which the RLIMIT_CPU
// watcher must next look, after the one at last (0 at first), and false
// if the limits are infinite.
func (tg *ThreadGroup) nextCPULimitLocked(last time.Duration) (time.Duration, bool) {
	gc := tg.cpuState()
	secs := func(v uint64) time.Duration {
		if v == 0 {
			v = 1 // Linux: an immediate expiry is not possible; one second
		}
		if v > uint64(maxCPUTime/time.Second) {
			return maxCPUTime
		}
		return time.Duration(v) * time.Second
	}
	var next time.Duration
	found := false
	if cur := gc.rlimitCur; cur != unix.RLIM_INFINITY {
		next = secs(cur)
		if last >= next {
			// Every second past the soft limit.
			next = last + time.Second
		}
		found = true
	}
	if hard := gc.rlimitMax; hard != unix.RLIM_INFINITY {
		if h := secs(hard); !found || h < next {
			next = h
		}
		found = true
	}
	return next, found
}

// cpuLimitExpiredLocked acts on RLIMIT_CPU and re-arms the watcher.
func (tg *ThreadGroup) cpuLimitExpiredLocked() {
	gc := tg.cpuState()
	ct := &gc.rlimit
	now := ct.clock.nowLocked()
	if hard := gc.rlimitMax; hard != unix.RLIM_INFINITY && now >= time.Duration(max(hard, 1))*time.Second {
		tg.sendKernelSignalLocked(unix.SIGKILL)
		return
	}
	if cur := gc.rlimitCur; cur != unix.RLIM_INFINITY && now >= time.Duration(max(cur, 1))*time.Second {
		tg.sendKernelSignalLocked(unix.SIGXCPU)
	}
	if next, ok := tg.nextCPULimitLocked(ct.deadline); ok {
		ct.setLocked(max(next-now, time.Nanosecond), 0)
	}
}
