package linux

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"

	abi "github.com/palisade-sandbox/palisade/abi/linux"
	"github.com/palisade-sandbox/palisade/sentry/arch"
	"golang.org/x/sys/unix"
)

// dispatchRecovering calls d.Dispatch for nr with no task and returns what
// it panicked with, if anything.
func dispatchRecovering(d *Dispatcher, nr uint64) (panicked any, err error) {
	defer func() { panicked = recover() }()
	_, err = d.Dispatch(nil, nr, arch.SyscallArgs{})
	return nil, err
}

func TestTestOnlyPanicOnSyscallPanicsNamingTheCall(t *testing.T) {
	var d Dispatcher
	d.SetTestOnlyPanicOnSyscall(unix.SYS_SYNC)
	p, _ := dispatchRecovering(&d, unix.SYS_SYNC)
	if p == nil {
		t.Fatal("sync(2) did not panic with the test-only hook on it")
	}
	if msg := fmt.Sprint(p); !strings.Contains(msg, "sync (162)") {
		t.Errorf("panic %q does not name the syscall as \"sync (162)\"", msg)
	}
	// Other calls go on as before: an unknown number is ENOSYS.
	p, err := dispatchRecovering(&d, 100000)
	if p != nil || !errors.Is(err, unix.ENOSYS) {
		t.Errorf("syscall 100000 with the hook on sync: panic %v, error %v; want ENOSYS", p, err)
	}
}

// TestUnimplementedCallsAnswerENOSYSThroughTheTable checks that every
// unimplemented entry has no handler and that the dispatcher answers it
// with ENOSYS, and that every other entry has a handler.
func TestUnimplementedCallsAnswerENOSYSThroughTheTable(t *testing.T) {
	var d Dispatcher
	for _, s := range table {
		nr, ok := abi.SyscallNumber(s.Name)
		if !ok {
			t.Fatalf("entry %q has no number", s.Name)
		}
		if !s.Support.answersENOSYS() {
			if s.Handler == nil {
				t.Errorf("%s: %v without a handler", s.Name, s.Support)
			}
			continue
		}
		if s.Handler != nil {
			t.Errorf("%s: unimplemented with a handler of its own", s.Name)
		}
		if p, err := dispatchRecovering(&d, uint64(nr)); p != nil || !errors.Is(err, unix.ENOSYS) {
			t.Errorf("%s: dispatch panicked %v, returned %v; want ENOSYS", s.Name, p, err)
		}
	}
}

// TestNoHandlerReturnsENOSYSUnconditionally reads this package's source:
// a handler registered with full or partial whose body returns
// unix.ENOSYS unconditionally (a return at the top level of its body, or
// of a function of this package it returns the result of) hides an
// unimplemented call from the table and docs/compatibility.md. Such calls
// must be marked with unimplemented instead.
func TestNoHandlerReturnsENOSYSUnconditionally(t *testing.T) {
	funcs := map[string]*ast.FuncDecl{}
	var inits []*ast.FuncDecl
	fset, files := parsePackage(t)
	for _, f := range files {
		for _, decl := range f.Decls {
			if fd, ok := decl.(*ast.FuncDecl); ok && fd.Recv == nil {
				if fd.Name.Name == "init" {
					inits = append(inits, fd)
				} else {
					funcs[fd.Name.Name] = fd
				}
			}
		}
	}
	registered := 0
	for _, in := range inits {
		ast.Inspect(in.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			fn, ok := call.Fun.(*ast.Ident)
			if !ok || (fn.Name != "full" && fn.Name != "partial") {
				return true
			}
			registered++
			var body *ast.BlockStmt
			name := fset.Position(call.Pos()).String()
			switch h := call.Args[len(call.Args)-1].(type) {
			case *ast.FuncLit:
				body = h.Body
			case *ast.Ident:
				if fd := funcs[h.Name]; fd != nil {
					body, name = fd.Body, h.Name
				}
			}
			if body != nil && returnsENOSYS(body, funcs, map[string]bool{}) {
				t.Errorf("%s (registered with %s) returns ENOSYS unconditionally: mark the call with unimplemented", name, fn.Name)
			}
			return true
		})
	}
	if registered < 100 {
		t.Fatalf("found only %d full/partial registrations; the source scan is broken", registered)
	}
}

// returnsENOSYS reports whether body returns unix.ENOSYS whenever it
// returns normally: its first top-level return does, and no statement
// before it holds another return.
func returnsENOSYS(body *ast.BlockStmt, funcs map[string]*ast.FuncDecl, seen map[string]bool) bool {
	for _, st := range body.List {
		ret, ok := st.(*ast.ReturnStmt)
		if !ok {
			if containsReturn(st) {
				return false
			}
			continue
		}
		for _, r := range ret.Results {
			if sel, ok := r.(*ast.SelectorExpr); ok && sel.Sel.Name == "ENOSYS" {
				return true
			}
			if call, ok := r.(*ast.CallExpr); ok {
				if id, ok := call.Fun.(*ast.Ident); ok && funcs[id.Name] != nil && !seen[id.Name] {
					seen[id.Name] = true
					if returnsENOSYS(funcs[id.Name].Body, funcs, seen) {
						return true
					}
				}
			}
		}
		return false
	}
	return false
}

// containsReturn reports whether st holds a return statement of its own
// function (function literals inside it do not count).
func containsReturn(st ast.Stmt) bool {
	found := false
	ast.Inspect(st, func(n ast.Node) bool {
		switch n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.ReturnStmt:
			found = true
		}
		return !found
	})
	return found
}

// parsePackage parses this package's non-test source files.
func parsePackage(t *testing.T) (*token.FileSet, []*ast.File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := make([]*ast.File, 0, len(names))
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}
