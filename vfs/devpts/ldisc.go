package devpts

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// TermiosSize is the size of struct termios as TCGETS and TCSETS* use it
// on x86-64 (unix.Termios is the larger termios2).
const TermiosSize = 36

// Queue sizes.
const (
	// inputCap bounds the input queue (Linux: N_TTY_BUF_SIZE); a
	// canonical line holds at most inputCap-1 characters.
	inputCap = 4096
	// outputCap bounds the output queue, which the master reads.
	outputCap = 16 << 10
	// echoSlack is how far echoes may overfill the output queue before
	// they are dropped (echoing never blocks the writer of the master).
	echoSlack = 4096
)

// Termios is struct termios (Linux: include/uapi/asm-generic/termbits.h).
type Termios struct {
	Iflag, Oflag, Cflag, Lflag uint32
	Line                       uint8
	CC                         [19]uint8
}

// defaultTermios returns a new terminal's settings, as Linux's
// tty_std_termios: 38400 baud, 8 bits, canonical mode with echo and
// signals, CR to NL on input and NL to CR NL on output.
func defaultTermios() Termios {
	t := Termios{
		Iflag: unix.ICRNL | unix.IXON,
		Oflag: unix.OPOST | unix.ONLCR,
		Cflag: unix.B38400 | unix.CS8 | unix.CREAD | unix.HUPCL,
		Lflag: unix.ISIG | unix.ICANON | unix.ECHO | unix.ECHOE | unix.ECHOK |
			unix.ECHOCTL | unix.ECHOKE | unix.IEXTEN,
	}
	t.CC[unix.VINTR] = 0o3     // ^C
	t.CC[unix.VQUIT] = 0o34    // ^\
	t.CC[unix.VERASE] = 0o177  // ^?
	t.CC[unix.VKILL] = 0o25    // ^U
	t.CC[unix.VEOF] = 0o4      // ^D
	t.CC[unix.VMIN] = 1        //
	t.CC[unix.VSTART] = 0o21   // ^Q
	t.CC[unix.VSTOP] = 0o23    // ^S
	t.CC[unix.VSUSP] = 0o32    // ^Z
	t.CC[unix.VREPRINT] = 0o22 // ^R
	t.CC[unix.VDISCARD] = 0o17 // ^O
	t.CC[unix.VWERASE] = 0o27  // ^W
	t.CC[unix.VLNEXT] = 0o26   // ^V
	return t
}

// encode returns the wire form of t.
func (t *Termios) encode() [TermiosSize]byte {
	var b [TermiosSize]byte
	binary.LittleEndian.PutUint32(b[0:], t.Iflag)
	binary.LittleEndian.PutUint32(b[4:], t.Oflag)
	binary.LittleEndian.PutUint32(b[8:], t.Cflag)
	binary.LittleEndian.PutUint32(b[12:], t.Lflag)
	b[16] = t.Line
	copy(b[17:], t.CC[:])
	return b
}

// decodeTermios parses the wire form of a termios.
func decodeTermios(b []byte) Termios {
	t := Termios{
		Iflag: binary.LittleEndian.Uint32(b[0:]),
		Oflag: binary.LittleEndian.Uint32(b[4:]),
		Cflag: binary.LittleEndian.Uint32(b[8:]),
		Lflag: binary.LittleEndian.Uint32(b[12:]),
		Line:  b[16],
	}
	copy(t.CC[:], b[17:])
	return t
}

// ctrl reports whether c is the control character cc[i] (a zero entry,
// _POSIX_VDISABLE, matches nothing).
func (t *Termios) ctrl(i int, c byte) bool { return t.CC[i] != 0 && t.CC[i] == c }

func (t *Termios) canonical() bool { return t.Lflag&unix.ICANON != 0 }

// The line discipline. Every method below runs with pty.mu held.

