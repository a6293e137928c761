package kernel

// I/O priorities (ioprio_set(2), ioprio_get(2)). The Sentry schedules no
// block I/O, so a priority only is recorded, inherited and reported back;
// what Linux keeps in a task's io_context is kept here per task.

// ioprioClassShift places the class above the priority's data bits.
const ioprioClassShift = 13

// ioContext is a task's I/O context. Linux: struct io_context.
type ioContext struct {
	// prio is the priority set (class and data); 0 is none.
	prio int32
}

// IOPriority returns t's I/O priority: what was last set for it or
// inherited, 0 (no class) if nothing was.
func (t *Task) IOPriority() int32 {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	return t.io.prio
}

// SetIOPriority records prio, already validated, as t's I/O priority.
func (t *Task) SetIOPriority(prio int32) {
	t.k.mu.Lock()
	defer t.k.mu.Unlock()
	t.io.prio = prio
}

// inheritIOPriorityLocked gives child t's I/O priority if it has a class,
// as Linux's copy_io does (CLONE_IO, sharing it, is not supported).
//
// Preconditions: Kernel.mu is held.
func (t *Task) inheritIOPriorityLocked(child *Task) {
	if t.io.prio>>ioprioClassShift&7 != 0 {
		child.io = t.io
	}
}
