package kernel

// Personality flags (Linux: include/uapi/linux/personality.h).
const (
	// PerLinux is the default persona.
	PerLinux = 0
	// AddrNoRandomize turns address-space randomisation off.
	AddrNoRandomize = 0x0040000
	// ReadImpliesExec makes PROT_READ mappings executable.
	ReadImpliesExec = 0x0400000
	// mmapPageZero and addrCompatLayout are only cleared here.
	mmapPageZero     = 0x0100000
	addrCompatLayout = 0x0200000
	// perClearOnSetID are the flags a set-ID execve clears.
	perClearOnSetID = ReadImpliesExec | AddrNoRandomize | addrCompatLayout | mmapPageZero
)

// Personality returns the task's personality(2) value.
func (t *Task) Personality() uint32 { return t.personality.Load() }

// SetPersonality implements personality(2)'s update: as Linux since 4.1,
// any value is kept as given (unknown personas included) and reported
// back by the next call. It returns the old value.
func (t *Task) SetPersonality(p uint32) uint32 { return t.personality.Swap(p) }

// personalityOnExec applies execve's rules: a 64-bit program never keeps
// READ_IMPLIES_EXEC (Linux: set_personality_64bit), and a set-ID program
// loses the flags that would weaken it (PER_CLEAR_ON_SETID).
func (t *Task) personalityOnExec(setID bool) {
	p := t.personality.Load() &^ ReadImpliesExec
	if setID {
		p &^= perClearOnSetID
	}
	t.personality.Store(p)
}
