package workerscript

import (
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

func TestSecretHash(t *testing.T) {
	t.Parallel()
	h := HashSecret("s3cret", "cart/STRIPE_KEY")
	if strings.Contains(h, "s3cret") || !strings.HasPrefix(h, "pbkdf2-sha256$20000$") {
		t.Fatalf("hash %q", h)
	}
	if !SecretMatches(h, "s3cret") {
		t.Fatal("the hash does not match its value")
	}
	if SecretMatches(h, "s3cret2") || SecretMatches("garbage", "s3cret") || SecretMatches("pbkdf2-sha256$x$y$z", "s3cret") {
		t.Fatal("a wrong value or malformed hash matched")
	}
	if HashSecret("s3cret", "cart/STRIPE_KEY") != h {
		t.Fatal("the hash is not stable: plan and apply would disagree")
	}
	if HashSecret("s3cret", "cart/OTHER_KEY") == h {
		t.Fatal("two secrets with one value share a salt")
	}
}
