package localedge

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestWorkersUnflatten checks the rebuild of cloudflare-go v7's flattened multipart fields.
func TestWorkersUnflatten(t *testing.T) {
	got, err := json.Marshal(unflatten(map[string]string{
		"main_module":                               "index.js",
		"bindings.0.name":                           "A",
		"bindings.0.type":                           "plain_text",
		"bindings.0.text":                           "true",
		"bindings.1.name":                           "J",
		"bindings.1.type":                           "json",
		"bindings.1.json.n":                         "1",
		"bindings.1.json.s":                         "word",
		"bindings.10.name":                          "K",
		"bindings.2.simple.limit":                   "100",
		"bindings.2.simple.period":                  "60",
		"logpush":                                   "true",
		"limits.cpu_ms":                             "50",
		"observability.enabled":                     "false",
		"observability.head_sampling_rate":          "0.25",
		"migrations.steps.0.renamed_classes.0.from": "A",
		"annotations.workers/message":               "m.sg",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"annotations":{"workers/message":"m.sg"},"bindings":[{"name":"A","text":"true","type":"plain_text"},{"json":{"n":1,"s":"word"},"name":"J","type":"json"},{"simple":{"limit":100,"period":60}},{"name":"K"}],"limits":{"cpu_ms":50},"logpush":true,"main_module":"index.js","migrations":{"steps":[{"renamed_classes":[{"from":"A"}]}]},"observability":{"enabled":false,"head_sampling_rate":0.25}}`
	if string(got) != want {
		t.Fatalf("unflatten:\n got %s\nwant %s", got, want)
	}
}

// TestWorkersInheritBindings covers inherit bindings and bindings_inherit=strict.
func TestWorkersInheritBindings(t *testing.T) {
	e := newWorkersEnv(t)
	mod := wRawPart{name: "files", filename: "index.js", contentType: "application/javascript+module", body: wCode}
	status, body := e.rawMultipart("PUT", wScriptPath("w"), mod,
		wRawPart{name: "metadata", body: `{"main_module":"index.js","bindings":[{"type":"secret_text","name":"OLD","text":"v"}]}`})
	if status != 200 {
		t.Fatalf("upload: %d %s", status, body)
	}
	status, body = e.rawMultipart("PUT", wScriptPath("w")+"?bindings_inherit=strict", mod,
		wRawPart{name: "metadata", body: `{"main_module":"index.js","bindings":[{"type":"inherit","name":"MISSING"}]}`})
	if status != 400 || !strings.Contains(string(body), `"code":10057`) {
		t.Fatalf("strict inherit: %d %s", status, body)
	}
	status, body = e.rawMultipart("PUT", wScriptPath("w"), mod,
		wRawPart{name: "metadata", body: `{"main_module":"index.js","bindings":[{"type":"inherit","name":"NEW","old_name":"OLD"},{"type":"inherit","name":"MISSING"}]}`})
	if status != 200 {
		t.Fatalf("inherit: %d %s", status, body)
	}
	bs, _ := e.srv.ScriptBindings("w")
	if len(bs) != 1 || bs[0]["name"] != "NEW" || bs[0]["type"] != "secret_text" || bs[0]["text"] != "v" {
		t.Fatalf("bindings = %v", bs)
	}
	// PATCH settings also accepts a JSON settings part.
	status, body = e.rawMultipart("PATCH", wScriptPath("w")+"/settings",
		wRawPart{name: "settings", contentType: "application/json", body: `{"compatibility_date":"2025-05-05","bindings":[{"type":"secret_text","name":"NEW"},{"type":"plain_text","name":"P","text":"p"}]}`})
	if status != 200 || !strings.Contains(string(body), `"compatibility_date":"2025-05-05"`) || strings.Contains(string(body), `"v"`) {
		t.Fatalf("settings: %d %s", status, body)
	}
	status, body = e.rawMultipart("PATCH", wScriptPath("w")+"/settings",
		wRawPart{name: "settings", body: `{"bindings":[{"type":"secret_text","name":"UNKNOWN"}]}`})
	if status != 400 || !strings.Contains(string(body), `"code":10021`) {
		t.Fatalf("secret without text: %d %s", status, body)
	}
}
