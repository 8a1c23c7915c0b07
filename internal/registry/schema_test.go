package registry

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// The tests in this file keep entry.v1.schema.json and the Go code from
// drifting apart: every document Encode produces must validate against the
// schema, and the schema must list exactly the fields of Entry and Health.

// annotations are keywords the checker may ignore: they don't constrain values.
var annotations = map[string]bool{
	"$schema": true, "$id": true, "$comment": true, "title": true,
	"description": true, "examples": true, "format": true,
}

// validators are the keywords the checker implements.
var validators = map[string]bool{
	"type": true, "required": true, "properties": true, "additionalProperties": true,
	"pattern": true, "const": true, "items": true, "enum": true,
	"minLength": true, "maxLength": true, "minimum": true, "maximum": true,
}

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(EntrySchema, &s); err != nil {
		t.Fatalf("entry.v1.schema.json: %v", err)
	}
	return s
}

// checkVocabulary fails on any keyword the checker would silently ignore.
func checkVocabulary(t *testing.T, s map[string]any, path string) {
	t.Helper()
	for k, v := range s {
		switch {
		case annotations[k]:
		case !validators[k]:
			t.Errorf("%s: keyword %q is not supported by the test's schema checker", path, k)
		case k == "properties":
			for name, sub := range v.(map[string]any) {
				checkVocabulary(t, sub.(map[string]any), path+"/properties/"+name)
			}
		case k == "items":
			checkVocabulary(t, v.(map[string]any), path+"/items")
		case k == "additionalProperties":
			if sub, ok := v.(map[string]any); ok {
				checkVocabulary(t, sub, path+"/additionalProperties")
			}
		case k == "pattern":
			if _, err := regexp.Compile(v.(string)); err != nil {
				t.Errorf("%s: pattern: %v", path, err)
			}
		}
	}
}

