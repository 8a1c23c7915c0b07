package registry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestKeyRoundTrip(t *testing.T) {
	for _, tt := range []struct{ name, version string }{
		{"UserService", "1.2.0"},
		{"a", "0.0.1-rc.1+build.7"},
		{"Billing.v2_api-x", "10.0.0"},
	} {
		key := Key(tt.name, tt.version)
		if want := "service:" + tt.name + ":" + tt.version; key != want {
			t.Errorf("Key(%q, %q) = %q, want %q", tt.name, tt.version, key, want)
		}
		name, version, ok := ParseKey(key)
		if !ok || name != tt.name || version != tt.version {
			t.Errorf("ParseKey(%q) = %q, %q, %v", key, name, version, ok)
		}
	}
	if got := Key("UserService", "1.2.0"); got != "service:UserService:1.2.0" {
		t.Errorf("Key = %q", got)
	}
	for _, key := range []string{
		"", "service:", "service:UserService", "service:UserService:", "services:UserService:1.0.0",
		"Service:UserService:1.0.0", "service::1.0.0", "service:1User:1.0.0", "service:User Service:1.0.0",
		"service:UserService:1.0.0:extra", "UserService:1.0.0",
	} {
		if name, version, ok := ParseKey(key); ok {
			t.Errorf("ParseKey(%q) = %q, %q, true; want not ok", key, name, version)
		}
	}
}

func TestDefaultTypeID(t *testing.T) {
	if got := DefaultTypeID("UserService"); got != "https://services.do/UserService" {
		t.Errorf("DefaultTypeID = %q", got)
	}
}

func TestCheckName(t *testing.T) {
	for _, name := range []string{"a", "UserService", "user-service", "user_service", "Users.v2", "A" + strings.Repeat("b", 62)} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "1abc", "-abc", "_abc", ".abc", "a b", "a:b", "a/b", "ä", "A" + strings.Repeat("b", 63), "a\n"} {
		err := CheckName(name)
		want := fmt.Sprintf(`%q is not a valid registry name: use a letter followed by up to 62 letters, digits, '_', '.' or '-' (e.g. "UserService")`, name)
		if err == nil || err.Error() != want {
			t.Errorf("CheckName(%q) = %v, want %s", name, err, want)
		}
	}
	if err := CheckName("x y"); err == nil || err.Error() != `"x y" is not a valid registry name: use a letter followed by up to 62 letters, digits, '_', '.' or '-' (e.g. "UserService")` {
		t.Errorf("CheckName message: %v", err)
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, u := range []string{
		"https://users.example.com", "http://localhost:8787", "https://users.example.com/api/v1?x=1&y=2#frag",
		"https://127.0.0.1", "https://[::1]:8443/", "https://user@host.example",
	} {
		if err := CheckEndpoint(u); err != nil {
			t.Errorf("CheckEndpoint(%q): %v", u, err)
		}
	}
	for _, u := range []string{
		"", "users.example.com", "/api", "ftp://example.com", "https://", "https:///path", "https://:8080",
		"HTTPS://example.com", "https:example.com", "mailto:a@b.c", "https://exa mple.com", " https://example.com",
		"https://example.com/a b", "//example.com",
	} {
		err := CheckEndpoint(u)
		want := fmt.Sprintf(`endpoint %q must be an absolute http(s) URL such as "https://users.example.com"`, u)
		if err == nil || err.Error() != want {
			t.Errorf("CheckEndpoint(%q) = %v, want %s", u, err, want)
		}
	}
}

func fullEntry() Entry {
	return Entry{
		ID:            "https://services.do/UserService",
		Type:          "Service",
		SchemaVersion: 1,
		Name:          "UserService",
		Version:       "1.2.0",
		Service:       "users-worker",
		Endpoint:      "https://users.example.com/api?a=1&b=2",
		Schema:        "https://schemas.example.com/users.json",
		Dependencies:  []string{"AuthService", "Billing"},
		Health:        &Health{Path: "/health", ExpectStatus: 200, Timeout: "5s"},
		Tags:          []string{"core", "users"},
		Metadata:      map[string]string{"team": "identity", "tier": "1"},
		Details:       map[string]string{"runbook": "https://wiki.example.com/users <oncall>"},
		Description:   "Users & accounts",
		UpdatedAt:     "2024-05-01T12:00:00Z",
	}
}

func minimalEntry() Entry {
	return Entry{Name: "Minimal", Version: "0.1.0", UpdatedAt: "2024-05-01T12:00:00.123456789+02:00"}
}

