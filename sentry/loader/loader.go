// Package loader loads programs into a fresh address space: static,
// static-PIE and dynamically linked ELF executables (with their PT_INTERP
// interpreter, glibc's ld.so) and "#!" scripts, and builds the initial stack
// (argc, argv, envp, auxv) exactly as Linux lays it out.
package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"strings"

	"github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/platform"
	"github.com/palisade-sandbox/palisade/sentry/mm"
	"golang.org/x/sys/unix"
)

// File is an executable or interpreter opened for loading.
type File interface {
	// ReadAt reads from the file; short reads only at end of file.
	ReadAt(p []byte, off int64) (int, error)
	// Mappable maps the file's contents.
	Mappable() mm.Mappable
	// Close releases the file.
	Close()
}

// Opener opens a program by path for execution: it resolves the path like
// execve does and checks execute permission (EACCES) and file type.
type Opener func(path string) (File, error)

// Config describes a program to load.
type Config struct {
	// Filename is execve's path argument.
	Filename string
	Argv     []string
	Envv     []string
	Open     Opener
	// HWCap and HWCap2 are the CPU feature bits reported in auxv.
	HWCap, HWCap2 uint64
	// IDs returns the IDs the program will run with, for auxv, once its
	// file (a script's interpreter, not the script) is open: set-ID bits
	// are the caller's business.
	IDs func(exe File) (IDs, error)
	// Random fills AT_RANDOM.
	Random [16]byte
}

// IDs are the credentials auxv reports (AT_UID, ...); Secure is
// AT_SECURE, which tells the C library to ignore LD_PRELOAD and the like
// (set-ID or capability-gaining execs).
type IDs struct {
	UID, EUID, GID, EGID uint32
	Secure               bool
}

// Result is where the loaded program starts.
type Result struct {
	Entry, SP uint64
	// Comm is the task name (the basename of Filename, 15 bytes).
	Comm string
	// Executable is the program's file, still open: the main ELF
	// object (a script's interpreter, not the script; not the ELF
	// interpreter), which /proc/PID/exe names (Linux: mm_struct::exe_file).
	// The caller owns it and must Close it.
	Executable File
}

// Limits from Linux's binfmt code.
const (
	maxScriptDepth = 4         // nested "#!" interpreters (BINPRM_MAX_RECURSION)
	scriptBufSize  = 256       // BINPRM_BUF_SIZE
	maxArgStrLen   = 32 * 4096 // MAX_ARG_STRLEN
	maxArgTotal    = 2 << 20   // a quarter of the default 8 MiB stack
	maxPhnum       = 1024
	// dynBase is where a position-independent main program is placed
	// (Linux: ELF_ET_DYN_BASE, 2/3 of the 47-bit address space).
	dynBase = 0x555555554000
	// stackReserve is the room kept free below the stack for it to grow
	// into before mmap placement starts.
	stackReserve = 8<<20 + 128<<20
	initStack    = 128 << 10
)

