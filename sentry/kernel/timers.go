package kernel

import (
	"time"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"golang.org/x/sys/unix"
)

// realTimer is ITIMER_REAL: it sends SIGALRM to the process. Protected by
// Kernel.mu.
//
// ThreadGroup's only timer field (thread_group.go) has this type, so it
// also carries the process's other per-process time state: CPU-time
// accounting with ITIMER_VIRTUAL, ITIMER_PROF and RLIMIT_CPU (cputime.go),
// and POSIX timers (posix_timers.go). Reach them through
// ThreadGroup.cpuState and ThreadGroup.posixTimersLocked.
type realTimer struct {
	timer    *time.Timer
	deadline time.Time
	interval time.Duration
	// gen invalidates expirations of a replaced timer.
	gen uint64

	// cpu is the process's CPU-time accounting and CPU timers.
	cpu groupCPU
	// posix are the process's POSIX timers (timer_create(2)).
	posix posixTimers
}

// SetRealTimer arms (value > 0) or disarms ITIMER_REAL and returns the
// previous remaining time and interval (alarm(2), setitimer(2)).
func (tg *ThreadGroup) SetRealTimer(value, interval time.Duration) (time.Duration, time.Duration) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	rt := &tg.realTimer
	var oldValue time.Duration
	if rt.timer != nil {
		rt.timer.Stop()
		rt.timer = nil
		oldValue = max(time.Until(rt.deadline), time.Microsecond)
	}
	oldInterval := rt.interval
	rt.gen++
	rt.interval = interval
	if value > 0 {
		tg.armRealTimerLocked(value)
	}
	return oldValue, oldInterval
}

// RealTimer returns ITIMER_REAL's remaining time and interval.
func (tg *ThreadGroup) RealTimer() (time.Duration, time.Duration) {
	tg.k.mu.Lock()
	defer tg.k.mu.Unlock()
	rt := &tg.realTimer
	if rt.timer == nil {
		return 0, rt.interval
	}
	return max(time.Until(rt.deadline), time.Microsecond), rt.interval
}

func (tg *ThreadGroup) armRealTimerLocked(d time.Duration) {
	rt := &tg.realTimer
	gen := rt.gen
	rt.deadline = time.Now().Add(d)
	rt.timer = time.AfterFunc(d, func() { tg.realTimerFired(gen) })
}

func (tg *ThreadGroup) realTimerFired(gen uint64) {
	k := tg.k
	k.mu.Lock()
	defer k.mu.Unlock()
	rt := &tg.realTimer
	if rt.gen != gen || tg.exiting || tg.leader == nil {
		return
	}
	rt.timer = nil
	// Linux sends ITIMER_REAL's SIGALRM as a kernel signal (SI_KERNEL);
	// SI_TIMER is for POSIX timers.
	info := linux.SignalInfo{Signo: int32(unix.SIGALRM), Code: linux.SI_KERNEL}
	k.sendLocked(tg.leader, &info, true)
	if rt.interval > 0 {
		tg.armRealTimerLocked(rt.interval)
	}
}

// Sleep blocks for d or until a signal arrives; it returns the time left
// and vfs.ErrInterrupted when interrupted.
func (t *Task) Sleep(d time.Duration) (time.Duration, error) {
	if d <= 0 {
		return 0, nil
	}
	deadline := time.Now().Add(d)
	done := make(chan struct{})
	timer := time.AfterFunc(d, func() { close(done) })
	defer timer.Stop()
	if err := t.Block(done); err != nil {
		return max(time.Until(deadline), 0), err
	}
	return 0, nil
}

// SleepUntil blocks until the wall or monotonic deadline.
func (t *Task) SleepUntil(deadline time.Time) error {
	_, err := t.Sleep(time.Until(deadline))
	return err
}
