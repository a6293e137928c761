package devpts

import (
	"testing"

	"golang.org/x/sys/unix"
)

// feed passes in through the line discipline of a new pair, with mod
// applied to its settings first, and returns what the slave can read (the
// lines joined) and what the master can read (the echo).
func feed(t *testing.T, mod func(*Termios), in string) (slave, master string, sigs []unix.Signal) {
	t.Helper()
	p := newPty(nil)
	p.mu.Lock()
	defer p.mu.Unlock()
	if mod != nil {
		tt := p.termios
		mod(&tt)
		p.setTermiosLocked(tt)
	}
	for i := 0; i < len(in); i++ {
		sig, ok := p.receiveLocked(in[i])
		if !ok {
			t.Fatalf("byte %d of %q refused", i, in)
		}
		if sig != 0 {
			sigs = append(sigs, sig)
		}
	}
	buf := make([]byte, 8192)
	n := p.readRawLocked(buf)
	return string(buf[:n]), string(p.out), sigs
}

func raw(t *Termios) {
	t.Iflag = 0
	t.Oflag = 0
	t.Lflag = 0
}

func TestLineDiscipline(t *testing.T) {
	for _, tc := range []struct {
		name                string
		mod                 func(*Termios)
		in                  string
		wantSlave, wantEcho string
		wantSigs            []unix.Signal
	}{
		{name: "line", in: "ab\n", wantSlave: "ab\n", wantEcho: "ab\r\n"},
		{name: "ICRNL", in: "ab\r", wantSlave: "ab\n", wantEcho: "ab\r\n"},
		{name: "partial line unreadable", in: "ab", wantSlave: "", wantEcho: "ab"},
		{name: "VERASE", in: "abc\x7f\n", wantSlave: "ab\n", wantEcho: "abc\b \b\r\n"},
		{name: "VERASE of control char", in: "a\x01\x7f\n", wantSlave: "a\n", wantEcho: "a^A\b \b\b \b\r\n"},
		{name: "VWERASE", in: "one two\x17x\n", wantSlave: "one x\n", wantEcho: "one two\b \b\b \b\b \bx\r\n"},
		{name: "VKILL", in: "ab\x15c\n", wantSlave: "c\n", wantEcho: "ab\b \b\b \bc\r\n"},
		{name: "VEOF", in: "ab\x04", wantSlave: "ab", wantEcho: "ab"},
		{name: "VLNEXT", in: "\x16\x03\n", wantSlave: "\x03\n", wantEcho: "^\b^C\r\n"},
		{name: "VINTR", in: "ab\x03", wantSlave: "", wantEcho: "^C", wantSigs: []unix.Signal{unix.SIGINT}},
		{name: "VQUIT VSUSP flushes the earlier echo", in: "\x1c\x1a", wantEcho: "^Z", wantSigs: []unix.Signal{unix.SIGQUIT, unix.SIGTSTP}},
		{name: "no ECHO", mod: func(t *Termios) { t.Lflag &^= unix.ECHO }, in: "pw\n", wantSlave: "pw\n"},
		{name: "raw", mod: raw, in: "a\r\x03\x7f", wantSlave: "a\r\x03\x7f"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			slave, echo, sigs := feed(t, tc.mod, tc.in)
			if slave != tc.wantSlave || echo != tc.wantEcho {
				t.Errorf("input %q: slave reads %q, echo %q; want %q, %q", tc.in, slave, echo, tc.wantSlave, tc.wantEcho)
			}
			if len(sigs) != len(tc.wantSigs) {
				t.Fatalf("signals %v, want %v", sigs, tc.wantSigs)
			}
			for i := range sigs {
				if sigs[i] != tc.wantSigs[i] {
					t.Errorf("signals %v, want %v", sigs, tc.wantSigs)
				}
			}
		})
	}
}

func TestOutputProcessing(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Termios)
		in   string
		want string
	}{
		{name: "ONLCR", in: "a\nb\n", want: "a\r\nb\r\n"},
		{name: "no OPOST", mod: raw, in: "a\n", want: "a\n"},
		{name: "OCRNL", mod: func(t *Termios) { t.Oflag = unix.OPOST | unix.OCRNL }, in: "a\r", want: "a\n"},
	} {
		p := newPty(nil)
		if tc.mod != nil {
			tc.mod(&p.termios)
		}
		for i := 0; i < len(tc.in); i++ {
			p.outputLocked(tc.in[i])
		}
		if got := string(p.out); got != tc.want {
			t.Errorf("%s: output of %q is %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestTermiosRoundTrip(t *testing.T) {
	want := defaultTermios()
	b := want.encode()
	if got := decodeTermios(b[:]); got != want {
		t.Errorf("decode(encode(%+v)) = %+v", want, got)
	}
	if b[17+unix.VINTR] != 3 || b[17+unix.VEOF] != 4 {
		t.Errorf("c_cc at the wrong offsets: %v", b)
	}
}

func TestParseIndex(t *testing.T) {
	for name, want := range map[string]bool{"0": true, "12": true, "012": false, "x": false, "-1": false, "99999": false, "ptmx": false} {
		if _, ok := parseIndex(name); ok != want {
			t.Errorf("parseIndex(%q) ok = %v, want %v", name, ok, want)
		}
	}
}
