package linux

import (
	"go/ast"
	"go/token"
	"testing"
)

// TestHandlersDecodeArgumentsFirst checks the handler shape docs/STYLE and
// docs/adding-a-syscall.md describe: a handler (func(t *kernel.Task, args
// arch.SyscallArgs)) decodes its arguments into named locals in its
// leading definitions and reads args[i] nowhere else, so what each
// register means is said once, at the top. A family of calls may hand
// args whole to one helper that decodes them for all (the xattr calls);
// the helper, which takes SyscallArgs too, is held to the same rule.
func TestHandlersDecodeArgumentsFirst(t *testing.T) {
	fset, files := parsePackage(t)
	checked := 0
	for _, f := range files {
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || !isHandler(fn) {
				continue
			}
			checked++
			argsName := argsParam(fn)
			body := fn.Body.List
			i := 0
			for i < len(body) && isDecode(body[i]) {
				i++
			}
			for _, st := range body[i:] {
				ast.Inspect(st, func(n ast.Node) bool {
					ix, ok := n.(*ast.IndexExpr)
					if !ok {
						return true
					}
					if id, ok := ix.X.(*ast.Ident); ok && id.Name == argsName {
						t.Errorf("%s: %s reads %s[...] after its decoding statements; decode into named locals first", fset.Position(id.Pos()), fn.Name.Name, argsName)
					}
					return true
				})
			}
		}
	}
	if checked < 100 {
		t.Fatalf("found only %d handlers: is the scan broken?", checked)
	}
}

// isHandler reports whether fn takes the raw arguments: a handler, or a
// helper that decodes them for a family of handlers.
func isHandler(fn *ast.FuncDecl) bool { return argsParam(fn) != "" }

// argsParam returns the name of fn's arch.SyscallArgs parameter, or "".
func argsParam(fn *ast.FuncDecl) string {
	for _, p := range fn.Type.Params.List {
		if sel, ok := p.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "SyscallArgs" && len(p.Names) == 1 {
			return p.Names[0].Name
		}
	}
	return ""
}

// isDecode reports whether st is a decoding statement: a definition or
// a var declaration.
func isDecode(st ast.Stmt) bool {
	switch s := st.(type) {
	case *ast.AssignStmt:
		return s.Tok == token.DEFINE
	case *ast.DeclStmt:
		return true
	}
	return false
}
