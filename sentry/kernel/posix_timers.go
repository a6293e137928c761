package kernel

// POSIX per-process timers: timer_create(2) and friends.
//
// A timer runs on a wall clock (a Go timer; REALTIME, MONOTONIC and
// BOOTTIME all advance together in the Sentry, so only absolute deadlines
// differ, and the syscall layer converts those) or on a CPU clock (a
// cpuTimer). At expiry it queues its signal, unless the signal it queued
// last is still pending: then the expiry is an overrun, counted in that
// queued siginfo (si_overrun). Linux keeps one preallocated sigqueue per
// timer to the same effect. timer_getoverrun reports the overrun of the
// last signal delivered, found lazily: once the queued siginfo has left
// its queue, it was delivered (or discarded, as an ignored signal is).
//
// Timers belong to the process: they die when it exits (an expiry of a
// process that has begun to exit does nothing) and on execve, which
// replaces the address space: a timer table created in another address
// space than the process's current one is discarded when next used.
//
// All state is protected by Kernel.mu.

import (
	"math"
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// sigevent notification kinds. Linux: include/uapi/asm-generic/siginfo.h.
const (
	SIGEV_SIGNAL    = 0
	SIGEV_NONE      = 1
	SIGEV_THREAD    = 2
	SIGEV_THREAD_ID = 4
)

// maxPosixTimers bounds the timers of one process, against exhaustion of
// the Sentry's memory. Linux is bounded by memory only.
const maxPosixTimers = 1 << 15

// minWallTimerPeriod bounds how often a periodic timer's Go timer runs;
// expirations that fall in between are counted as overruns.
const minWallTimerPeriod = 100 * time.Microsecond

// TimerEvent is a timer's struct sigevent, validated by CreateTimer.
type TimerEvent struct {
	// Notify is SIGEV_SIGNAL, SIGEV_NONE, SIGEV_THREAD (the kernel treats
	// it as SIGEV_SIGNAL) or SIGEV_SIGNAL|SIGEV_THREAD_ID.
	Notify int32
	// Signo is the signal sent, unless Notify is SIGEV_NONE.
	Signo int32
	// Value is sigev_value, reported as si_value.
	Value uint64
	// TID is the thread signalled with SIGEV_THREAD_ID.
	TID int32
	// ValueIsID makes si_value the timer ID (a NULL sevp).
	ValueIsID bool
}

// TimerOptions are timer_create(2)'s arguments.
type TimerOptions struct {
	// CPU is the CPU clock of a CPU-time timer; nil for a wall clock.
	CPU *CPUClock
	// Now reads the timer's clock, to convert absolute deadlines.
	Now func() time.Duration
	// Event says how the timer notifies.
	Event TimerEvent
}

// TimerSpec is a timer setting (struct itimerspec).
type TimerSpec struct {
	// Value is the time to the first expiry, or with Abs the clock
	// value of it; zero disarms the timer.
	Value time.Duration
	// Interval is the period after the first expiry; zero for one shot.
	Interval time.Duration
	// Abs says Value is absolute (TIMER_ABSTIME).
	Abs bool
}

// posixTimers is a process's timer table.
type posixTimers struct {
	// mm is the address space the timers were created in.
	mm     *mm.MemoryManager
	timers map[int32]*posixTimer
	nextID int32
}

// posixTimer is one timer. Linux: struct k_itimer.
type posixTimer struct {
	id    int32
	tg    *ThreadGroup
	ev    TimerEvent
	nowFn func() time.Duration
	// cpu runs a CPU-clock timer; nil for wall clocks.
	cpu *cpuTimer
	// Wall-clock state: the Go timer, the next expiry and gen, which
	// invalidates expiries of a replaced setting.
	wall     *time.Timer
	armed    bool
	deadline time.Time
	interval time.Duration
	gen      uint64
	// queued is set while the last signal sent may still be pending;
	// overrun counts the expiries folded into it; overrunLast is the
	// overrun of the last signal delivered (timer_getoverrun).
	queued      bool
	overrun     int64
	overrunLast int32
	deleted     bool
}

// posixTimersLocked returns tg's timer table, emptied first if the
// process has exec'd or exited since the timers were created.
//
// Preconditions: Kernel.mu is held.
func (tg *ThreadGroup) posixTimersLocked() *posixTimers {
	pt := &tg.realTimer.posix
	if len(pt.timers) == 0 {
		return pt
	}
	var cur *mm.MemoryManager
	for m := range tg.tasks {
		cur = m.mm // shared by every thread of a process
		break
	}
	if cur != pt.mm || tg.exiting {
		for _, timer := range pt.timers {
			timer.stopLocked()
			timer.deleted = true
		}
		*pt = posixTimers{nextID: pt.nextID}
	}
	return pt
}

// CreateTimer implements timer_create(2) and returns the timer ID. The
// caller has decoded the clock; CreateTimer checks the event (EINVAL).
func (t *Task) CreateTimer(opts TimerOptions) (int32, error) {
	ev := opts.Event
	switch ev.Notify {
	case SIGEV_NONE:
	case SIGEV_SIGNAL, SIGEV_THREAD, SIGEV_SIGNAL | SIGEV_THREAD_ID:
		if ev.Signo < 1 || ev.Signo > linux.NumSignals {
			return 0, unix.EINVAL
		}
	default:
		return 0, unix.EINVAL
	}
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if ev.Notify == SIGEV_SIGNAL|SIGEV_THREAD_ID {
		if target := k.tasks[ev.TID]; target == nil || target.tg != t.tg {
			return 0, unix.EINVAL
		}
	}
	pt := t.tg.posixTimersLocked()
	if len(pt.timers) >= maxPosixTimers {
		return 0, unix.EAGAIN
	}
	if pt.timers == nil {
		pt.timers = map[int32]*posixTimer{}
		pt.mm = t.mm
	}
	id := pt.nextID
	for {
		if _, used := pt.timers[id]; !used {
			break
		}
		id++
		if id < 0 {
			id = 0
		}
	}
	pt.nextID = id + 1
	if pt.nextID == math.MaxInt32 {
		pt.nextID = 0
	}
	if ev.ValueIsID {
		ev.Value = uint64(id)
	}
	timer := &posixTimer{id: id, tg: t.tg, ev: ev, nowFn: opts.Now}
	if opts.CPU != nil {
		timer.cpu = &cpuTimer{clock: *opts.CPU, expire: timer.expireLocked}
	}
	pt.timers[id] = timer
	return id, nil
}

// timerLocked finds timer id of t's process (EINVAL if none).
//
// Preconditions: Kernel.mu is held.
func (t *Task) timerLocked(id int32) (*posixTimer, error) {
	timer := t.tg.posixTimersLocked().timers[id]
	if timer == nil {
		return nil, unix.EINVAL
	}
	return timer, nil
}

// SetTimer implements timer_settime(2): it returns the previous setting
// (remaining time and interval).
func (t *Task) SetTimer(id int32, spec TimerSpec) (TimerSpec, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	timer, err := t.timerLocked(id)
	if err != nil {
		return TimerSpec{}, err
	}
	old := timer.getLocked()
	value := spec.Value
	if spec.Abs && value != 0 {
		var now time.Duration
		if timer.cpu != nil {
			now = timer.cpu.clock.nowLocked()
		} else if timer.nowFn != nil {
			now = timer.nowFn()
		}
		// A deadline already passed expires at once.
		value = max(value-now, time.Nanosecond)
	}
	timer.setLocked(value, spec.Interval)
	return old, nil
}

// GetTimer implements timer_gettime(2).
func (t *Task) GetTimer(id int32) (TimerSpec, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	timer, err := t.timerLocked(id)
	if err != nil {
		return TimerSpec{}, err
	}
	return timer.getLocked(), nil
}

// TimerOverrun implements timer_getoverrun(2).
func (t *Task) TimerOverrun(id int32) (int32, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	timer, err := t.timerLocked(id)
	if err != nil {
		return 0, err
	}
	timer.settleLocked()
	return timer.overrunLast, nil
}

// DeleteTimer implements timer_delete(2).
func (t *Task) DeleteTimer(id int32) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	timer, err := t.timerLocked(id)
	if err != nil {
		return err
	}
	timer.stopLocked()
	timer.deleted = true
	delete(t.tg.posixTimersLocked().timers, id)
	return nil
}

