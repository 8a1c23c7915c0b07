package workerscript

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestPlanMigration(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		current     map[string]bool
		tag         string
		desired     []Class
		allowDelete bool
		want        *Migration
		wantErr     string
	}{
		{name: "nothing to nothing"},
		{name: "first class", desired: []Class{{Name: "Counter", SQLite: true}},
			want: &Migration{NewTag: "v1", NewSQLiteClasses: []string{"Counter"}}},
		{name: "key-value class", desired: []Class{{Name: "Legacy"}},
			want: &Migration{NewTag: "v1", NewClasses: []string{"Legacy"}}},
		{name: "unchanged", current: map[string]bool{"Counter": true}, tag: "v1", desired: []Class{{Name: "Counter", SQLite: true}}},
		{name: "rename", current: map[string]bool{"Counter": true}, tag: "v1",
			desired: []Class{{Name: "Tally", SQLite: true, RenamedFrom: "Counter"}},
			want:    &Migration{OldTag: "v1", NewTag: "v2", Renamed: []Rename{{From: "Counter", To: "Tally"}}}},
		{name: "rename already applied", current: map[string]bool{"Tally": true}, tag: "v2",
			desired: []Class{{Name: "Tally", SQLite: true, RenamedFrom: "Counter"}}},
		{name: "delete refused", current: map[string]bool{"Counter": true, "Old": true}, tag: "v3",
			desired: []Class{{Name: "Counter", SQLite: true}},
			wantErr: "durable object class(es) Old are no longer declared: removing a class deletes the data of all its objects"},
		{name: "delete allowed", current: map[string]bool{"Counter": true, "Old": true}, tag: "v3", allowDelete: true,
			desired: []Class{{Name: "Counter", SQLite: true}},
			want:    &Migration{OldTag: "v3", NewTag: "v4", Deleted: []string{"Old"}}},
		{name: "backend change", current: map[string]bool{"Counter": false}, tag: "v1",
			desired: []Class{{Name: "Counter", SQLite: true}},
			wantErr: `durable object class "Counter" already exists with key-value storage`},
		{name: "mixed, sorted", current: map[string]bool{"A": true}, tag: "v1",
			desired: []Class{{Name: "Z", SQLite: true}, {Name: "B", SQLite: true}, {Name: "A", SQLite: true}},
			want:    &Migration{OldTag: "v1", NewTag: "v2", NewSQLiteClasses: []string{"B", "Z"}}},
		{name: "rename from a class that never existed (create)", desired: []Class{{Name: "Book", SQLite: true, RenamedFrom: "Ledger"}},
			wantErr: `durable object class "Book" has renamed_from = "Ledger", but the service has no class "Ledger" (it has no Durable Object classes), so there is nothing to rename. ` +
				`Remove renamed_from to create "Book" as a new class, or set it to the class being replaced`},
		{name: "rename from a class that never existed (update)", current: map[string]bool{"Counter": true, "Ledger": true}, tag: "v1",
			desired: []Class{{Name: "Counter", SQLite: true}, {Name: "Ledger", SQLite: true}, {Name: "Book", SQLite: true, RenamedFrom: "Ledgr"}},
			wantErr: `durable object class "Book" has renamed_from = "Ledgr", but the service has no class "Ledgr" (its classes: Counter, Ledger)`},
		{name: "foreign tag", current: map[string]bool{}, tag: "wrangler-3", desired: []Class{{Name: "C", SQLite: true}},
			want: &Migration{OldTag: "wrangler-3", NewTag: "wrangler-3-1", NewSQLiteClasses: []string{"C"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := PlanMigration(tc.current, tc.tag, tc.desired, tc.allowDelete)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestSourcesLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("src/index.js", "export default {}")
	write("src/lib/util.mjs", "export const x = 1")
	write("src/add.wasm", "\x00asm")
	write("src/README.md", "not a module")
	write("src/node_modules/dep/index.js", "ignored")
	write("src/.hidden.js", "ignored")
	write("extra.txt", "hello")

	modules, err := Sources{
		Dir:    filepath.Join(dir, "src"),
		Files:  map[string]string{"data/extra.txt": filepath.Join(dir, "extra.txt")},
		Inline: map[string]string{"inline.js": "export const y = 2"},
	}.Load()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range modules {
		got = append(got, m.Name+" "+m.ContentType)
	}
	want := []string{
		"add.wasm application/wasm",
		"data/extra.txt text/plain",
		"index.js application/javascript+module",
		"inline.js application/javascript+module",
		"lib/util.mjs application/javascript+module",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("modules:\n%v\nwant:\n%v", got, want)
	}
	hashes := Hashes(modules)
	// sha256("export default {}")
	if hashes["index.js"] != "9aeb8d59b4d483ca6298e9a450fbf37dfd2b4c63990135ab1d040d76314087ec" {
		t.Fatalf("hash of index.js: %q", hashes["index.js"])
	}
	if err := CheckMain("index.js", modules); err != nil {
		t.Fatal(err)
	}
	if err := CheckMain("main.js", modules); err == nil || !strings.Contains(err.Error(), `main_module "main.js" is not among the modules (add.wasm, data/extra.txt, index.js, inline.js, lib/util.mjs)`) {
		t.Fatalf("CheckMain(main.js) = %v", err)
	}
	if err := CheckMain("add.wasm", modules); err == nil || !strings.Contains(err.Error(), "the main module must be JavaScript") {
		t.Fatalf("CheckMain(add.wasm) = %v", err)
	}
}

func TestSourcesErrors(t *testing.T) {
	t.Parallel()
	if _, err := (Sources{Files: map[string]string{"index.js": "/nonexistent/index.js"}}).Load(); err == nil ||
		err.Error() != `cannot read module "index.js" from /nonexistent/index.js: no such file or directory` {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := (Sources{Inline: map[string]string{"index.ts": "x"}}).Load(); err == nil ||
		!strings.Contains(err.Error(), `module "index.ts" has an unknown extension: use one of .bin, .cjs, .html, .js, .map, .mjs, .py, .sql, .txt, .wasm`) {
		t.Fatalf("unknown extension: %v", err)
	}
	if _, err := (Sources{Dir: "/nonexistent"}).Load(); err == nil || !strings.Contains(err.Error(), "cannot read source_dir /nonexistent") {
		t.Fatalf("missing dir: %v", err)
	}
}

func TestMigrationDescription(t *testing.T) {
	t.Parallel()
	m, err := PlanMigration(map[string]bool{"Ledger": true}, "v1", []Class{{Name: "Book", SQLite: true, RenamedFrom: "Ledger"}}, false)
	if err != nil || m.Description() != "v2: rename Ledger → Book (objects and data kept)" {
		t.Fatalf("%v, %v", m, err)
	}
}

func jsModules(files map[string]string) []Module {
	var out []Module
	for name, code := range files {
		ct, _ := ContentType(name)
		out = append(out, Module{Name: name, ContentType: ct, Content: []byte(code)})
	}
	return out
}

func TestCheckSyntax(t *testing.T) {
	t.Parallel()
	ok := jsModules(map[string]string{"index.js": "export default { fetch() { return new Response('x') } }", "legacy.cjs": "module.exports = 1", "data.txt": "{{ not js"})
	if err := CheckSyntax(ok); err != nil {
		t.Fatal(err)
	}
	bad := jsModules(map[string]string{"index.js": "export default {}", "lib/util.js": "export const x = ;\n"})
	err := CheckSyntax(bad)
	var se *SyntaxError
	if !errors.As(err, &se) || err.Error() != `module lib/util.js does not parse as JavaScript: line 1, column 18: Unexpected ";"` {
		t.Fatalf("CheckSyntax = %v", err)
	}
}

func TestMainExports(t *testing.T) {
	t.Parallel()
	modules := jsModules(map[string]string{
		"index.js":      `import { Counter } from "./do/counter.js"; import text from "./hello.txt"; import { DurableObject } from "cloudflare:workers"; export { Counter }; export * from "./more.js"; export default { fetch() { return new Response(text) } }`,
		"do/counter.js": `import { helper } from "../lib.js"; export class Counter { n() { return helper() } }`,
		"lib.js":        `export function helper() { return 1 }`,
		"more.js":       `export class Ledger {}`,
		"hello.txt":     "hello",
	})
	exports, known, err := MainExports("index.js", modules)
	if err != nil || !known || strings.Join(exports, ",") != "Counter,Ledger,default" {
		t.Fatalf("MainExports = %v, %v, %v", exports, known, err)
	}
	// A star re-export of a platform module cannot be enumerated.
	star := jsModules(map[string]string{"index.js": `export * from "cloudflare:workers"; export default {}`})
	if _, known, err := MainExports("index.js", star); known || err != nil {
		t.Fatalf("star re-export: known=%v err=%v", known, err)
	}
	missing := jsModules(map[string]string{"index.js": `import x from "./gone.js"; export default x`})
	if _, _, err := MainExports("index.js", missing); err == nil || err.Error() != `module index.js imports "./gone.js", which is not among the modules (index.js)` {
		t.Fatalf("missing import: %v", err)
	}
	py := []Module{{Name: "main.py", ContentType: "text/x-python", Content: []byte("x")}}
	if _, known, err := MainExports("main.py", py); known || err != nil {
		t.Fatalf("python: %v %v", known, err)
	}
}

func TestCreateMarker(t *testing.T) {
	t.Parallel()
	a := CreateMarker("cart", "index.js", map[string]string{"index.js": "aa", "lib.js": "bb"})
	if a != CreateMarker("cart", "index.js", map[string]string{"lib.js": "bb", "index.js": "aa"}) || !strings.HasPrefix(a, CreateMarkerPrefix) || len(a) != len(CreateMarkerPrefix)+16 {
		t.Fatalf("marker %q is not stable", a)
	}
	for _, other := range []string{
		CreateMarker("shop", "index.js", map[string]string{"index.js": "aa", "lib.js": "bb"}),
		CreateMarker("cart", "lib.js", map[string]string{"index.js": "aa", "lib.js": "bb"}),
		CreateMarker("cart", "index.js", map[string]string{"index.js": "ab", "lib.js": "bb"}),
	} {
		if other == a {
			t.Fatalf("different creates share marker %q", a)
		}
	}
	if got := CreateMarkers([]string{"team", a, "domain:x"}); len(got) != 1 || got[0] != a {
		t.Fatalf("CreateMarkers = %v", got)
	}
}

func TestCompatibilityFlags(t *testing.T) {
	t.Parallel()
	if !IsKnownCompatibilityFlag("nodejs_compat") || !IsKnownCompatibilityFlag("no_nodejs_compat_v2") || IsKnownCompatibilityFlag("nodejs_compatt") || IsKnownCompatibilityFlag("experimental") {
		t.Fatal("flag membership is wrong")
	}
	if got := SimilarCompatibilityFlags("nodejs_compatt"); len(got) == 0 || got[0] != "nodejs_compat" {
		t.Fatalf("similar to nodejs_compatt: %v", got)
	}
	if got := SimilarCompatibilityFlags("zzzzzzzzzzzzzzzzzzzzzzzzz"); len(got) != 0 {
		t.Fatalf("similar to nonsense: %v", got)
	}
}
