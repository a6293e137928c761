package linux

import (
	"reflect"
	"testing"
)

func TestSignalFrameLayout(t *testing.T) {
	// Sizes and offsets through reflect, which reports the layout the
	// compiler chose without the unsafe package.
	size := func(v any) uintptr { return reflect.TypeOf(v).Size() }
	offset := func(v any, field string) uintptr {
		f, ok := reflect.TypeOf(v).FieldByName(field)
		if !ok || len(f.Index) != 1 {
			t.Fatalf("%T has no field %s of its own", v, field)
		}
		return f.Offset
	}
	var (
		si SignalInfo
		ss SignalStack
		sc SigContext
		uc UContext
		sa SigAction
	)
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"sizeof(siginfo_t)", size(si), 128},
		{"offsetof(siginfo_t, _sifields)", offset(si, "Fields"), 16},
		{"sizeof(stack_t)", size(ss), 24},
		{"offsetof(stack_t, ss_flags)", offset(ss, "Flags"), 8},
		{"offsetof(stack_t, ss_size)", offset(ss, "Size"), 16},
		{"sizeof(struct sigcontext)", size(sc), 256},
		{"offsetof(sigcontext, rdi)", offset(sc, "Rdi"), 64},
		{"offsetof(sigcontext, rsp)", offset(sc, "Rsp"), 120},
		{"offsetof(sigcontext, rip)", offset(sc, "Rip"), 128},
		{"offsetof(sigcontext, eflags)", offset(sc, "Eflags"), 136},
		{"offsetof(sigcontext, cs)", offset(sc, "Cs"), 144},
		{"offsetof(sigcontext, ss)", offset(sc, "Ss"), 150},
		{"offsetof(sigcontext, err)", offset(sc, "Err"), 152},
		{"offsetof(sigcontext, cr2)", offset(sc, "Cr2"), 176},
		{"offsetof(sigcontext, fpstate)", offset(sc, "Fpstate"), 184},
		{"offsetof(sigcontext, reserved1)", offset(sc, "Reserved"), 192},
		{"offsetof(ucontext, uc_stack)", offset(uc, "Stack"), 16},
		{"offsetof(ucontext, uc_mcontext)", offset(uc, "MContext"), 40},
		{"offsetof(ucontext, uc_sigmask)", offset(uc, "Sigmask"), 296},
		{"sizeof(struct ucontext)", size(uc), 304},
		{"sizeof(struct sigaction)", size(sa), 32},
		{"offsetof(sigaction, sa_restorer)", offset(sa, "Restorer"), 16},
		{"offsetof(sigaction, sa_mask)", offset(sa, "Mask"), 24},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %d, want %d", tc.name, tc.got, tc.want)
		}
	}
}

func TestSignalInfoUnionOffsets(t *testing.T) {
	// Byte offsets within siginfo_t, from the kernel's layout on amd64.
	var si SignalInfo
	si.SetPID(0x11223344)
	si.SetUID(0x55667788)
	si.SetStatus(7)
	si.SetUtime(0x0102030405060708)
	si.SetStime(9)
	b := AsBytes(&si)
	for _, tc := range []struct {
		name string
		off  int
		want byte
	}{
		{"si_pid", 16, 0x44}, {"si_uid", 20, 0x88}, {"si_status", 24, 7},
		{"si_utime", 32, 0x08}, {"si_stime", 40, 9},
	} {
		if b[tc.off] != tc.want {
			t.Errorf("%s: byte at offset %d = %#x, want %#x", tc.name, tc.off, b[tc.off], tc.want)
		}
	}
	if si.PID() != 0x11223344 || si.UID() != 0x55667788 || si.Status() != 7 ||
		si.Utime() != 0x0102030405060708 || si.Stime() != 9 {
		t.Errorf("SIGCHLD fields read back wrong: %+v", si)
	}

	si = SignalInfo{}
	si.SetAddr(0xdeadbeef000)
	if got := si.Addr(); got != 0xdeadbeef000 || b[16] != 0x00 || b[17] != 0xf0 {
		t.Errorf("si_addr = %#x (bytes %x), want 0xdeadbeef000 at offset 16", got, b[16:24])
	}
	si = SignalInfo{}
	si.SetTimerID(3)
	si.SetOverrun(4)
	si.SetValue(5)
	if si.TimerID() != 3 || si.Overrun() != 4 || si.Value() != 5 || b[16] != 3 || b[20] != 4 || b[24] != 5 {
		t.Errorf("timer fields: tid=%d overrun=%d value=%d bytes %x; want 3, 4, 5 at offsets 16, 20, 24",
			si.TimerID(), si.Overrun(), si.Value(), b[16:32])
	}
	si = SignalInfo{}
	si.SetSyscall(231)
	si.SetArch(0xc000003e)
	if si.Syscall() != 231 || si.Arch() != 0xc000003e || b[24] != 231 || b[31] != 0xc0 {
		t.Errorf("sigsys fields: syscall=%d arch=%#x, want 231 at offset 24 and 0xc000003e at 28", si.Syscall(), si.Arch())
	}
}

func TestSignalStackContains(t *testing.T) {
	ss := SignalStack{Addr: 0x1000, Size: 0x1000}
	for sp, want := range map[uint64]bool{0x1000: false, 0x1001: true, 0x2000: true, 0x2001: false} {
		if got := ss.Contains(sp); got != want {
			t.Errorf("Contains(%#x) = %t, want %t", sp, got, want)
		}
	}
}

func TestAsBytesFromBytes(t *testing.T) {
	sa := SigAction{Handler: 0x401000, Flags: SA_RESTORER | SA_SIGINFO, Restorer: 0x402000, Mask: SignalSetOf(2, 15)}
	b := append([]byte(nil), AsBytes(&sa)...)
	if len(b) != 32 || b[0] != 0x00 || b[1] != 0x10 || b[2] != 0x40 || b[24] != 0x02 || b[25] != 0x40 {
		t.Fatalf("AsBytes(SigAction) = %x, want little-endian handler, flags, restorer, mask", b)
	}
	var back SigAction
	FromBytes(b, &back)
	if back != sa {
		t.Errorf("FromBytes(AsBytes(%+v)) = %+v", sa, back)
	}
	// A short buffer fills only a prefix.
	back = SigAction{Mask: 7}
	FromBytes(b[:8], &back)
	if back.Handler != sa.Handler || back.Flags != 0 || back.Mask != 7 {
		t.Errorf("FromBytes(8 bytes) = %+v, want only Handler set", back)
	}
	// A long buffer fills the struct and ignores the rest.
	var x uint32
	FromBytes([]byte{1, 2, 3, 4, 5, 6}, &x)
	if x != 0x04030201 {
		t.Errorf("FromBytes into uint32 = %#x, want 0x04030201", x)
	}
}