// Load replaces nothing: it loads cfg's program into m, which must be
// empty, and returns where to start it.
func Load(m *mm.MemoryManager, maxAddr uint64, cfg Config) (Result, error) {
	for _, s := range append(append([]string(nil), cfg.Argv...), cfg.Envv...) {
		if len(s)+1 > maxArgStrLen {
			return Result{}, unix.E2BIG
		}
	}
	argv := cfg.Argv
	filename := cfg.Filename
	var f File
	var err error
	for depth := 0; ; depth++ {
		if depth > maxScriptDepth {
			return Result{}, unix.ELOOP
		}
		f, err = cfg.Open(filename)
		if err != nil {
			return Result{}, err
		}
		head := make([]byte, scriptBufSize)
		n, _ := f.ReadAt(head, 0)
		head = head[:n]
		if !bytes.HasPrefix(head, []byte("#!")) {
			break
		}
		f.Close()
		interp, arg, ok := parseShebang(head)
		if !ok {
			return Result{}, unix.ENOEXEC
		}
		nargv := []string{interp}
		if arg != "" {
			nargv = append(nargv, arg)
		}
		nargv = append(nargv, filename)
		if len(argv) > 1 {
			nargv = append(nargv, argv[1:]...)
		}
		argv, filename = nargv, interp
	}
	// f goes to the caller on success.
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	ids, err := cfg.IDs(f)
	if err != nil {
		return Result{}, err
	}
	secure := uint64(0)
	if ids.Secure {
		secure = 1
	}

	stackTop := maxAddr - 0x1000 // a guard page below the platform's own page
	m.SetMmapBase(mm.PageRoundDown(stackTop - stackReserve))
	main, err := loadELF(m, f, 0)
	if err != nil {
		return Result{}, err
	}
	entry := main.entry
	var interpBase uint64
	if main.interp != "" {
		inf, err := cfg.Open(main.interp)
		if err != nil {
			if err == unix.ENOENT {
				return Result{}, unix.ENOENT
			}
			return Result{}, err
		}
		defer inf.Close()
		in, err := loadELF(m, inf, 1)
		if err != nil {
			return Result{}, err
		}
		if in.interp != "" {
			return Result{}, unix.ELIBBAD
		}
		interpBase = in.base
		entry = in.entry
	}
	m.SetBrkStart(main.end)

	// The initial stack.
	if _, err := m.MMap(mm.MMapOpts{
		Addr: stackTop - initStack, Length: initStack, Fixed: true, Private: true,
		Perms: platform.ReadWrite, MaxPerms: platform.AnyAccess, GrowsDown: true, Name: "[stack]",
	}); err != nil {
		return Result{}, err
	}
	auxv := []uint64{
		linux.AT_PHDR, main.phdr,
		linux.AT_PHENT, 56,
		linux.AT_PHNUM, main.phnum,
		linux.AT_PAGESZ, 4096,
		linux.AT_BASE, interpBase,
		linux.AT_FLAGS, 0,
		linux.AT_ENTRY, main.entry,
		linux.AT_UID, uint64(ids.UID),
		linux.AT_EUID, uint64(ids.EUID),
		linux.AT_GID, uint64(ids.GID),
		linux.AT_EGID, uint64(ids.EGID),
		linux.AT_SECURE, secure,
		linux.AT_CLKTCK, 100,
		linux.AT_HWCAP, cfg.HWCap,
		linux.AT_HWCAP2, cfg.HWCap2,
		linux.AT_MINSIGSTKSZ, linux.MINSIGSTKSZ,
	}
	sp, layout, err := buildStack(m, stackTop, argv, cfg.Envv, auxv, cfg.Filename, cfg.Random)
	if err != nil {
		return Result{}, err
	}
	layout.Executable = filename
	m.SetLayout(layout)
	comm := filename[strings.LastIndexByte(filename, '/')+1:]
	if len(comm) > 15 {
		comm = comm[:15]
	}
	keep = true
	return Result{Entry: entry, SP: sp, Comm: comm, Executable: f}, nil
}

