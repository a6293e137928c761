package seccomp

import (
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

func stmt(code uint16, k uint32) Instruction { return Instruction{Code: code, K: k} }
func jump(code uint16, k uint32, jt, jf uint8) Instruction {
	return Instruction{Code: code, Jt: jt, Jf: jf, K: k}
}

const (
	ldAbs  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	tRetK  = unix.BPF_RET | unix.BPF_K
	jeqK   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	allow  = ActionAllow
	errnoP = ActionErrno | 1
)

func TestCompileRefusesWhatLinuxRefuses(t *testing.T) {
	ret := stmt(tRetK, allow)
	long := make([]Instruction, MaxInstructions+1)
	for i := range long {
		long[i] = ret
	}
	cases := []struct {
		name string
		prog []Instruction
	}{
		{"empty", nil},
		{"too long", long},
		{"no final return", []Instruction{stmt(ldAbs, 0)}},
		{"conditional jump past the end", []Instruction{jump(jeqK, 0, 1, 0), ret}},
		{"false branch past the end", []Instruction{jump(jeqK, 0, 0, 1), ret}},
		{"ja past the end", []Instruction{jump(unix.BPF_JMP|unix.BPF_JA, 1, 0, 0), ret}},
		{"ja with a huge offset", []Instruction{jump(unix.BPF_JMP|unix.BPF_JA, 0xffffffff, 0, 0), ret}},
		{"unknown opcode", []Instruction{stmt(0xffff, 0), ret}},
		{"extra bits on a valid opcode", []Instruction{stmt(0x100|tRetK, 0)}},
		{"byte load", []Instruction{stmt(unix.BPF_LD|unix.BPF_B|unix.BPF_ABS, 0), ret}},
		{"half-word load", []Instruction{stmt(unix.BPF_LD|unix.BPF_H|unix.BPF_ABS, 0), ret}},
		{"indirect load", []Instruction{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_IND, 0), ret}},
		{"msh", []Instruction{stmt(unix.BPF_LDX|unix.BPF_B|unix.BPF_MSH, 0), ret}},
		{"modulo", []Instruction{stmt(unix.BPF_ALU|unix.BPF_MOD|unix.BPF_K, 3), ret}},
		{"return X", []Instruction{stmt(unix.BPF_RET|unix.BPF_X, 0)}},
		{"load past seccomp_data", []Instruction{stmt(ldAbs, 64), ret}},
		{"unaligned load", []Instruction{stmt(ldAbs, 2), ret}},
		{"store past scratch", []Instruction{stmt(unix.BPF_ST, 16), ret}},
		{"load past scratch", []Instruction{stmt(unix.BPF_LD|unix.BPF_MEM, 16), ret}},
		{"load of an unwritten scratch word", []Instruction{stmt(unix.BPF_LDX|unix.BPF_MEM, 0), ret}},
		{"scratch written on one path only", []Instruction{
			jump(jeqK, 0, 0, 1),
			stmt(unix.BPF_ST, 2),
			stmt(unix.BPF_LD|unix.BPF_MEM, 2),
			ret,
		}},
		{"division by constant zero", []Instruction{stmt(unix.BPF_ALU|unix.BPF_DIV|unix.BPF_K, 0), ret}},
		{"shift by 32", []Instruction{stmt(unix.BPF_ALU|unix.BPF_RSH|unix.BPF_K, 32), ret}},
	}
	for _, c := range cases {
		_, err := Compile(c.prog)
		var ve *ValidationError
		if !errors.As(err, &ve) || !errors.Is(err, unix.EINVAL) {
			t.Errorf("%s: Compile = %v, want a ValidationError that is EINVAL", c.name, err)
		}
	}
}

func TestCompileCopiesTheProgram(t *testing.T) {
	in := []Instruction{stmt(tRetK, allow)}
	p, err := Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	in[0].K = 0
	if got := p.Run(&Data{}); got != allow {
		t.Errorf("Run after changing the caller's slice = %#x, want %#x", got, allow)
	}
}