// getLocked returns the timer's remaining time and interval.
func (pt *posixTimer) getLocked() TimerSpec {
	if pt.cpu != nil {
		return TimerSpec{Value: pt.cpu.remainingLocked(), Interval: pt.cpu.interval}
	}
	s := TimerSpec{Interval: pt.interval}
	if pt.armed {
		s.Value = time.Until(pt.deadline)
		if s.Value <= 0 && pt.ev.Notify != SIGEV_NONE {
			s.Value = time.Nanosecond // due, not yet expired
		}
		s.Value = max(s.Value, 0)
	}
	return s
}

// stopLocked disarms the timer.
func (pt *posixTimer) stopLocked() {
	if pt.cpu != nil {
		pt.cpu.stopLocked()
		return
	}
	pt.gen++
	pt.armed = false
	if pt.wall != nil {
		pt.wall.Stop()
		pt.wall = nil
	}
}

// setLocked arms the timer to expire after value (0 disarms it), then
// every interval.
func (pt *posixTimer) setLocked(value, interval time.Duration) {
	const maxDuration = time.Duration(1 << 62)
	value, interval = min(value, maxDuration), min(interval, maxDuration)
	if pt.cpu != nil {
		pt.cpu.setLocked(value, interval)
		return
	}
	pt.stopLocked()
	pt.interval = interval
	if value <= 0 {
		return
	}
	pt.armed = true
	pt.deadline = time.Now().Add(value)
	pt.startWallLocked(value)
}

