package ptrace

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// stubInsn is one decoded instruction of stubCode.
type stubInsn struct {
	off, len int
	// op is "syscall", "int3", "test", "jnz", "jmp" or "mov".
	op string
	// target is where a jnz or jmp goes (an offset in the code).
	target int
}

// decodeStub decodes code, which may hold only the instruction forms the
// stub uses: syscall, int3, test rax,rax, jnz rel8, jmp rel8,
// mov r32,imm32 and mov r32,r32.
func decodeStub(code []byte) ([]stubInsn, error) {
	var out []stubInsn
	for off := 0; off < len(code); {
		b := code[off:]
		var in stubInsn
		switch {
		case len(b) >= 2 && b[0] == 0x0f && b[1] == 0x05:
			in = stubInsn{op: "syscall", len: 2}
		case b[0] == 0xcc:
			in = stubInsn{op: "int3", len: 1}
		case len(b) >= 3 && b[0] == 0x48 && b[1] == 0x85 && b[2] == 0xc0:
			in = stubInsn{op: "test", len: 3}
		case len(b) >= 2 && (b[0] == 0x75 || b[0] == 0xeb):
			in = stubInsn{op: "jnz", len: 2, target: off + 2 + int(int8(b[1]))}
			if b[0] == 0xeb {
				in.op = "jmp"
			}
		case len(b) >= 5 && b[0] >= 0xb8 && b[0] <= 0xbf:
			in = stubInsn{op: "mov", len: 5}
		case len(b) >= 2 && b[0] == 0x89 && b[1]&0xc0 == 0xc0:
			in = stubInsn{op: "mov", len: 2}
		default:
			return out, fmt.Errorf("+%#x: cannot decode % x", off, b[:min(len(b), 5)])
		}
		in.off = off
		out = append(out, in)
		off += in.len
	}
	return out, nil
}

// stubLabel is a "// +0xNN name:" line of stubCode's source.
type stubLabel struct {
	off  int
	name string
}

// stubSource is what stubCode's source says about its bytes.
type stubSource struct {
	// code is the bytes as the source spells them.
	code []byte
	// labels are the offset comments, in order.
	labels []stubLabel
	// jumps maps the offset of each line holding a jump to its comment.
	jumps map[int]string
	// lineOff are the true offsets at which the labels stand.
	lineOff []int
}

var (
	stubLabelRE = regexp.MustCompile(`^// \+0x([0-9a-f]+)(?: (.*?):?)?$`)
	stubByteRE  = regexp.MustCompile(`0x[0-9a-f]{2}\b`)
	stubJumpRE  = regexp.MustCompile(`^(jnz|jmp) (\S+)(?: \(to (\w+), \+0x([0-9a-f]+)\))?$`)
)

// parseStubSource reads the stubCode literal of stub.go.
func parseStubSource(t *testing.T) stubSource {
	t.Helper()
	src, err := os.ReadFile("stub.go")
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := strings.Cut(string(src), "\nvar stubCode = []byte{\n")
	if !ok {
		t.Fatal("stub.go: no stubCode literal")
	}
	body, _, ok = strings.Cut(body, "\n}\n")
	if !ok {
		t.Fatal("stub.go: stubCode literal does not end")
	}
	s := stubSource{jumps: map[int]string{}}
	for _, line := range strings.Split(body, "\n") {
		line = strings.TrimSpace(line)
		if m := stubLabelRE.FindStringSubmatch(line); m != nil {
			off, _ := strconv.ParseUint(m[1], 16, 32)
			s.labels = append(s.labels, stubLabel{off: int(off), name: m[2]})
			s.lineOff = append(s.lineOff, len(s.code))
			continue
		}
		codePart, comment, _ := strings.Cut(line, "//")
		at := len(s.code)
		for _, h := range stubByteRE.FindAllString(codePart, -1) {
			v, _ := strconv.ParseUint(h[2:], 16, 8)
			s.code = append(s.code, byte(v))
		}
		comment = strings.TrimSpace(comment)
		if strings.HasPrefix(comment, "jnz ") || strings.HasPrefix(comment, "jmp ") {
			s.jumps[at] = comment
		}
	}
	return s
}