func TestEncodeStableOrder(t *testing.T) {
	b, err := fullEntry().Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"$id":"https://services.do/UserService","$type":"Service","$schema_version":1,"name":"UserService","version":"1.2.0",` +
		`"service":"users-worker","endpoint":"https://users.example.com/api?a=1&b=2","schema":"https://schemas.example.com/users.json",` +
		`"dependencies":["AuthService","Billing"],"health":{"path":"/health","expect_status":200,"timeout":"5s"},"tags":["core","users"],` +
		`"metadata":{"team":"identity","tier":"1"},"details":{"runbook":"https://wiki.example.com/users <oncall>"},` +
		`"description":"Users & accounts","updated_at":"2024-05-01T12:00:00Z"}`
	if string(b) != want {
		t.Errorf("Encode:\n got %s\nwant %s", b, want)
	}
	b2, _ := fullEntry().Encode()
	if string(b) != string(b2) {
		t.Errorf("Encode is not deterministic")
	}

	b, err = minimalEntry().Encode()
	if err != nil {
		t.Fatal(err)
	}
	want = `{"$id":"https://services.do/Minimal","$type":"Service","$schema_version":1,"name":"Minimal","version":"0.1.0","updated_at":"2024-05-01T12:00:00.123456789+02:00"}`
	if string(b) != want {
		t.Errorf("Encode(minimal):\n got %s\nwant %s", b, want)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for _, e := range []Entry{fullEntry(), minimalEntry()} {
		b, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode(%s): %v", b, err)
		}
		want := e.withDefaults()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip:\n got %#v\nwant %#v", got, want)
		}
		b2, err := got.Encode()
		if err != nil || string(b2) != string(b) {
			t.Errorf("re-encode differs: %s vs %s (%v)", b2, b, err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		mod  func(*Entry)
		want string
	}{
		{func(e *Entry) { e.Type = "Thing" }, `registry entry $type is "Thing", want "Service"`},
		{func(e *Entry) { e.SchemaVersion = 2 }, `registry entry $schema_version is 2, but this code writes version 1`},
		{func(e *Entry) { e.Name = "1bad" }, `"1bad" is not a valid registry name: use a letter followed by up to 62 letters, digits, '_', '.' or '-' (e.g. "UserService")`},
		{func(e *Entry) { e.ID = "not a uri" }, `registry entry $id "not a uri" must be an absolute URI such as "https://services.do/UserService"`},
		{func(e *Entry) { e.Version = "1.2" }, `"1.2" is not a semantic version: use MAJOR.MINOR.PATCH such as "1.2.0"`},
		{func(e *Entry) { e.Version = "v1.2.0" }, `registry entry version "v1.2.0" must be written as "1.2.0"`},
		{func(e *Entry) { e.Endpoint = "users.example.com" }, `endpoint "users.example.com" must be an absolute http(s) URL such as "https://users.example.com"`},
		{func(e *Entry) { e.Dependencies = []string{""} }, `registry entry dependencies must not contain empty strings`},
		{func(e *Entry) { e.Tags = []string{"a", ""} }, `registry entry tags must not contain empty strings`},
		{func(e *Entry) { e.Health.Path = "health" }, `health path "health" must start with "/" (e.g. "/health")`},
		{func(e *Entry) { e.Health.ExpectStatus = 99 }, `health expect_status 99 must be an HTTP status code between 100 and 599`},
		{func(e *Entry) { e.Health.ExpectStatus = 600 }, `health expect_status 600 must be an HTTP status code between 100 and 599`},
		{func(e *Entry) { e.Health.Timeout = "5 seconds" }, `health timeout "5 seconds" must be a duration such as "5s" or "500ms"`},
		{func(e *Entry) { e.UpdatedAt = "" }, `registry entry updated_at "" must be an RFC 3339 timestamp such as "2024-05-01T12:00:00Z"`},
		{func(e *Entry) { e.UpdatedAt = "2024-05-01 12:00:00" }, `registry entry updated_at "2024-05-01 12:00:00" must be an RFC 3339 timestamp such as "2024-05-01T12:00:00Z"`},
		{func(e *Entry) { e.UpdatedAt = "2024-13-01T12:00:00Z" }, `registry entry updated_at "2024-13-01T12:00:00Z" must be an RFC 3339 timestamp such as "2024-05-01T12:00:00Z"`},
	}
	for _, tt := range tests {
		e := fullEntry()
		tt.mod(&e)
		_, err := e.Encode()
		if err == nil || err.Error() != tt.want {
			t.Errorf("Encode error:\n got %v\nwant %s", err, tt.want)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`{"$id":"https://services.do/A","$type":"Service","$schema_version":2,"name":"A","version":"1.0.0","updated_at":"2024-05-01T12:00:00Z","new_field":{"x":1}}`,
			`registry entry has $schema_version 2, but this code only understands up to version 1: upgrade the provider (or Worker) reading it`},
		{`{"$schema_version":7,"name":42}`,
			`registry entry has $schema_version 7, but this code only understands up to version 1: upgrade the provider (or Worker) reading it`},
		{`{"$type":"Service","name":"A","version":"1.0.0"}`, `registry entry has no $schema_version: it was not written by the registry`},
		{`{"$schema_version":0,"$type":"Service"}`, `registry entry has an invalid $schema_version 0`},
		{`{"$schema_version":1.5,"$type":"Service"}`, `registry entry has an invalid $schema_version 1.5`},
		{`{"$schema_version":1,"$type":"Other","name":"A","version":"1.0.0"}`, `registry entry $type is "Other", want "Service"`},
		{`{"$schema_version":1,"name":"A","version":"1.0.0"}`, `registry entry $type is <missing>, want "Service"`},
		{`{"$schema_version":1,"$type":"Service","version":"1.0.0"}`, `registry entry is missing its name or version`},
	}
	for _, tt := range tests {
		_, err := Decode([]byte(tt.raw))
		if err == nil || err.Error() != tt.want {
			t.Errorf("Decode(%s):\n got %v\nwant %s", tt.raw, err, tt.want)
		}
	}
	if _, err := Decode([]byte(`not json`)); err == nil || !strings.HasPrefix(err.Error(), "registry entry is not valid JSON") {
		t.Errorf("Decode(not json) = %v", err)
	}
	if _, err := Decode([]byte(`{"$schema_version":1,"$type":"Service","name":"A","version":"1.0.0","tags":"x"}`)); err == nil ||
		!strings.HasPrefix(err.Error(), "registry entry does not match schema version 1") {
		t.Errorf("Decode(bad tags) = %v", err)
	}
	// Unknown fields of a known version are ignored.
	e, err := Decode([]byte(`{"$id":"https://services.do/A","$type":"Service","$schema_version":1,"name":"A","version":"1.0.0","updated_at":"2024-05-01T12:00:00Z","extra":true}`))
	if err != nil || e.Name != "A" {
		t.Errorf("Decode(extra field) = %#v, %v", e, err)
	}
}

func TestSummary(t *testing.T) {
	e := fullEntry()
	s := e.Summary()
	want := Summary{
		ID: e.ID, Type: "Service", Name: "UserService", Version: "1.2.0", Service: "users-worker",
		Endpoint: e.Endpoint, Schema: e.Schema, Tags: []string{"core", "users"},
		Metadata: map[string]string{"team": "identity", "tier": "1"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("Summary = %#v", s)
	}
	s.Tags[0] = "changed"
	s.Metadata["team"] = "changed"
	if e.Tags[0] != "core" || e.Metadata["team"] != "identity" {
		t.Errorf("Summary shares slices or maps with the entry")
	}
	b, err := EncodeSummary(e.Summary())
	if err != nil {
		t.Fatal(err)
	}
	wantJSON := `{"$id":"https://services.do/UserService","$type":"Service","name":"UserService","version":"1.2.0","service":"users-worker",` +
		`"endpoint":"https://users.example.com/api?a=1&b=2","schema":"https://schemas.example.com/users.json","tags":["core","users"],` +
		`"metadata":{"team":"identity","tier":"1"}}`
	if string(b) != wantJSON {
		t.Errorf("EncodeSummary:\n got %s\nwant %s", b, wantJSON)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, e.Summary()) {
		t.Errorf("summary round trip: %#v, %v", back, err)
	}
	// Defaults apply to the summary too.
	if s := minimalEntry().Summary(); s.ID != "https://services.do/Minimal" || s.Type != "Service" {
		t.Errorf("minimal Summary = %#v", s)
	}
}

func TestEncodeSummaryLimit(t *testing.T) {
	base := Summary{ID: "https://services.do/A", Type: "Service", Name: "A", Version: "1.0.0"}
	// A summary without a health status is measured with room for the largest one.
	reserved := func(s Summary) int {
		s.HealthStatus = &MaxHealthSummary
		return len(mustJSON(t, s))
	}
	if r := reserved(base) - len(mustJSON(t, base)); r != len(`,"health_status":{"status":"unhealthy","last_check":"2006-01-02T15:04:05.000Z"}`) {
		t.Fatalf("reserve = %d bytes", r)
	}
	baseLen := reserved(base)

	// Exactly at the limit (with the reserve) is fine.
	s := base
	s.Metadata = map[string]string{"k": strings.Repeat("v", MaxMetadataBytes-baseLen-len(`,"metadata":{"k":""}`))}
	b, err := EncodeSummary(s)
	if err != nil || reserved(s) != MaxMetadataBytes || string(b) != string(mustJSON(t, s)) {
		t.Fatalf("at limit: %d bytes, %v", len(b), err)
	}
	// The same summary carrying a real health status is measured as it is.
	withHealth := s
	withHealth.HealthStatus = &HealthSummary{Status: HealthHealthy, LastCheck: "2026-08-01T12:00:00.000Z"}
	if b, err := EncodeSummary(withHealth); err != nil || len(b) != MaxMetadataBytes-2 {
		t.Fatalf("at limit with a health status: %d bytes, %v", len(b), err)
	}
	s.Metadata["k"] += "v"
	if _, err := EncodeSummary(s); err == nil ||
		err.Error() != fmt.Sprintf("registry entry metadata is 1025 bytes with room for the monitor's health status, over Workers KV's 1024-byte metadata limit: move the largest metadata fields (k: %d bytes) into details, which is kept in the value only", len(s.Metadata["k"])+6) {
		t.Errorf("just over limit: %v", err)
	}
	withHealth.Metadata = map[string]string{"k": s.Metadata["k"] + "vv"}
	if _, err := EncodeSummary(withHealth); err == nil ||
		err.Error() != fmt.Sprintf("registry entry metadata is 1025 bytes, over Workers KV's 1024-byte metadata limit: move the largest metadata fields (k: %d bytes) into details, which is kept in the value only", len(withHealth.Metadata["k"])+6) {
		t.Errorf("just over limit with a health status: %v", err)
	}

	// a: 400 bytes, b: 300 bytes, c: 250 bytes, d: 10 bytes ("key":"value" as serialized).
	s = base
	s.Metadata = map[string]string{
		"a": strings.Repeat("x", 400-6),
		"b": strings.Repeat("y", 300-6),
		"c": strings.Repeat("z", 250-6),
		"d": strings.Repeat("w", 10-6),
	}
	total := reserved(s)
	if total <= MaxMetadataBytes {
		t.Fatalf("test summary is only %d bytes", total)
	}
	_, err = EncodeSummary(s)
	want := fmt.Sprintf("registry entry metadata is %d bytes with room for the monitor's health status, over Workers KV's 1024-byte metadata limit: move the largest metadata fields (a: 400 bytes) into details, which is kept in the value only", total)
	if err == nil || err.Error() != want {
		t.Errorf("over limit:\n got %v\nwant %s", err, want)
	}

	// Needs two fields moved.
	s.Metadata["e"] = strings.Repeat("q", 500-6)
	s.Metadata["b"] = strings.Repeat("y", 350-6)
	total = reserved(s)
	_, err = EncodeSummary(s)
	want = fmt.Sprintf("registry entry metadata is %d bytes with room for the monitor's health status, over Workers KV's 1024-byte metadata limit: move the largest metadata fields (e: 500 bytes, a: 400 bytes) into details, which is kept in the value only", total)
	if err == nil || err.Error() != want {
		t.Errorf("over limit (two fields):\n got %v\nwant %s", err, want)
	}

	// Metadata alone can't fix it.
	s = base
	s.Tags = []string{strings.Repeat("t", 1100)}
	s.Metadata = map[string]string{"team": "x"}
	total = reserved(s)
	_, err = EncodeSummary(s)
	want = fmt.Sprintf("registry entry metadata is %d bytes with room for the monitor's health status, over Workers KV's 1024-byte metadata limit: move the metadata fields (team: 10 bytes) into details, which is kept in the value only, and shorten the tags, endpoint or schema", total)
	if err == nil || err.Error() != want {
		t.Errorf("over limit (tags):\n got %v\nwant %s", err, want)
	}
	s.Metadata = nil
	_, err = EncodeSummary(s)
	want = fmt.Sprintf("registry entry metadata is %d bytes with room for the monitor's health status, over Workers KV's 1024-byte metadata limit: shorten the tags, endpoint or schema", total-len(`,"metadata":{"team":"x"}`))
	if err == nil || err.Error() != want {
		t.Errorf("over limit (no metadata):\n got %v\nwant %s", err, want)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
