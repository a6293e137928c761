package seccomp

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestAssemblerResolvesJumpOffsets(t *testing.T) {
	var a Assembler
	yes, no, end := a.NewLabel(), a.NewLabel(), a.NewLabel()
	a.LoadWord(0)           // 0
	a.JumpIfEqual(7, 0, no) // 1: falls through, or skips 3 to 5
	a.JumpIfAnySet(8, yes, 0)
	a.Jump(end) // 3
	a.Bind(yes)
	a.Return(1) // 4
	a.Bind(no)
	a.Return(2) // 5
	a.Bind(end)
	a.Return(3) // 6
	got, err := a.Assemble()
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	want := []unix.SockFilter{
		{Code: opLoadWordAbs, K: 0},
		{Code: opJumpEqual, Jt: 0, Jf: 3, K: 7},
		{Code: opJumpSet, Jt: 1, Jf: 0, K: 8},
		{Code: opJumpAlways, K: 2},
		{Code: opReturn, K: 1},
		{Code: opReturn, K: 2},
		{Code: opReturn, K: 3},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Assemble() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestAssemblerLabelsAtTheSamePosition(t *testing.T) {
	var a Assembler
	l1, l2 := a.NewLabel(), a.NewLabel()
	a.JumpIfEqual(1, l1, l2)
	a.Bind(l1)
	a.Bind(l2)
	a.Return(0)
	got, err := a.Assemble()
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	if got[0].Jt != 0 || got[0].Jf != 0 {
		t.Errorf("jump to the next instruction got offsets %d/%d, want 0/0", got[0].Jt, got[0].Jf)
	}
}

func TestAssemblerLongJumps(t *testing.T) {
	// A conditional jump reaches exactly 255 instructions ahead; JA
	// reaches further.
	for _, tc := range []struct {
		skip    int
		wantErr bool
	}{{255, false}, {256, true}} {
		var a Assembler
		far := a.NewLabel()
		a.JumpIfEqual(0, far, 0)
		for i := 0; i < tc.skip; i++ {
			a.Return(0)
		}
		a.Bind(far)
		a.Return(1)
		prog, err := a.Assemble()
		if (err != nil) != tc.wantErr {
			t.Errorf("conditional jump over %d: err = %v, want error %v", tc.skip, err, tc.wantErr)
		}
		if err == nil && prog[0].Jt != uint8(tc.skip) {
			t.Errorf("conditional jump over %d: Jt = %d", tc.skip, prog[0].Jt)
		}
	}
	var a Assembler
	far := a.NewLabel()
	a.Jump(far)
	for i := 0; i < 1000; i++ {
		a.Return(0)
	}
	a.Bind(far)
	a.Return(1)
	prog, err := a.Assemble()
	if err != nil {
		t.Fatalf("Assemble: %v", err)
	}
	if got, err := run(prog, make([]byte, 64)); err != nil || got != 1 {
		t.Errorf("JA over 1000 instructions returned %d, %v; want 1", got, err)
	}
}

func TestAssemblerErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(a *Assembler)
		want  string
	}{
		{"empty", func(a *Assembler) {}, "instructions"},
		{"no final return", func(a *Assembler) { a.LoadWord(0) }, "want a return"},
		{"unbound label", func(a *Assembler) {
			a.JumpIfEqual(0, a.NewLabel(), 0)
			a.Return(0)
		}, "unbound"},
		{"unknown label", func(a *Assembler) {
			a.Jump(Label(42))
			a.Return(0)
		}, "unknown label"},
		{"backward jump", func(a *Assembler) {
			l := a.NewLabel()
			a.Bind(l)
			a.JumpIfEqual(0, 0, l)
			a.Return(0)
		}, "backwards"},
		{"label past the end", func(a *Assembler) {
			l := a.NewLabel()
			a.Jump(l)
			a.Return(0)
			a.Bind(l)
		}, "past the end"},
		{"bound twice", func(a *Assembler) {
			l := a.NewLabel()
			a.Bind(l)
			a.Bind(l)
			a.Return(0)
		}, "bound twice"},
		{"too long", func(a *Assembler) {
			for i := 0; i <= maxInstructions; i++ {
				a.Return(0)
			}
		}, "instructions"},
	} {
		var a Assembler
		tc.build(&a)
		_, err := a.Assemble()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Assemble() error = %v, want one mentioning %q", tc.name, err, tc.want)
		}
	}
}
