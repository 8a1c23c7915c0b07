package workers_test

import (
	"strings"
	"testing"
)

// TestWorkersInheritBindings covers inherit bindings and bindings_inherit=strict.
func TestWorkersInheritBindings(t *testing.T) {
	e := newEnv(t)
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
	bs, _ := e.Server.ScriptBindings("w")
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
