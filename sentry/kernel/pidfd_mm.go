package kernel

import (
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// ProcessMMTarget returns the address space of process tg for
// process_madvise(2) (Linux's mm_access with PTRACE_MODE_READ_FSCREDS):
// ESRCH if no task of tg is left (a zombie), EACCES if t may not access
// it. The caller gets no user reference, as with ProcMemTarget.
func (t *Task) ProcessMMTarget(tg *ThreadGroup) (*mm.MemoryManager, error) {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	for m := range tg.tasks {
		if m.exiting || m.mm == nil {
			continue
		}
		if m.mm != t.mm && !t.mayAttachFSCredsLocked(m) {
			return nil, unix.EACCES
		}
		return m.mm, nil
	}
	return nil, unix.ESRCH
}

// CheckMemoryRelease makes process_mrelease(2)'s checks on process tg:
// ESRCH if no task of tg holds an address space any more, EINVAL if tg is
// not exiting. An exiting process's memory is freed as its tasks finish;
// there is nothing to release early, so success does nothing.
func (t *Task) CheckMemoryRelease(tg *ThreadGroup) error {
	k := t.k
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(tg.tasks) == 0 {
		return unix.ESRCH
	}
	if !tg.exiting {
		return unix.EINVAL
	}
	return nil
}
