package registry

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func statusEntry() Entry {
	e := fullEntry()
	e.HealthStatus = &HealthStatus{
		Status: HealthUnhealthy, LastCheck: "2026-08-01T12:03:00.000Z", LatencyMs: 5002,
		ConsecutiveFailures: 3, Reason: "timed out after 5000 ms", Monitor: "platform-monitor",
	}
	return e
}

func TestHealthStatusEncode(t *testing.T) {
	b, err := statusEntry().Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := `"health":{"path":"/health","expect_status":200,"timeout":"5s"},` +
		`"health_status":{"status":"unhealthy","last_check":"2026-08-01T12:03:00.000Z","latency_ms":5002,"consecutive_failures":3,"reason":"timed out after 5000 ms","monitor":"platform-monitor"},` +
		`"tags":`
	if !strings.Contains(string(b), want) {
		t.Errorf("Encode:\n%s\nwant it to contain\n%s", b, want)
	}
	got, err := Decode(b)
	if err != nil || !reflect.DeepEqual(got, statusEntry()) {
		t.Errorf("round trip: %#v, %v", got, err)
	}
	// Zero counts are written (they are required), an empty reason is not.
	e := minimalEntry()
	e.HealthStatus = &HealthStatus{Status: HealthHealthy, LastCheck: "2026-08-01T12:00:00.000Z"}
	b, err = e.Encode()
	if err != nil || !strings.Contains(string(b), `"health_status":{"status":"healthy","last_check":"2026-08-01T12:00:00.000Z","latency_ms":0,"consecutive_failures":0}`) {
		t.Errorf("Encode(healthy) = %s, %v", b, err)
	}
}

func TestHealthStatusErrors(t *testing.T) {
	for _, tt := range []struct {
		mod  func(*HealthStatus)
		want string
	}{
		{func(h *HealthStatus) { h.Status = "" }, `health_status status "" must be "healthy", "degraded" or "unhealthy"`},
		{func(h *HealthStatus) { h.Status = "Healthy" }, `health_status status "Healthy" must be "healthy", "degraded" or "unhealthy"`},
		{func(h *HealthStatus) { h.LastCheck = "" }, `health_status last_check "" must be an RFC 3339 timestamp such as "2026-08-01T12:00:00.000Z"`},
		{func(h *HealthStatus) { h.LastCheck = "2026-08-01 12:00:00" }, `health_status last_check "2026-08-01 12:00:00" must be an RFC 3339 timestamp such as "2026-08-01T12:00:00.000Z"`},
		{func(h *HealthStatus) { h.LastCheck = "2026-02-30T12:00:00Z" }, `health_status last_check "2026-02-30T12:00:00Z" must be an RFC 3339 timestamp such as "2026-08-01T12:00:00.000Z"`},
		{func(h *HealthStatus) { h.LatencyMs = -1 }, `health_status latency_ms -1 must not be negative`},
		{func(h *HealthStatus) { h.ConsecutiveFailures = -2 }, `health_status consecutive_failures -2 must not be negative`},
		{func(h *HealthStatus) { h.Reason = strings.Repeat("é", MaxHealthReason+1) }, `health_status reason is 257 characters, longer than 256`},
	} {
		e := statusEntry()
		tt.mod(e.HealthStatus)
		if _, err := e.Encode(); err == nil || err.Error() != tt.want {
			t.Errorf("Encode error:\n got %v\nwant %s", err, tt.want)
		}
	}
	e := statusEntry()
	e.HealthStatus.Reason = strings.Repeat("é", MaxHealthReason)
	if _, err := e.Encode(); err != nil {
		t.Errorf("a reason of exactly %d characters: %v", MaxHealthReason, err)
	}
}

func TestSummaryHealthStatus(t *testing.T) {
	s := statusEntry().Summary()
	if s.HealthStatus == nil || *s.HealthStatus != (HealthSummary{Status: HealthUnhealthy, LastCheck: "2026-08-01T12:03:00.000Z"}) {
		t.Fatalf("Summary().HealthStatus = %+v", s.HealthStatus)
	}
	b, err := EncodeSummary(s)
	if err != nil || !strings.HasSuffix(string(b), `"metadata":{"team":"identity","tier":"1"},"health_status":{"status":"unhealthy","last_check":"2026-08-01T12:03:00.000Z"}}`) {
		t.Errorf("EncodeSummary = %s, %v", b, err)
	}
	if fullEntry().Summary().HealthStatus != nil {
		t.Errorf("an entry without a status has a summary with one")
	}
}

