package lazyregexp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestRegexp(t *testing.T) {
	re := New(`^([a-z]+)-([0-9]+)$`)
	if re.String() != `^([a-z]+)-([0-9]+)$` {
		t.Errorf("String() = %q", re.String())
	}
	if !re.MatchString("abc-12") || re.MatchString("abc-") {
		t.Error("MatchString matches the wrong strings")
	}
	if got := re.FindStringSubmatch("abc-12"); !slices.Equal(got, []string{"abc-12", "abc", "12"}) {
		t.Errorf("FindStringSubmatch = %q", got)
	}
	if got := re.Regexp().NumSubexp(); got != 2 {
		t.Errorf("Regexp().NumSubexp() = %d", got)
	}
	terms := New(`([0-9]+)(ms|s)`)
	if got := terms.FindAllStringSubmatch("5s200ms", -1); len(got) != 2 || got[1][2] != "ms" {
		t.Errorf("FindAllStringSubmatch = %q", got)
	}
	if got := terms.FindString("x10s"); got != "10s" {
		t.Errorf("FindString = %q", got)
	}
	if got := terms.ReplaceAllString("5s and 7ms", "<$2>"); got != "<s> and <ms>" {
		t.Errorf("ReplaceAllString = %q", got)
	}
}

// An invalid expression costs nothing until it is used, and then panics as MustCompile does.
func TestInvalidExpressionPanicsOnFirstUse(t *testing.T) {
	re := New(`(`)
	defer func() {
		if recover() == nil {
			t.Error("no panic on first use of an invalid expression")
		}
	}()
	re.MatchString("x")
}

// Every expression the project passes to New compiles: compiling on first use must not turn a
// typo into a panic that only a rarely taken path would find.
func TestEveryExpressionInTheProjectCompiles(t *testing.T) {
	found := 0
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		file, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(file, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 1 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "New" {
				return true
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "lazyregexp" {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: lazyregexp.New takes a string literal, so that this test can check it", path)
				return true
			}
			expr, err := strconv.Unquote(lit.Value)
			if err == nil {
				_, err = regexp.Compile(expr)
			}
			if err != nil {
				t.Errorf("%s: %s: %v", path, lit.Value, err)
			}
			found++
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 50 {
		t.Errorf("found %d expressions; the walk missed the project's packages", found)
	}
}