// stubEntries are the offsets, in the code, where the tracer points rip.
type stubEntries struct{ syscall, fork, clone int }

// checkStub checks code against what its source comments say: every
// label stands where its comment says, every jump lands on the label its
// comment names, every entry point is a syscall instruction, and the code
// lies between the ELF headers and the data area.
func checkStub(s stubSource, code []byte, e stubEntries, entry, fprog, filter int) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	insns, err := decodeStub(code)
	if err != nil {
		fail("%v", err)
	}
	at := map[int]stubInsn{}
	for _, in := range insns {
		at[in.off] = in
	}
	starts := func(off int) bool { _, ok := at[off]; return ok || off == len(code) }

	byName := map[string][]int{}
	for i, l := range s.labels {
		if l.off != s.lineOff[i] {
			fail("comment +%#x %s stands at +%#x", l.off, l.name, s.lineOff[i])
		}
		if !starts(l.off) {
			fail("label +%#x %s is inside an instruction", l.off, l.name)
		}
		if l.name != "" {
			byName[l.name] = append(byName[l.name], l.off)
		}
	}
	labelAt := func(off int) (string, bool) {
		for _, l := range s.labels {
			if l.off == off {
				return l.name, true
			}
		}
		return "", false
	}

	nJumps := 0
	for _, in := range insns {
		if in.op != "jnz" && in.op != "jmp" {
			continue
		}
		nJumps++
		comment, ok := s.jumps[in.off]
		if !ok {
			fail("+%#x: %s with no comment naming its target", in.off, in.op)
			continue
		}
		m := stubJumpRE.FindStringSubmatch(comment)
		if m == nil || m[1] != in.op {
			fail("+%#x: %s commented %q", in.off, in.op, comment)
			continue
		}
		var want int
		var name string
		if m[4] != "" {
			// "jnz +D (to NAME, +0xT)": D is the displacement, T the
			// label's offset.
			d, err := strconv.ParseInt(strings.TrimPrefix(m[2], "+"), 0, 32)
			if err != nil || int(d) != in.target-(in.off+in.len) {
				fail("+%#x: %q: displacement is %+d", in.off, comment, in.target-(in.off+in.len))
			}
			t, _ := strconv.ParseUint(m[4], 16, 32)
			want, name = int(t), m[3]
			if n, ok := labelAt(want); !ok || n != name {
				fail("+%#x: %q: no label %s at +%#x", in.off, comment, name, want)
			}
		} else {
			// "jmp NAME".
			name = m[2]
			if len(byName[name]) != 1 {
				fail("+%#x: %q: %d labels called %s", in.off, comment, len(byName[name]), name)
				continue
			}
			want = byName[name][0]
		}
		if in.target != want {
			fail("+%#x: %s lands at +%#x, not at %s (+%#x)", in.off, in.op, in.target, name, want)
		}
		if _, ok := at[in.target]; !ok {
			fail("+%#x: %s lands at +%#x, not on an instruction", in.off, in.op, in.target)
		}
	}
	if nJumps != len(s.jumps) {
		fail("%d jumps decoded, %d commented", nJumps, len(s.jumps))
	}

	for _, ep := range []struct {
		name string
		off  int
	}{{"stubSyscall", e.syscall}, {"stubForkSyscall", e.fork}, {"stubCloneThread", e.clone}} {
		if in, ok := at[ep.off]; !ok || in.op != "syscall" {
			fail("%s (+%#x) is not a syscall instruction", ep.name, ep.off)
		}
	}
	if in, ok := at[e.syscall+2]; !ok || in.op != "int3" {
		fail("stubSyscall's syscall is not followed by int3")
	}

	const elfHeaders = 64 + 56 // Elf64_Ehdr and one Elf64_Phdr
	if entry < elfHeaders {
		fail("code at %#x overlaps the ELF headers (%#x bytes)", entry, elfHeaders)
	}
	if entry+len(code) > fprog {
		fail("code [%#x, %#x) overlaps the data area at %#x", entry, entry+len(code), fprog)
	}
	if filter < fprog+16 {
		fail("filter at %#x overlaps the sock_fprog at %#x", filter, fprog)
	}
	return errs
}