// parseShebang splits a "#!" line into interpreter and optional argument.
func parseShebang(head []byte) (string, string, bool) {
	line := head[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	s := strings.Trim(string(line), " \t")
	if s == "" {
		return "", "", false
	}
	interp, arg, _ := strings.Cut(s, " ")
	if i := strings.IndexByte(interp, '\t'); i >= 0 {
		interp, arg = interp[:i], interp[i+1:]+" "+arg
	}
	return interp, strings.Trim(arg, " \t"), true
}

// loaded describes one ELF object placed in memory.
type loaded struct {
	base, entry, end uint64
	phdr, phnum      uint64
	interp           string
}

// loadELF maps the PT_LOAD segments of f. which is 0 for the main program
// and 1 for the interpreter (placed by mmap rather than at dynBase).
func loadELF(m *mm.MemoryManager, f File, which int) (loaded, error) {
	var hdr elf.Header64
	hb := make([]byte, binary.Size(hdr))
	if n, _ := f.ReadAt(hb, 0); n < len(hb) {
		return loaded{}, unix.ENOEXEC
	}
	binary.Read(bytes.NewReader(hb), binary.LittleEndian, &hdr)
	if !bytes.Equal(hdr.Ident[:4], []byte(elf.ELFMAG)) || elf.Class(hdr.Ident[elf.EI_CLASS]) != elf.ELFCLASS64 ||
		elf.Data(hdr.Ident[elf.EI_DATA]) != elf.ELFDATA2LSB || elf.Machine(hdr.Machine) != elf.EM_X86_64 {
		return loaded{}, unix.ENOEXEC
	}
	typ := elf.Type(hdr.Type)
	if typ != elf.ET_EXEC && typ != elf.ET_DYN {
		return loaded{}, unix.ENOEXEC
	}
	if hdr.Phentsize != 56 || hdr.Phnum == 0 || hdr.Phnum > maxPhnum {
		return loaded{}, unix.ENOEXEC
	}
	phb := make([]byte, int(hdr.Phnum)*56)
	if n, _ := f.ReadAt(phb, int64(hdr.Phoff)); n < len(phb) {
		return loaded{}, unix.ENOEXEC
	}
	phdrs := make([]elf.Prog64, hdr.Phnum)
	binary.Read(bytes.NewReader(phb), binary.LittleEndian, phdrs)

	var out loaded
	lo, hi := ^uint64(0), uint64(0)
	var phdrVaddr uint64
	havePhdr := false
	for _, ph := range phdrs {
		switch elf.ProgType(ph.Type) {
		case elf.PT_LOAD:
			if ph.Filesz > ph.Memsz || ph.Vaddr+ph.Memsz < ph.Vaddr || (ph.Vaddr-ph.Off)&0xfff != 0 {
				return loaded{}, unix.ENOEXEC
			}
			lo = min(lo, mm.PageRoundDown(ph.Vaddr))
			hi = max(hi, ph.Vaddr+ph.Memsz)
			if !havePhdr && ph.Off <= hdr.Phoff && hdr.Phoff+uint64(len(phb)) <= ph.Off+ph.Filesz {
				phdrVaddr = ph.Vaddr + hdr.Phoff - ph.Off
			}
		case elf.PT_INTERP:
			if which != 0 {
				continue
			}
			if ph.Filesz == 0 || ph.Filesz > 4096 {
				return loaded{}, unix.ENOEXEC
			}
			b := make([]byte, ph.Filesz)
			if n, _ := f.ReadAt(b, int64(ph.Off)); n < len(b) {
				return loaded{}, unix.ENOEXEC
			}
			out.interp = string(bytes.TrimRight(b, "\x00"))
		case elf.PT_PHDR:
			phdrVaddr, havePhdr = ph.Vaddr, true
		}
	}
	if hi == 0 || hi <= lo {
		return loaded{}, unix.ENOEXEC
	}
	hiPage, ok := mm.PageRoundUp(hi)
	if !ok {
		return loaded{}, unix.ENOEXEC
	}
	var bias uint64
	if typ == elf.ET_DYN {
		// Reserve the whole span at once so the segments keep their
		// relative placement, then map segments over it.
		hint := uint64(0)
		if which == 0 {
			hint = dynBase
		}
		addr, err := m.MMap(mm.MMapOpts{Addr: hint, Length: hiPage - lo, Private: true, MaxPerms: platform.AnyAccess})
		if err != nil {
			return loaded{}, err
		}
		bias = addr - lo
	}
	for _, ph := range phdrs {
		if elf.ProgType(ph.Type) != elf.PT_LOAD || ph.Memsz == 0 {
			continue
		}
		if err := mapSegment(m, f, ph, bias); err != nil {
			return loaded{}, err
		}
	}
	out.base = bias + lo
	out.entry = bias + hdr.Entry
	out.end = bias + hiPage
	out.phdr = bias + phdrVaddr
	out.phnum = uint64(hdr.Phnum)
	return out, nil
}

// mapSegment maps one PT_LOAD segment: file pages privately, the zeroed
// tail of the last file page, and anonymous pages for the rest of memsz.
func mapSegment(m *mm.MemoryManager, f File, ph elf.Prog64, bias uint64) error {
	perms := platform.Access{
		Read:    ph.Flags&uint32(elf.PF_R) != 0,
		Write:   ph.Flags&uint32(elf.PF_W) != 0,
		Execute: ph.Flags&uint32(elf.PF_X) != 0,
	}
	start := mm.PageRoundDown(bias + ph.Vaddr)
	fileEnd := bias + ph.Vaddr + ph.Filesz
	memEnd, _ := mm.PageRoundUp(bias + ph.Vaddr + ph.Memsz)
	if ph.Filesz > 0 {
		fileMapEnd, _ := mm.PageRoundUp(fileEnd)
		mappable := f.Mappable()
		// Mapped writable first if a bss tail must be zeroed.
		initial := perms
		tail := fileEnd&0xfff != 0 && ph.Memsz > ph.Filesz
		if tail {
			initial.Write = true
		}
		if _, err := m.MMap(mm.MMapOpts{
			Addr: start, Length: fileMapEnd - start, Fixed: true, Private: true,
			Perms: initial, MaxPerms: platform.AnyAccess, File: mappable, Offset: mm.PageRoundDown(ph.Off),
		}); err != nil {
			return err
		}
		if tail {
			if _, err := m.ZeroOut(fileEnd, int(fileMapEnd-fileEnd)); err != nil {
				return err
			}
			if perms != initial {
				if err := m.Mprotect(start, fileMapEnd-start, perms, false); err != nil {
					return err
				}
			}
		}
		start = fileMapEnd
	}
	if memEnd > start {
		if _, err := m.MMap(mm.MMapOpts{
			Addr: start, Length: memEnd - start, Fixed: true, Private: true,
			Perms: perms, MaxPerms: platform.AnyAccess,
		}); err != nil {
			return err
		}
	}
	return nil
}

// buildStack writes strings, auxv, envp, argv and argc below top and
// returns the initial stack pointer.
func buildStack(m *mm.MemoryManager, top uint64, argv, envv []string, auxv []uint64, execfn string, random [16]byte) (uint64, mm.Layout, error) {
	total := len(execfn) + 1
	for _, s := range argv {
		total += len(s) + 1
	}
	for _, s := range envv {
		total += len(s) + 1
	}
	if total > maxArgTotal {
		return 0, mm.Layout{}, unix.E2BIG
	}
	sp := top - 8 // Linux leaves a NULL word at the very top
	push := func(b []byte) (uint64, error) {
		sp -= uint64(len(b))
		_, err := m.CopyOut(sp, b)
		return sp, err
	}
	var layout mm.Layout
	var err error
	execfnAddr, err := push(append([]byte(execfn), 0))
	if err != nil {
		return 0, layout, err
	}
	envAddrs := make([]uint64, len(envv))
	layout.EnvvEnd = sp
	for i := len(envv) - 1; i >= 0; i-- {
		if envAddrs[i], err = push(append([]byte(envv[i]), 0)); err != nil {
			return 0, layout, err
		}
	}
	layout.EnvvStart = sp
	argAddrs := make([]uint64, len(argv))
	layout.ArgvEnd = sp
	for i := len(argv) - 1; i >= 0; i-- {
		if argAddrs[i], err = push(append([]byte(argv[i]), 0)); err != nil {
			return 0, layout, err
		}
	}
	layout.ArgvStart = sp
	platformAddr, err := push([]byte("x86_64\x00"))
	if err != nil {
		return 0, layout, err
	}
	sp &^= 15
	randomAddr, err := push(random[:])
	if err != nil {
		return 0, layout, err
	}
	auxv = append(auxv, linux.AT_RANDOM, randomAddr, linux.AT_EXECFN, execfnAddr, linux.AT_PLATFORM, platformAddr, linux.AT_NULL, 0)
	words := 1 + len(argAddrs) + 1 + len(envAddrs) + 1 + len(auxv)
	sp = (sp - uint64(words)*8) &^ 15
	buf := make([]byte, 0, words*8)
	put := func(v uint64) { buf = binary.LittleEndian.AppendUint64(buf, v) }
	put(uint64(len(argv)))
	for _, a := range argAddrs {
		put(a)
	}
	put(0)
	for _, a := range envAddrs {
		put(a)
	}
	put(0)
	for _, a := range auxv {
		put(a)
	}
	if _, err := m.CopyOut(sp, buf); err != nil {
		return 0, layout, err
	}
	layout.StackStart = sp
	layout.Auxv = auxv
	return sp, layout, nil
}