func TestRun(t *testing.T) {
	d := &Data{Nr: 83, Arch: 0xc000003e, InstructionPointer: 0x1122334455667788,
		Args: [6]uint64{0x0000000100000002, 0, 0, 0, 0, 0xaabbccdd00000000}}
	cases := []struct {
		name string
		prog []Instruction
		want uint32
	}{
		{"nr", []Instruction{stmt(ldAbs, 0), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 83},
		{"arch", []Instruction{stmt(ldAbs, 4), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 0xc000003e},
		{"ip low", []Instruction{stmt(ldAbs, 8), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 0x55667788},
		{"ip high", []Instruction{stmt(ldAbs, 12), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 0x11223344},
		{"arg0 low", []Instruction{stmt(ldAbs, 16), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 2},
		{"arg0 high", []Instruction{stmt(ldAbs, 20), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 1},
		{"arg5 high", []Instruction{stmt(ldAbs, 60), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 0xaabbccdd},
		{"len", []Instruction{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_LEN, 0), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 64},
		{"jeq taken", []Instruction{stmt(ldAbs, 0), jump(jeqK, 83, 0, 1), stmt(tRetK, errnoP), stmt(tRetK, allow)}, errnoP},
		{"jeq not taken", []Instruction{stmt(ldAbs, 0), jump(jeqK, 84, 0, 1), stmt(tRetK, errnoP), stmt(tRetK, allow)}, allow},
		{"jgt", []Instruction{stmt(ldAbs, 0), jump(unix.BPF_JMP|unix.BPF_JGT|unix.BPF_K, 82, 0, 1), stmt(tRetK, 1), stmt(tRetK, 2)}, 1},
		{"jge equal", []Instruction{stmt(ldAbs, 0), jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, 83, 0, 1), stmt(tRetK, 1), stmt(tRetK, 2)}, 1},
		{"jge less", []Instruction{stmt(ldAbs, 0), jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, 84, 0, 1), stmt(tRetK, 1), stmt(tRetK, 2)}, 2},
		{"jset", []Instruction{stmt(ldAbs, 0), jump(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, 0x10, 0, 1), stmt(tRetK, 1), stmt(tRetK, 2)}, 1},
		{"ja", []Instruction{jump(unix.BPF_JMP|unix.BPF_JA, 1, 0, 0), stmt(tRetK, 1), stmt(tRetK, 2)}, 2},
		{"jeq x", []Instruction{
			stmt(unix.BPF_LDX|unix.BPF_IMM, 83), stmt(ldAbs, 0),
			jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_X, 0, 0, 1), stmt(tRetK, 1), stmt(tRetK, 2)}, 1},
		{"alu", []Instruction{
			stmt(unix.BPF_LD|unix.BPF_IMM, 10),
			stmt(unix.BPF_ALU|unix.BPF_ADD|unix.BPF_K, 5),  // 15
			stmt(unix.BPF_ALU|unix.BPF_MUL|unix.BPF_K, 4),  // 60
			stmt(unix.BPF_ALU|unix.BPF_SUB|unix.BPF_K, 12), // 48
			stmt(unix.BPF_ALU|unix.BPF_DIV|unix.BPF_K, 5),  // 9
			stmt(unix.BPF_ALU|unix.BPF_OR|unix.BPF_K, 0x30),
			stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, 0x1f),
			stmt(unix.BPF_ALU|unix.BPF_XOR|unix.BPF_K, 0x3),
			stmt(unix.BPF_ALU|unix.BPF_LSH|unix.BPF_K, 4),
			stmt(unix.BPF_ALU|unix.BPF_RSH|unix.BPF_K, 1),
			stmt(unix.BPF_RET|unix.BPF_A, 0)}, ((((9 | 0x30) & 0x1f) ^ 3) << 4) >> 1},
		{"neg", []Instruction{stmt(unix.BPF_LD|unix.BPF_IMM, 1), stmt(unix.BPF_ALU|unix.BPF_NEG, 0), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 0xffffffff},
		{"shift by x is taken mod 32", []Instruction{
			stmt(unix.BPF_LDX|unix.BPF_IMM, 33), stmt(unix.BPF_LD|unix.BPF_IMM, 1),
			stmt(unix.BPF_ALU|unix.BPF_LSH|unix.BPF_X, 0), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 2},
		{"division by a zero X returns 0", []Instruction{
			stmt(unix.BPF_LDX|unix.BPF_IMM, 0), stmt(unix.BPF_LD|unix.BPF_IMM, 7),
			stmt(unix.BPF_ALU|unix.BPF_DIV|unix.BPF_X, 0), stmt(tRetK, allow)}, 0},
		{"scratch, tax, txa", []Instruction{
			stmt(ldAbs, 0), stmt(unix.BPF_ST, 15), stmt(unix.BPF_LD|unix.BPF_IMM, 0),
			stmt(unix.BPF_LDX|unix.BPF_MEM, 15), stmt(unix.BPF_MISC|unix.BPF_TXA, 0),
			stmt(unix.BPF_MISC|unix.BPF_TAX, 0), stmt(unix.BPF_STX, 3),
			stmt(unix.BPF_LD|unix.BPF_MEM, 3), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 83},
		{"scratch written on both paths", []Instruction{
			stmt(ldAbs, 0), jump(jeqK, 83, 0, 2),
			stmt(unix.BPF_ST, 1), jump(unix.BPF_JMP|unix.BPF_JA, 1, 0, 0),
			stmt(unix.BPF_ST, 1),
			stmt(unix.BPF_LD|unix.BPF_MEM, 1), stmt(unix.BPF_RET|unix.BPF_A, 0)}, 83},
	}
	for _, c := range cases {
		p, err := Compile(c.prog)
		if err != nil {
			t.Errorf("%s: Compile: %v", c.name, err)
			continue
		}
		if got := p.Run(d); got != c.want {
			t.Errorf("%s: Run = %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestStronger(t *testing.T) {
	order := []uint32{ActionKillProcess, ActionKillThread, ActionTrap | 5, ActionErrno | 1,
		ActionUserNotif, ActionTrace | 3, ActionLog, ActionAllow}
	for i := range order {
		for j := range order {
			if got := Stronger(order[i], order[j]); got != (i < j) {
				t.Errorf("Stronger(%#x, %#x) = %v, want %v", order[i], order[j], got, i < j)
			}
		}
	}
	if Stronger(ActionErrno|1, ActionErrno|2) || Stronger(ActionErrno|2, ActionErrno|1) {
		t.Error("equal actions with different data take precedence over each other")
	}
}

func TestDecodeInstructions(t *testing.T) {
	b := []byte{0x15, 0x00, 0x02, 0x03, 0x3e, 0x00, 0x00, 0xc0, 0xff}
	got := DecodeInstructions(b)
	want := Instruction{Code: 0x15, Jt: 2, Jf: 3, K: 0xc000003e}
	if len(got) != 1 || got[0] != want {
		t.Errorf("DecodeInstructions = %+v, want [%+v]", got, want)
	}
}

// FuzzCompileRun checks that no byte string makes Compile or Run panic,
// and that a compiled program always reaches a return (Run checks its
// own step bound through the forward-only jumps).
func FuzzCompileRun(f *testing.F) {
	f.Add([]byte{0x20, 0, 0, 0, 0, 0, 0, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}, []byte{1, 2, 3})
	f.Add([]byte{0x15, 0, 1, 0, 83, 0, 0, 0, 0x06, 0, 0, 0, 1, 0, 5, 0, 0x06, 0, 0, 0, 0, 0, 0xff, 0x7f}, []byte{83})
	f.Add([]byte{0x02, 0, 0, 0, 3, 0, 0, 0, 0x61, 0, 0, 0, 3, 0, 0, 0, 0x3c, 0, 0, 0, 0, 0, 0, 0, 0x16, 0, 0, 0, 0, 0, 0, 0}, []byte{})
	f.Fuzz(func(t *testing.T, prog, input []byte) {
		if len(prog) > MaxInstructions*InstructionSize+InstructionSize {
			prog = prog[:MaxInstructions*InstructionSize+InstructionSize]
		}
		p, err := Compile(DecodeInstructions(prog))
		if err != nil {
			if !errors.Is(err, unix.EINVAL) {
				t.Fatalf("Compile error %v is not EINVAL", err)
			}
			return
		}
		var buf [DataSize]byte
		copy(buf[:], input)
		d := Data{
			Nr:                 int32(binary.LittleEndian.Uint32(buf[0:])),
			Arch:               binary.LittleEndian.Uint32(buf[4:]),
			InstructionPointer: binary.LittleEndian.Uint64(buf[8:]),
		}
		for i := range d.Args {
			d.Args[i] = binary.LittleEndian.Uint64(buf[16+8*i:])
		}
		p.Run(&d)
		// Every word Run can load matches the struct's layout.
		for off := uint32(0); off < DataSize; off += 4 {
			if got, want := d.word(off), binary.LittleEndian.Uint32(buf[off:]); got != want {
				t.Fatalf("word(%d) = %#x, want %#x", off, got, want)
			}
		}
	})
}