// receiveLocked passes one byte written to the master through the input
// side of the line discipline. It returns the signal to send to the
// foreground group (0 for none) and whether the byte was consumed (false:
// the input queue is full, try again later).
//
// Preconditions: p.mu is held.
func (p *pty) receiveLocked(c byte) (sig unix.Signal, ok bool) {
	t := &p.termios
	if p.inLen >= inputCap {
		return 0, false
	}
	if t.Iflag&unix.ISTRIP != 0 {
		c &= 0x7f
	}
	if p.lnext {
		p.lnext = false
		p.addCharLocked(c)
		return 0, true
	}
	switch {
	case c == '\r' && t.Iflag&unix.IGNCR != 0:
		return 0, true
	case c == '\r' && t.Iflag&unix.ICRNL != 0:
		c = '\n'
	case c == '\n' && t.Iflag&unix.INLCR != 0:
		c = '\r'
	}
	if t.Lflag&unix.ISIG != 0 {
		switch {
		case t.ctrl(unix.VINTR, c):
			sig = unix.SIGINT
		case t.ctrl(unix.VQUIT, c):
			sig = unix.SIGQUIT
		case t.ctrl(unix.VSUSP, c):
			sig = unix.SIGTSTP
		}
		if sig != 0 {
			if t.Lflag&unix.NOFLSH == 0 {
				p.flushInputLocked()
				p.out = nil
			}
			p.echoLocked(c)
			return sig, true
		}
	}
	if t.Iflag&unix.IXON != 0 && (t.ctrl(unix.VSTART, c) || t.ctrl(unix.VSTOP, c)) {
		// Flow control characters are consumed; output is never
		// stopped (a documented gap, docs/kernel.md).
		return 0, true
	}
	if t.canonical() {
		iexten := t.Lflag&unix.IEXTEN != 0
		switch {
		case t.ctrl(unix.VERASE, c) || (iexten && t.ctrl(unix.VWERASE, c)):
			p.eraseLocked(t.ctrl(unix.VWERASE, c) && !t.ctrl(unix.VERASE, c))
			return 0, true
		case t.ctrl(unix.VKILL, c):
			p.killLineLocked(c)
			return 0, true
		case iexten && t.ctrl(unix.VLNEXT, c):
			p.lnext = true
			if t.Lflag&unix.ECHO != 0 && t.Lflag&unix.ECHOCTL != 0 {
				p.echoRawLocked("^\b")
			}
			return 0, true
		case t.ctrl(unix.VEOF, c):
			p.completeLineLocked()
			return 0, true
		case c == '\n' || t.ctrl(unix.VEOL, c) || (iexten && t.ctrl(unix.VEOL2, c)):
			p.line = append(p.line, c)
			if t.Lflag&unix.ECHO != 0 || (c == '\n' && t.Lflag&unix.ECHONL != 0) {
				p.echoLocked(c)
			}
			p.completeLineLocked()
			return 0, true
		}
	}
	p.addCharLocked(c)
	return 0, true
}

// addCharLocked adds an ordinary character to the line being edited
// (canonical mode: dropped if the line is full) or to the input queue, and
// echoes it.
//
// Preconditions: p.mu is held.
func (p *pty) addCharLocked(c byte) {
	if p.termios.canonical() {
		if len(p.line) >= inputCap-1 {
			return
		}
		p.line = append(p.line, c)
	} else {
		p.appendRawLocked([]byte{c})
	}
	if p.termios.Lflag&unix.ECHO != 0 {
		p.echoLocked(c)
	}
}

// appendRawLocked adds non-canonical input to the input queue.
//
// Preconditions: p.mu is held.
func (p *pty) appendRawLocked(b []byte) {
	if n := len(p.in); n > 0 && p.lastRaw {
		p.in[n-1] = append(p.in[n-1], b...)
	} else {
		p.in = append(p.in, append([]byte(nil), b...))
	}
	p.lastRaw = true
	p.inLen += len(b)
}

// completeLineLocked moves the edited line to the input queue as one
// line (an empty one, from VEOF, reads as end of file).
//
// Preconditions: p.mu is held.
func (p *pty) completeLineLocked() {
	p.in = append(p.in, p.line)
	p.inLen += len(p.line)
	p.lastRaw = false
	p.line = nil
}

// flushInputLocked discards the input queue and the edited line.
//
// Preconditions: p.mu is held.
func (p *pty) flushInputLocked() {
	p.in, p.inLen, p.line, p.lastRaw, p.lnext = nil, 0, nil, false, false
}

