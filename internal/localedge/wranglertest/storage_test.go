package wranglertest

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var namespaceIDRE = regexp.MustCompile(`"?id"? ?[=:] "([0-9a-f]{32})"`)

// testKV: kv namespace create / list / delete, kv key put / get / list / delete, kv bulk put,
// each checked against the API.
func testKV(t *testing.T, s *suite) {
	dir := t.TempDir()
	out := s.wrangler(t, dir, "kv", "namespace", "create", "wrangler-kv")
	m := namespaceIDRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("kv namespace create prints no id:\n%s", out)
	}
	id := m[1]
	var namespaces []struct{ ID, Title string }
	jsonOut(t, s.wrangler(t, dir, "kv", "namespace", "list"), &namespaces)
	found := false
	for _, ns := range namespaces {
		found = found || (ns.ID == id && ns.Title == "wrangler-kv")
	}
	if !found {
		t.Fatalf("kv namespace list does not list %s: %+v", id, namespaces)
	}

	s.wrangler(t, dir, "kv", "key", "put", "--namespace-id", id, "greeting", "hello there", "--remote")
	if got := strings.TrimSpace(s.wrangler(t, dir, "kv", "key", "get", "--namespace-id", id, "greeting", "--remote")); got != "hello there" {
		t.Fatalf("kv key get = %q", got)
	}
	status, _, body := s.env.Raw(http.MethodGet, s.accountPath("/storage/kv/namespaces/%s/values/greeting", id), nil, nil)
	if status != http.StatusOK || string(body) != "hello there" {
		t.Fatalf("the API has %d %q for the key wrangler put", status, body)
	}

	bulk := filepath.Join(dir, "bulk.json")
	if err := os.WriteFile(bulk, []byte(`[{"key":"a/1","value":"one"},{"key":"b","value":"two","metadata":{"n":2}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	s.wrangler(t, dir, "kv", "bulk", "put", "--namespace-id", id, bulk, "--remote")
	var keys []struct {
		Name     string         `json:"name"`
		Metadata map[string]any `json:"metadata"`
	}
	jsonOut(t, s.wrangler(t, dir, "kv", "key", "list", "--namespace-id", id, "--remote"), &keys)
	var names []string
	for _, k := range keys {
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != "a/1,b,greeting" || keys[1].Metadata["n"] != float64(2) {
		t.Fatalf("kv key list: %+v", keys)
	}
	if got := strings.TrimSpace(s.wrangler(t, dir, "kv", "key", "get", "--namespace-id", id, "a/1", "--remote")); got != "one" {
		t.Fatalf("kv key get of a bulk-put key = %q", got)
	}

	s.wrangler(t, dir, "kv", "key", "delete", "--namespace-id", id, "greeting", "--remote")
	if status, _, _ := s.env.Raw(http.MethodGet, s.accountPath("/storage/kv/namespaces/%s/values/greeting", id), nil, nil); status != http.StatusNotFound {
		t.Fatalf("the deleted key answers %d", status)
	}
	s.wrangler(t, dir, "kv", "namespace", "delete", "--namespace-id", id)
	if status, _, _ := s.env.Raw(http.MethodGet, s.accountPath("/storage/kv/namespaces/%s", id), nil, nil); status != http.StatusNotFound {
		t.Fatalf("the deleted namespace answers %d", status)
	}
}

// testR2: r2 bucket create / list / delete and r2 object put / get / delete of a nested key
// (--remote), checked against the API.
func testR2(t *testing.T, s *suite) {
	dir := t.TempDir()
	const bucket = "wrangler-bucket"
	s.wrangler(t, dir, "r2", "bucket", "create", bucket)
	if out := s.wrangler(t, dir, "r2", "bucket", "list"); !strings.Contains(out, "name:           "+bucket) {
		t.Fatalf("r2 bucket list does not list %s:\n%s", bucket, out)
	}
	file := filepath.Join(dir, "object.txt")
	if err := os.WriteFile(file, []byte("nested content\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.wrangler(t, dir, "r2", "object", "put", bucket+"/docs/2026/object.txt", "--file", file, "--remote")
	status, _, body := s.env.Raw(http.MethodGet, s.accountPath("/r2/buckets/%s/objects/docs/2026/object.txt", bucket), nil, nil)
	if status != http.StatusOK || string(body) != "nested content\n" {
		t.Fatalf("the API has %d %q for the object wrangler put", status, body)
	}
	if got := s.wrangler(t, dir, "r2", "object", "get", bucket+"/docs/2026/object.txt", "--remote", "--pipe"); got != "nested content\n" {
		t.Fatalf("r2 object get --pipe = %q", got)
	}
	s.wrangler(t, dir, "r2", "object", "delete", bucket+"/docs/2026/object.txt", "--remote")
	if status, _, _ := s.env.Raw(http.MethodGet, s.accountPath("/r2/buckets/%s/objects/docs/2026/object.txt", bucket), nil, nil); status != http.StatusNotFound {
		t.Fatalf("the deleted object answers %d", status)
	}
	s.wrangler(t, dir, "r2", "bucket", "delete", bucket)
	if status, _, _ := s.env.Raw(http.MethodGet, s.accountPath("/r2/buckets/%s", bucket), nil, nil); status != http.StatusNotFound {
		t.Fatalf("the deleted bucket answers %d", status)
	}
}
