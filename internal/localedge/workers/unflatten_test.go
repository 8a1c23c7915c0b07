package workers

import (
	"encoding/json"
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