// echoWidth is the number of columns c was echoed as.
func (p *pty) echoWidth(c byte) int {
	if p.termios.Lflag&unix.ECHOCTL != 0 && isCtrl(c) {
		return 2
	}
	return 1
}

// isCtrl reports whether ECHOCTL echoes c as ^X.
func isCtrl(c byte) bool { return (c < 0x20 && c != '\t' && c != '\n') || c == 0x7f }

// eraseLocked implements VERASE (word: VWERASE).
//
// Preconditions: p.mu is held.
func (p *pty) eraseLocked(word bool) {
	seenWord := false
	for len(p.line) > 0 {
		c := p.line[len(p.line)-1]
		if word {
			space := c == ' ' || c == '\t'
			if space && seenWord {
				return
			}
			seenWord = seenWord || !space
		}
		p.line = p.line[:len(p.line)-1]
		if p.termios.Lflag&(unix.ECHO|unix.ECHOE) == unix.ECHO|unix.ECHOE {
			for i := 0; i < p.echoWidth(c); i++ {
				p.echoRawLocked("\b \b")
			}
		} else if p.termios.Lflag&unix.ECHO != 0 {
			p.echoLocked(p.termios.CC[unix.VERASE])
		}
		if !word {
			return
		}
	}
}

// killLineLocked implements VKILL (c).
//
// Preconditions: p.mu is held.
func (p *pty) killLineLocked(c byte) {
	l := p.termios.Lflag
	if l&unix.ECHO == 0 {
		p.line = nil
		return
	}
	if l&unix.ECHOKE != 0 && l&unix.ECHOE != 0 {
		for len(p.line) > 0 {
			p.eraseLocked(false)
		}
		return
	}
	p.line = nil
	p.echoLocked(c)
	if l&unix.ECHOK != 0 {
		p.echoLocked('\n')
	}
}

// echoLocked echoes c (as ^X for a control character under ECHOCTL).
//
// Preconditions: p.mu is held.
func (p *pty) echoLocked(c byte) {
	if p.termios.Lflag&unix.ECHOCTL != 0 && isCtrl(c) {
		p.echoRawLocked(string([]byte{'^', c ^ 0x40}))
		return
	}
	p.echoRawLocked(string([]byte{c}))
}

// echoRawLocked adds s to the output queue through output processing,
// unless the queue is far over its capacity.
//
// Preconditions: p.mu is held.
func (p *pty) echoRawLocked(s string) {
	if len(p.out) >= outputCap+echoSlack {
		return
	}
	for i := 0; i < len(s); i++ {
		p.outputLocked(s[i])
	}
	p.echoed = true
}

// outputLocked adds c to the output queue through output processing
// (OPOST: ONLCR, OCRNL, ONLRET, ONOCR).
//
// Preconditions: p.mu is held.
func (p *pty) outputLocked(c byte) {
	o := p.termios.Oflag
	if o&unix.OPOST == 0 {
		p.out = append(p.out, c)
		return
	}
	switch {
	case c == '\n' && o&unix.ONLCR != 0:
		p.out = append(p.out, '\r', '\n')
		p.column = 0
		return
	case c == '\r' && o&unix.ONOCR != 0 && p.column == 0:
		return
	case c == '\r' && o&unix.OCRNL != 0:
		c = '\n'
	}
	switch {
	case c == '\n' || c == '\r':
		if c == '\r' || o&unix.ONLRET != 0 {
			p.column = 0
		}
	case c == '\b':
		if p.column > 0 {
			p.column--
		}
	case c >= 0x20 && c != 0x7f:
		p.column++
	}
	p.out = append(p.out, c)
}

// setTermiosLocked changes the settings: leaving canonical mode makes the
// line being edited readable.
//
// Preconditions: p.mu is held.
func (p *pty) setTermiosLocked(t Termios) {
	if p.termios.canonical() && !t.canonical() && len(p.line) > 0 {
		line := p.line
		p.line = nil
		p.appendRawLocked(line)
	}
	p.termios = t
}