func (pt *posixTimer) startWallLocked(d time.Duration) {
	gen := pt.gen
	k := pt.tg.k
	pt.wall = time.AfterFunc(d, func() { pt.wallFired(k, gen) })
}

// wallFired is a wall-clock timer's expiry.
func (pt *posixTimer) wallFired(k *Kernel, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if pt.gen != gen || !pt.armed || pt.deleted {
		return
	}
	pt.wall = nil
	var overrun int64
	if pt.interval > 0 {
		if late := time.Since(pt.deadline); late > 0 {
			overrun = int64(late / pt.interval)
		}
		pt.deadline = pt.deadline.Add(time.Duration(overrun+1) * pt.interval)
		pt.startWallLocked(max(time.Until(pt.deadline), minWallTimerPeriod))
	} else {
		pt.armed = false
	}
	pt.expireLocked(overrun)
}

// queuedInfoLocked returns the timer's signal if it is still pending.
func (pt *posixTimer) queuedInfoLocked() *linux.SignalInfo {
	var q *signalQueue
	if pt.ev.Notify&SIGEV_THREAD_ID != 0 {
		target := pt.tg.k.tasks[pt.ev.TID]
		if target == nil || target.tg != pt.tg {
			return nil
		}
		q = &target.pending
	} else {
		q = &pt.tg.pending
	}
	infos := q.infos[pt.ev.Signo]
	for i := range infos {
		if infos[i].Code == linux.SI_TIMER && infos[i].TimerID() == pt.id {
			return &infos[i]
		}
	}
	return nil
}

// settleLocked notices that the last signal was delivered.
func (pt *posixTimer) settleLocked() {
	if pt.queued && pt.queuedInfoLocked() == nil {
		pt.queued = false
		pt.overrunLast = clampOverrun(pt.overrun)
		pt.overrun = 0
	}
}

// clampOverrun caps an overrun count at DELAYTIMER_MAX (INT_MAX).
func clampOverrun(n int64) int32 {
	return int32(min(n, math.MaxInt32))
}

// expireLocked notifies one expiry, plus overrun missed ones.
func (pt *posixTimer) expireLocked(overrun int64) {
	tg := pt.tg
	if tg.exiting || pt.deleted || pt.ev.Notify == SIGEV_NONE {
		return
	}
	if tg.posixTimersLocked().timers[pt.id] != pt {
		return // discarded by execve
	}
	pt.settleLocked()
	if pt.queued {
		if info := pt.queuedInfoLocked(); info != nil {
			pt.overrun = min(pt.overrun+1+overrun, math.MaxInt32)
			info.SetOverrun(clampOverrun(pt.overrun))
			return
		}
	}
	var target *Task
	group := pt.ev.Notify&SIGEV_THREAD_ID == 0
	if group {
		target = tg.groupTargetLocked()
	} else if m := tg.k.tasks[pt.ev.TID]; m != nil && m.tg == tg {
		target = m
	}
	if target == nil {
		return
	}
	pt.overrun = min(overrun, math.MaxInt32)
	info := linux.SignalInfo{Signo: pt.ev.Signo, Code: linux.SI_TIMER}
	info.SetTimerID(pt.id)
	info.SetOverrun(clampOverrun(pt.overrun))
	info.SetValue(pt.ev.Value)
	tg.k.sendLocked(target, &info, group)
	pt.queued = true
}