func realStubEntries() stubEntries {
	return stubEntries{syscall: stubSyscall - stubEntry, fork: stubForkSyscall - stubEntry, clone: stubCloneThread - stubEntry}
}

func TestStubCodeMatchesItsComments(t *testing.T) {
	s := parseStubSource(t)
	if string(s.code) != string(stubCode) {
		t.Fatalf("parsed % x\nstubCode % x", s.code, stubCode)
	}
	if len(s.labels) == 0 || len(s.jumps) != 4 {
		t.Fatalf("parsed %d labels and %d jumps; the parser no longer reads stub.go", len(s.labels), len(s.jumps))
	}
	for _, err := range checkStub(s, stubCode, realStubEntries(), stubEntry, stubFprog, stubFilter) {
		t.Error(err)
	}
	if maxStubFilter*8+stubFilter > stubSize {
		t.Errorf("a filter of %d instructions at %#x does not fit in the page", maxStubFilter, stubFilter)
	}
}

// TestStubCheckCatchesOffByOne shows that checkStub fails when any jump,
// entry point, label comment or the code's end is off by one.
func TestStubCheckCatchesOffByOne(t *testing.T) {
	s := parseStubSource(t)
	insns, err := decodeStub(stubCode)
	if err != nil {
		t.Fatal(err)
	}
	mustFail := func(what string, s stubSource, code []byte, e stubEntries, entry, fprog, filter int) {
		t.Helper()
		if errs := checkStub(s, code, e, entry, fprog, filter); len(errs) == 0 {
			t.Errorf("%s: checkStub found nothing wrong", what)
		}
	}
	e := realStubEntries()
	jumps := 0
	for _, in := range insns {
		if in.op != "jnz" && in.op != "jmp" {
			continue
		}
		jumps++
		for _, d := range []int{-1, 1} {
			code := append([]byte(nil), stubCode...)
			code[in.off+1] = byte(int8(code[in.off+1]) + int8(d))
			mustFail(fmt.Sprintf("%s at +%#x%+d", in.op, in.off, d), s, code, e, stubEntry, stubFprog, stubFilter)
		}
	}
	if jumps != 4 {
		t.Errorf("%d jumps decoded, want 4", jumps)
	}
	for _, d := range []int{-1, 1} {
		for i := range 3 {
			m := e
			switch i {
			case 0:
				m.syscall += d
			case 1:
				m.fork += d
			case 2:
				m.clone += d
			}
			mustFail(fmt.Sprintf("entry %d%+d", i, d), s, stubCode, m, stubEntry, stubFprog, stubFilter)
		}
		for i := range s.labels {
			m := s
			m.labels = append([]stubLabel(nil), s.labels...)
			m.labels[i].off += d
			mustFail(fmt.Sprintf("label %q%+d", s.labels[i].name, d), m, stubCode, e, stubEntry, stubFprog, stubFilter)
		}
	}
	// Code one byte too long for the space before the data area, and a
	// data area one byte too early.
	long := append(append([]byte(nil), stubCode...), make([]byte, stubFprog-stubEntry-len(stubCode)+1)...)
	for i := len(stubCode); i < len(long); i++ {
		long[i] = 0xcc
	}
	mustFail("code reaching stubFprog", s, long, e, stubEntry, stubFprog, stubFilter)
	mustFail("stubFprog too early", s, stubCode, e, stubEntry, stubEntry+len(stubCode)-1, stubFilter)
	mustFail("filter on the sock_fprog", s, stubCode, e, stubEntry, stubFprog, stubFprog+15)
	// An instruction the decoder does not know.
	bad := append([]byte(nil), stubCode...)
	bad[2] = 0x90
	mustFail("unknown opcode", s, bad, e, stubEntry, stubFprog, stubFilter)
}