// validate checks doc (decoded with UseNumber) against schema s and returns
// the violations found.
func validate(s map[string]any, doc any, path string) []string {
	var errs []string
	fail := func(format string, args ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, args...))
	}
	if typ, ok := s["type"].(string); ok && !hasType(doc, typ) {
		fail("is %T, want %s", doc, typ)
		return errs
	}
	if c, ok := s["const"]; ok && !jsonEqual(doc, c) {
		fail("is %v, want const %v", doc, c)
	}
	if enum, ok := s["enum"].([]any); ok {
		found := false
		for _, e := range enum {
			found = found || jsonEqual(doc, e)
		}
		if !found {
			fail("%v is not one of %v", doc, enum)
		}
	}
	switch d := doc.(type) {
	case string:
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(d) {
			fail("%q does not match %s", d, p)
		}
		if n, ok := s["minLength"].(float64); ok && utf8.RuneCountInString(d) < int(n) {
			fail("%q is shorter than %v", d, n)
		}
		if n, ok := s["maxLength"].(float64); ok && utf8.RuneCountInString(d) > int(n) {
			fail("is longer than %v", n)
		}
	case json.Number:
		f, _ := d.Float64()
		if m, ok := s["minimum"].(float64); ok && f < m {
			fail("%v is below %v", d, m)
		}
		if m, ok := s["maximum"].(float64); ok && f > m {
			fail("%v is above %v", d, m)
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, item := range d {
				errs = append(errs, validate(items, item, fmt.Sprintf("%s/%d", path, i))...)
			}
		}
	case map[string]any:
		for _, r := range asSlice(s["required"]) {
			if _, ok := d[r.(string)]; !ok {
				fail("missing required property %q", r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		keys := make([]string, 0, len(d))
		for k := range d {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if sub, ok := props[k]; ok {
				errs = append(errs, validate(sub.(map[string]any), d[k], path+"/"+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					fail("additional property %q is not allowed", k)
				}
			case map[string]any:
				errs = append(errs, validate(ap, d[k], path+"/"+k)...)
			}
		}
	}
	return errs
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

func hasType(doc any, typ string) bool {
	switch typ {
	case "object":
		_, ok := doc.(map[string]any)
		return ok
	case "array":
		_, ok := doc.([]any)
		return ok
	case "string":
		_, ok := doc.(string)
		return ok
	case "boolean":
		_, ok := doc.(bool)
		return ok
	case "null":
		return doc == nil
	case "number":
		_, ok := doc.(json.Number)
		return ok
	case "integer":
		n, ok := doc.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	panic("unknown type " + typ)
}

func jsonEqual(a, b any) bool {
	ab, _ := json.Marshal(a)
	bb, _ := json.Marshal(b)
	return string(ab) == string(bb)
}

func decodeDoc(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSchemaHeader(t *testing.T) {
	s := loadSchema(t)
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", s["$schema"])
	}
	if s["$id"] != "https://services.do/schemas/registry-entry.v1.json" {
		t.Errorf("$id = %v", s["$id"])
	}
	checkVocabulary(t, s, "#")
	props := s["properties"].(map[string]any)
	if c := props["$schema_version"].(map[string]any)["const"]; c != float64(SchemaVersion) {
		t.Errorf("$schema_version const = %v, want %d", c, SchemaVersion)
	}
	if c := props["$type"].(map[string]any)["const"]; c != EntryType {
		t.Errorf("$type const = %v", c)
	}
	if s["additionalProperties"] != false {
		t.Errorf("top-level additionalProperties must be false")
	}
}

// TestSchemaMatchesStructs: the schema's properties are exactly Entry's (and
// Health's and HealthStatus's) JSON fields, and "required" is exactly the fields without omitempty.
func TestSchemaMatchesStructs(t *testing.T) {
	s := loadSchema(t)
	check := func(where string, schema map[string]any, typ reflect.Type) {
		var fields, required []string
		for i := 0; i < typ.NumField(); i++ {
			name, opts, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			fields = append(fields, name)
			if !strings.Contains(opts, "omitempty") {
				required = append(required, name)
			}
		}
		var props, req []string
		for k := range schema["properties"].(map[string]any) {
			props = append(props, k)
		}
		for _, r := range asSlice(schema["required"]) {
			req = append(req, r.(string))
		}
		for _, l := range [][]string{fields, required, props, req} {
			sort.Strings(l)
		}
		if !reflect.DeepEqual(fields, props) {
			t.Errorf("%s: struct fields %v, schema properties %v", where, fields, props)
		}
		if !reflect.DeepEqual(required, req) {
			t.Errorf("%s: required struct fields %v, schema required %v", where, required, req)
		}
		for _, p := range props {
			if d, _ := schema["properties"].(map[string]any)[p].(map[string]any)["description"].(string); d == "" {
				t.Errorf("%s: property %q has no description", where, p)
			}
		}
	}
	check("entry", s, reflect.TypeOf(Entry{}))
	check("health", s["properties"].(map[string]any)["health"].(map[string]any), reflect.TypeOf(Health{}))
	check("health_status", s["properties"].(map[string]any)["health_status"].(map[string]any), reflect.TypeOf(HealthStatus{}))
}

func TestSchemaPatternsMatchCode(t *testing.T) {
	props := loadSchema(t)["properties"].(map[string]any)
	pattern := func(path ...string) string {
		m := props
		for _, p := range path[:len(path)-1] {
			m = m[p].(map[string]any)["properties"].(map[string]any)
		}
		return m[path[len(path)-1]].(map[string]any)["pattern"].(string)
	}
	for _, tt := range []struct {
		got, want string
	}{
		{pattern("name"), NamePattern.String()},
		{pattern("updated_at"), timestampPattern.String()},
		{pattern("health", "timeout"), durationPattern.String()},
		{pattern("$id"), absURIPattern.String()},
		{pattern("health_status", "last_check"), timestampPattern.String()},
	} {
		if tt.got != tt.want {
			t.Errorf("schema pattern %s, code uses %s", tt.got, tt.want)
		}
	}
	// The version pattern accepts exactly the canonical versions ParseVersion accepts.
	re := regexp.MustCompile(pattern("version"))
	for _, s := range []string{
		"1.2.0", "0.0.0", "1.0.0-alpha.1", "1.0.0-0A.is.legal", "1.0.0-x-y-z.--", "1.0.0+21AF26D3----117B344092BD",
		"1.0.0-rc.1+build.1", "v1.2.0", "1.2", "01.2.3", "1.2.3-01", "1.2.3-", "1.2.3+", "1.2.3-a..b", "1.2.3.4", "1.2.3-a_b",
	} {
		v, err := ParseVersion(s)
		want := err == nil && v.String() == s
		if got := re.MatchString(s); got != want {
			t.Errorf("schema version pattern matches %q = %v, code accepts = %v", s, got, want)
		}
	}
}

func TestEncodedEntriesValidate(t *testing.T) {
	s := loadSchema(t)
	entries := map[string]Entry{
		"full":    fullEntry(),
		"minimal": minimalEntry(),
	}
	e := fullEntry()
	e.Version = "2.0.0-rc.1+build.5"
	e.Health = &Health{Path: "/"}
	e.Metadata = map[string]string{"": ""}
	e.Details = map[string]string{}
	e.Tags = []string{}
	e.Endpoint = "http://localhost:8787"
	e.ID = "urn:services:users"
	e.UpdatedAt = "2024-05-01T12:00:00.5-07:00"
	entries["variant"] = e
	e = minimalEntry()
	e.Name = "A" + strings.Repeat("z", 62)
	e.Health = &Health{Path: "/healthz", ExpectStatus: 204, Timeout: "1m30.5s"}
	e.Description = "ünïcode \"quoted\" <html>"
	e.Dependencies = []string{"AuthService"}
	entries["long name"] = e
	for _, status := range []string{HealthHealthy, HealthDegraded, HealthUnhealthy} {
		e = fullEntry()
		e.HealthStatus = &HealthStatus{Status: status, LastCheck: "2026-08-01T12:00:00.000Z", LatencyMs: 12, ConsecutiveFailures: 2, Reason: "status 503, want 200", Monitor: "platform-monitor"}
		entries["health "+status] = e
	}
	e = minimalEntry()
	e.HealthStatus = &HealthStatus{Status: HealthHealthy, LastCheck: "2026-08-01T12:00:00Z"}
	entries["minimal health"] = e
	e = minimalEntry()
	e.HealthStatus = &HealthStatus{Status: HealthDegraded, LastCheck: "2026-08-01T12:00:00.000Z", Reason: strings.Repeat("é", MaxHealthReason)}
	entries["longest reason"] = e

	for name, e := range entries {
		b, err := e.Encode()
		if err != nil {
			t.Errorf("%s: Encode: %v", name, err)
			continue
		}
		if errs := validate(s, decodeDoc(t, b), "#"); len(errs) > 0 {
			t.Errorf("%s: %s does not validate:\n%s", name, b, strings.Join(errs, "\n"))
		}
	}
}

// TestSchemaRejects makes sure the checker (and the schema) are not
// vacuous: broken documents must fail.
func TestSchemaRejects(t *testing.T) {
	s := loadSchema(t)
	withStatus := fullEntry()
	withStatus.HealthStatus = &HealthStatus{Status: HealthUnhealthy, LastCheck: "2026-08-01T12:00:00.000Z", LatencyMs: 5000, ConsecutiveFailures: 3, Reason: "timed out after 5000 ms"}
	good, err := withStatus.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		mod  func(m map[string]any)
		want string
	}{
		{"missing name", func(m map[string]any) { delete(m, "name") }, `#: missing required property "name"`},
		{"missing updated_at", func(m map[string]any) { delete(m, "updated_at") }, `#: missing required property "updated_at"`},
		{"extra field", func(m map[string]any) { m["owner"] = "x" }, `#: additional property "owner" is not allowed`},
		{"wrong $type", func(m map[string]any) { m["$type"] = "Thing" }, `#/$type: is Thing, want const Service`},
		{"future version", func(m map[string]any) { m["$schema_version"] = json.Number("2") }, `#/$schema_version: is 2, want const 1`},
		{"fractional version", func(m map[string]any) { m["$schema_version"] = json.Number("1.5") }, `#/$schema_version: is json.Number, want integer`},
		{"bad name", func(m map[string]any) { m["name"] = "1bad" }, `#/name: "1bad" does not match ^[A-Za-z][A-Za-z0-9_.-]{0,62}$`},
		{"v version", func(m map[string]any) { m["version"] = "v1.2.0" }, `#/version: "v1.2.0" does not match`},
		{"bad endpoint", func(m map[string]any) { m["endpoint"] = "ftp://x" }, `#/endpoint: "ftp://x" does not match`},
		{"empty service", func(m map[string]any) { m["service"] = "" }, `#/service: "" is shorter than 1`},
		{"tag not string", func(m map[string]any) { m["tags"] = []any{"a", json.Number("1")} }, `#/tags/1: is json.Number, want string`},
		{"metadata not string", func(m map[string]any) { m["metadata"] = map[string]any{"n": json.Number("1")} }, `#/metadata/n: is json.Number, want string`},
		{"health extra", func(m map[string]any) { m["health"].(map[string]any)["method"] = "GET" }, `#/health: additional property "method" is not allowed`},
		{"health status", func(m map[string]any) { m["health"].(map[string]any)["expect_status"] = json.Number("600") }, `#/health/expect_status: 600 is above 599`},
		{"health path", func(m map[string]any) { m["health"].(map[string]any)["path"] = "health" }, `#/health/path: "health" does not match ^/`},
		{"updated_at", func(m map[string]any) { m["updated_at"] = "yesterday" }, `#/updated_at: "yesterday" does not match`},
		{"health_status state", func(m map[string]any) { m["health_status"].(map[string]any)["status"] = "down" }, `#/health_status/status: down is not one of [healthy degraded unhealthy]`},
		{"health_status latency", func(m map[string]any) { m["health_status"].(map[string]any)["latency_ms"] = json.Number("-1") }, `#/health_status/latency_ms: -1 is below 0`},
		{"health_status fractional failures", func(m map[string]any) {
			m["health_status"].(map[string]any)["consecutive_failures"] = json.Number("1.5")
		}, `#/health_status/consecutive_failures: is json.Number, want integer`},
		{"health_status missing last_check", func(m map[string]any) { delete(m["health_status"].(map[string]any), "last_check") }, `#/health_status: missing required property "last_check"`},
		{"health_status extra", func(m map[string]any) { m["health_status"].(map[string]any)["latency"] = "fast" }, `#/health_status: additional property "latency" is not allowed`},
		{"health_status reason too long", func(m map[string]any) { m["health_status"].(map[string]any)["reason"] = strings.Repeat("x", 257) }, `#/health_status/reason: is longer than 256`},
		{"health_status last_check", func(m map[string]any) { m["health_status"].(map[string]any)["last_check"] = "now" }, `#/health_status/last_check: "now" does not match`},
	}
	for _, tt := range tests {
		doc := decodeDoc(t, good).(map[string]any)
		tt.mod(doc)
		errs := validate(s, doc, "#")
		if len(errs) != 1 || !strings.HasPrefix(errs[0], tt.want) {
			t.Errorf("%s: errors %q, want one starting with %q", tt.name, errs, tt.want)
		}
	}
}
