package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// genDeclReach is how many lines above a use of unsafe at top level
// (outside a function) its SAFETY comment may start.
const genDeclReach = 5

// unsafeProblems returns, for the Go file src named name, each place that
// breaks the rule: a file that imports "unsafe" is named *_unsafe.go (or
// *_unsafe_test.go), and every use of the package has a "// SAFETY:"
// comment above it, in the same function (or a few lines above, outside
// functions), that says why it is sound.
func unsafeProblems(fset *token.FileSet, name string, src []byte) ([]string, error) {
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	local := ""
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == "unsafe" {
			local = "unsafe"
			if imp.Name != nil {
				local = imp.Name.Name
			}
		}
	}
	if local == "" {
		return nil, nil
	}
	var out []string
	base := filepath.Base(name)
	if !strings.HasSuffix(base, "_unsafe.go") && !strings.HasSuffix(base, "_unsafe_test.go") {
		out = append(out, name+": imports unsafe but is not named *_unsafe.go")
	}
	var safety []int // lines on which a SAFETY comment starts
	for _, g := range f.Comments {
		for _, c := range g.List {
			if strings.HasPrefix(c.Text, "// SAFETY:") {
				safety = append(safety, fset.Position(c.Pos()).Line)
			}
		}
	}
	covered := func(lo, line int) bool {
		for _, s := range safety {
			if s >= lo && s <= line {
				return true
			}
		}
		return false
	}
	for _, d := range f.Decls {
		ast.Inspect(d, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); !ok || id.Name != local {
				return true
			}
			line := fset.Position(sel.Pos()).Line
			lo := line - genDeclReach
			if fd, ok := d.(*ast.FuncDecl); ok {
				lo = fset.Position(fd.Pos()).Line
			}
			if !covered(lo, line) {
				out = append(out, fset.Position(sel.Pos()).String()+": unsafe."+sel.Sel.Name+" without a // SAFETY: comment above it")
			}
			return true
		})
	}
	return out, nil
}

func TestUnsafeOnlyInUnsafeFilesWithSafetyComments(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "vendor" || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") {
			return nil
		}
		files++
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		problems, err := unsafeProblems(fset, p, src)
		if err != nil {
			return err
		}
		for _, pr := range problems {
			t.Error(pr)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 100 {
		t.Fatalf("read only %d Go files from %s; is the module root there?", files, root)
	}
}

func TestUnsafeCheckFindsProblems(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      int
	}{
		{"a_unsafe.go", "package a\nimport \"unsafe\"\nfunc f(p *int) uintptr {\n\t// SAFETY: reasons.\n\treturn uintptr(unsafe.Pointer(p))\n}\n", 0},
		{"a.go", "package a\nimport \"unsafe\"\nfunc f(p *int) uintptr {\n\t// SAFETY: reasons.\n\treturn uintptr(unsafe.Pointer(p))\n}\n", 1},
		{"a_unsafe.go", "package a\nimport \"unsafe\"\nfunc f(p *int) uintptr {\n\treturn uintptr(unsafe.Pointer(p))\n}\n", 1},
		// A SAFETY comment in another function covers nothing here.
		{"a_unsafe.go", "package a\nimport \"unsafe\"\n// SAFETY: elsewhere.\nfunc g() {}\nfunc f(p *int) uintptr {\n\treturn uintptr(unsafe.Pointer(p))\n}\n", 1},
		{"a_unsafe.go", "package a\nimport u \"unsafe\"\nfunc f(p *int) uintptr { return uintptr(u.Pointer(p)) }\n", 1},
		{"a_unsafe.go", "package a\nimport \"unsafe\"\n// SAFETY: compile-time only.\nvar _ = unsafe.Sizeof(0)\n", 0},
		{"a.go", "package a\nimport \"fmt\"\nvar _ = fmt.Sprint\n", 0},
	} {
		got, err := unsafeProblems(token.NewFileSet(), tc.name, []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(got) != tc.want {
			t.Errorf("%s %q: problems %q, want %d", tc.name, tc.src, got, tc.want)
		}
	}
}