func TestSummaryUnhealthy(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 10, 0, 0, time.UTC)
	with := func(status, at string) Summary {
		return Summary{Name: "A", HealthStatus: &HealthSummary{Status: status, LastCheck: at}}
	}
	for _, tt := range []struct {
		name   string
		s      Summary
		maxAge time.Duration
		want   bool
	}{
		{"no status", Summary{Name: "A"}, 0, false},
		{"healthy", with(HealthHealthy, "2026-08-01T12:09:00.000Z"), 0, false},
		{"degraded is not skipped", with(HealthDegraded, "2026-08-01T12:09:00.000Z"), 0, false},
		{"unhealthy, any age", with(HealthUnhealthy, "2020-01-01T00:00:00.000Z"), 0, true},
		{"unhealthy and fresh", with(HealthUnhealthy, "2026-08-01T12:05:00.000Z"), 5 * time.Minute, true},
		{"unhealthy but stale", with(HealthUnhealthy, "2026-08-01T12:04:59.999Z"), 5 * time.Minute, false},
		{"unhealthy with an unreadable time", with(HealthUnhealthy, "soon"), 5 * time.Minute, false},
	} {
		if got := tt.s.Unhealthy(now, tt.maxAge); got != tt.want {
			t.Errorf("%s: Unhealthy = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A v1 reader written before health_status existed decodes new documents unchanged, and new
// readers decode old documents with no status.
func TestHealthStatusBackwardCompatible(t *testing.T) {
	type healthV1 struct {
		Path         string `json:"path"`
		ExpectStatus int64  `json:"expect_status,omitempty"`
		Timeout      string `json:"timeout,omitempty"`
	}
	type entryBeforeHealthStatus struct {
		ID      string    `json:"$id"`
		Name    string    `json:"name"`
		Version string    `json:"version"`
		Health  *healthV1 `json:"health,omitempty"`
	}
	b, err := statusEntry().Encode()
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	var old entryBeforeHealthStatus
	if err := dec.Decode(&old); err != nil || old.Name != "UserService" || old.Health == nil || old.Health.Path != "/health" {
		t.Errorf("an older reader decodes %+v, %v", old, err)
	}
	var oldSummary struct {
		Name string            `json:"name"`
		Tags []string          `json:"tags"`
		Meta map[string]string `json:"metadata"`
	}
	sb, _ := EncodeSummary(statusEntry().Summary())
	if err := json.Unmarshal(sb, &oldSummary); err != nil || oldSummary.Name != "UserService" || len(oldSummary.Tags) != 2 {
		t.Errorf("an older reader decodes the summary as %+v, %v", oldSummary, err)
	}
	b, _ = fullEntry().Encode()
	if e, err := Decode(b); err != nil || e.HealthStatus != nil {
		t.Errorf("Decode(document without a status) = %+v, %v", e.HealthStatus, err)
	}
}

type healthVectors struct {
	Comment string `json:"comment"`
	Updates []struct {
		Name         string          `json:"name"`
		Value        string          `json:"value"`
		Metadata     json.RawMessage `json:"metadata"`
		HealthStatus HealthStatus    `json:"health_status"`
		WantValue    json.RawMessage `json:"want_value"`
		WantMetadata json.RawMessage `json:"want_metadata"`
	} `json:"updates"`
	Refusals []struct {
		Name        string `json:"name"`
		Value       string `json:"value"`
		Error       string `json:"error"`
		ErrorPrefix string `json:"error_prefix"`
	} `json:"refusals"`
}

func loadHealthVectors(t *testing.T) healthVectors {
	t.Helper()
	raw, err := os.ReadFile("testdata/health-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v healthVectors
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	if len(v.Updates) == 0 || len(v.Refusals) == 0 {
		t.Fatal("no vectors")
	}
	return v
}

func asMap(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return m
}

// TestHealthVectors checks the vectors the monitor Worker's tests replay: each update's
// result is a valid document whose only change is health_status, its metadata is the old one
// plus the health summary (and equals the Go summary whenever the old metadata did), and each
// refusal is a value Decode refuses with the same message.
func TestHealthVectors(t *testing.T) {
	schema := loadSchema(t)
	v := loadHealthVectors(t)
	for _, u := range v.Updates {
		// (A value with fields of a later revision is outside this schema, before and after.)
		if len(validate(schema, decodeDoc(t, []byte(u.Value)), "#")) > 0 {
			if !strings.Contains(u.Name, "does not know") {
				t.Errorf("%s: value does not validate", u.Name)
			}
		} else if errs := validate(schema, decodeDoc(t, u.WantValue), "#"); len(errs) > 0 {
			t.Errorf("%s: want_value does not validate: %v", u.Name, errs)
		}
		after, err := Decode(u.WantValue)
		if err != nil {
			t.Errorf("%s: Decode(want_value): %v", u.Name, err)
			continue
		}
		if after.HealthStatus == nil || *after.HealthStatus != u.HealthStatus {
			t.Errorf("%s: want_value health_status = %+v, want %+v", u.Name, after.HealthStatus, u.HealthStatus)
		}
		if _, err := after.Encode(); err != nil {
			t.Errorf("%s: want_value is not a document the registry writes: %v", u.Name, err)
		}
		before, after2 := asMap(t, []byte(u.Value)), asMap(t, u.WantValue)
		delete(before, "health_status")
		delete(after2, "health_status")
		if !reflect.DeepEqual(before, after2) {
			t.Errorf("%s: fields other than health_status changed:\n before %v\n after  %v", u.Name, before, after2)
		}

		beforeEntry, err := Decode([]byte(u.Value))
		if err != nil {
			t.Fatalf("%s: Decode(value): %v", u.Name, err)
		}
		wantMeta := asMap(t, u.WantMetadata)
		if wantMeta["health_status"] == nil {
			t.Errorf("%s: want_metadata has no health_status", u.Name)
		}
		hs := wantMeta["health_status"].(map[string]any)
		if hs["status"] != u.HealthStatus.Status || hs["last_check"] != u.HealthStatus.LastCheck || len(hs) != 2 {
			t.Errorf("%s: want_metadata health_status = %v", u.Name, hs)
		}
		delete(wantMeta, "health_status")
		goSummary, _ := EncodeSummary(beforeEntry.Summary())
		if string(u.Metadata) == "null" {
			if !reflect.DeepEqual(wantMeta, asMap(t, goSummary)) {
				t.Errorf("%s: derived metadata %v, Go summary %s", u.Name, wantMeta, goSummary)
			}
		} else {
			oldMeta := asMap(t, u.Metadata)
			delete(oldMeta, "health_status")
			if !reflect.DeepEqual(wantMeta, oldMeta) {
				t.Errorf("%s: metadata fields other than health_status changed:\n before %v\n after  %v", u.Name, oldMeta, wantMeta)
			}
			if reflect.DeepEqual(oldMeta, asMap(t, goSummary)) {
				afterSummary, _ := EncodeSummary(after.Summary())
				if !reflect.DeepEqual(asMap(t, u.WantMetadata), asMap(t, afterSummary)) {
					t.Errorf("%s: want_metadata %s, Go summary of want_value %s", u.Name, u.WantMetadata, afterSummary)
				}
			}
		}
	}
	for _, r := range v.Refusals {
		_, err := Decode([]byte(r.Value))
		switch {
		case err == nil:
			t.Errorf("%s: Decode accepted %s", r.Name, r.Value)
		case r.Error != "" && err.Error() != r.Error:
			t.Errorf("%s: Decode error %q, want %q", r.Name, err, r.Error)
		case r.Error == "" && !strings.HasPrefix(err.Error(), r.ErrorPrefix):
			t.Errorf("%s: Decode error %q, want prefix %q", r.Name, err, r.ErrorPrefix)
		}
	}
}
