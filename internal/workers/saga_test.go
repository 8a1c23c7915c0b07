package workers

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The shared vectors in saga/test/vectors are also run by the saga program's own tests
// (saga/test/vectors.test.mjs): passing both proves Go and the Worker agree.

func readVectors(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile("saga/test/vectors/" + name)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// sameJSON compares two values as JSON values.
func sameJSON(t *testing.T, got, want any) bool {
	t.Helper()
	norm := func(v any) any {
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var out any
		if err := json.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	return reflect.DeepEqual(norm(got), norm(want))
}

func TestSagaTemplateVectors(t *testing.T) {
	var file struct {
		Context SagaTemplateContext `json:"context"`
		Cases   []struct {
			Name     string          `json:"name"`
			Kind     string          `json:"kind"`
			Template json.RawMessage `json:"template"`
			Expect   json.RawMessage `json:"expect"`
			Error    *string         `json:"error"`
		} `json:"cases"`
	}
	readVectors(t, "templates.json", &file)
	if len(file.Cases) < 40 {
		t.Fatalf("only %d template cases", len(file.Cases))
	}
	for _, c := range file.Cases {
		t.Run(c.Name, func(t *testing.T) {
			var tmpl any
			if err := json.Unmarshal(c.Template, &tmpl); err != nil {
				t.Fatal(err)
			}
			var got any
			var err error
			if c.Kind == "path" {
				got, err = RenderSagaPath(tmpl.(string), file.Context)
			} else {
				got, err = RenderSagaBody(tmpl, file.Context)
			}
			if c.Error != nil {
				if err == nil || err.Error() != *c.Error {
					t.Fatalf("error:\n got  %v\n want %s", err, *c.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var want any
			if err := json.Unmarshal(c.Expect, &want); err != nil {
				t.Fatal(err)
			}
			if !sameJSON(t, got, want) {
				t.Fatalf("got %#v, want %#v", got, want)
			}
		})
	}
}

func TestSagaDurationAndDelayVectors(t *testing.T) {
	var file struct {
		Durations []struct {
			Text  string  `json:"text"`
			MS    int64   `json:"ms"`
			Error *string `json:"error"`
		} `json:"durations"`
		Delays []struct {
			Retry         SagaRetry `json:"retry"`
			AfterAttempts []int     `json:"after_attempts"`
			MS            []int64   `json:"ms"`
		} `json:"delays"`
	}
	readVectors(t, "durations.json", &file)
	for _, d := range file.Durations {
		got, err := ParseSagaDuration(d.Text)
		if d.Error != nil {
			if err == nil || err.Error() != *d.Error {
				t.Errorf("%q: error %v, want %s", d.Text, err, *d.Error)
			}
			continue
		}
		if err != nil || got != time.Duration(d.MS)*time.Millisecond {
			t.Errorf("%q: got %v, %v; want %dms", d.Text, got, err, d.MS)
		}
	}
	for _, d := range file.Delays {
		for i, n := range d.AfterAttempts {
			got, err := SagaRetryDelay(d.Retry, n)
			if err != nil || got != time.Duration(d.MS[i])*time.Millisecond {
				t.Errorf("%+v after attempt %d: got %v, %v; want %dms", d.Retry, n, got, err, d.MS[i])
			}
		}
	}
}

type definitionVectors struct {
	Valid []struct {
		Name       string          `json:"name"`
		Definition json.RawMessage `json:"definition"`
		Normalized json.RawMessage `json:"normalized"`
		Canonical  *string         `json:"canonical"`
		SHA256     string          `json:"sha256"`
	} `json:"valid"`
	Invalid []struct {
		Name       string          `json:"name"`
		Services   []string        `json:"services"`
		Definition json.RawMessage `json:"definition"`
		Errors     [][3]string     `json:"errors"`
	} `json:"invalid"`
}

func TestSagaDefinitionVectors(t *testing.T) {
	var file definitionVectors
	readVectors(t, "definitions.json", &file)
	for _, v := range file.Valid {
		t.Run(v.Name, func(t *testing.T) {
			d, err := ParseSagaDefinition(v.Definition)
			if err != nil {
				t.Fatal(err)
			}
			if errs := d.Validate(SagaValidateOptions{}); len(errs) != 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			n := d.Normalize()
			var got, want any
			data, _ := json.Marshal(n)
			_ = json.Unmarshal(data, &got)
			_ = json.Unmarshal(v.Normalized, &want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("normalized:\n got  %s\n want %s", data, v.Normalized)
			}
			if again := n.Normalize(); !reflect.DeepEqual(again, n) {
				t.Fatalf("normalizing twice changed it: %+v", again)
			}
			if v.Canonical != nil {
				c, err := n.CanonicalJSON()
				if err != nil || c != *v.Canonical {
					t.Fatalf("canonical:\n got  %s\n want %s", c, *v.Canonical)
				}
			}
			sum, err := d.SHA256()
			if err != nil || sum != v.SHA256 {
				t.Fatalf("sha256 %s, %v; want %s", sum, err, v.SHA256)
			}
			// Deploying the normalized JSON (as the resource will) keeps the hash.
			redeployed, err := ParseSagaDefinition(data)
			if err != nil {
				t.Fatal(err)
			}
			if sum2, _ := redeployed.SHA256(); sum2 != sum {
				t.Fatalf("the normalized definition hashes to %s, not %s", sum2, sum)
			}
		})
	}
	for _, v := range file.Invalid {
		t.Run(v.Name, func(t *testing.T) {
			d, err := ParseSagaDefinition(v.Definition)
			if err != nil {
				t.Fatal(err)
			}
			errs := d.Validate(SagaValidateOptions{Services: v.Services})
			got := make([][3]string, len(errs))
			for i, e := range errs {
				got[i] = [3]string{e.Field, e.Rule, e.Message}
				if e.Error() != e.Field+": "+e.Message {
					t.Errorf("Error() = %q", e.Error())
				}
			}
			if !reflect.DeepEqual(got, v.Errors) {
				gotJSON, _ := json.MarshalIndent(got, "", " ")
				t.Fatalf("errors:\n%s", gotJSON)
			}
		})
	}
}

func TestSagaIDAndKeyVectors(t *testing.T) {
	var file struct {
		ExecutionIDs []struct{ Key, ID string } `json:"execution_ids"`
		APIKeys      []struct {
			Key     string `json:"key"`
			SaltHex string `json:"salt_hex"`
			Secret  string `json:"secret"`
		} `json:"api_key_hashes"`
	}
	readVectors(t, "ids.json", &file)
	for _, v := range file.ExecutionIDs {
		if got := SagaExecutionID(v.Key); got != v.ID {
			t.Errorf("SagaExecutionID(%q) = %s, want %s", v.Key, got, v.ID)
		}
	}
	for _, v := range file.APIKeys {
		salt, _ := hex.DecodeString(v.SaltHex)
		if got, err := SagaAPIKeyHash(v.Key, salt); err != nil || got != v.Secret {
			t.Errorf("SagaAPIKeyHash(%q) = %s, %v; want %s", v.Key, got, err, v.Secret)
		}
	}
	if _, err := SagaAPIKeyHash("k", make([]byte, 15)); err == nil || !strings.Contains(err.Error(), "at least 16 bytes") {
		t.Errorf("short salt: %v", err)
	}
	if _, err := SagaAPIKeyHash("", make([]byte, 16)); err == nil {
		t.Error("empty key accepted")
	}
}

// validDefinition is a three-step saga used by the table tests below.
func validDefinition() SagaDefinition {
	return SagaDefinition{
		Name:      "checkout",
		PivotStep: "pay",
		Steps: []SagaStep{
			{Name: "order", Service: "ORDERS", Action: &SagaRequest{Method: "POST", Path: "/orders", Body: json.RawMessage(`{"id":"{{input.order_id}}"}`)},
				Compensate: &SagaCompensation{Method: "DELETE", Path: "/orders/{{steps.order.output.id}}"}},
			{Name: "pay", Service: "PAYMENTS", Action: &SagaRequest{Method: "POST", Path: "/charges", Body: json.RawMessage(`{"order":"{{steps.order.output.id}}"}`)},
				Compensate: &SagaCompensation{Method: "POST", Path: "/refunds"}},
			{Name: "ship", Service: "SHIPPING", Action: &SagaRequest{Method: "POST", Path: "/shipments/{{steps.pay.output.id}}"}},
		},
	}
}

func TestSagaValidateTable(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*SagaDefinition)
		services []string
		want     []SagaValidationError // Field, Path, Rule compared; Message must contain WantIn
		wantIn   []string
	}{
		{name: "valid", change: func(*SagaDefinition) {}},
		{
			name:   "duplicate step name",
			change: func(d *SagaDefinition) { d.Steps[2].Name = "order" },
			want:   []SagaValidationError{{Field: "steps[2].name", Path: []any{"steps", 2, "name"}, Rule: "unique"}},
			wantIn: []string{`step name "order" is already used by steps[0]: step names must be unique, rename one of them`},
		},
		{
			name: "reference to a later step",
			change: func(d *SagaDefinition) {
				d.Steps[0].Action.Body = json.RawMessage(`{"charge":"{{steps.pay.output.id}}"}`)
			},
			want:   []SagaValidationError{{Field: "steps[0].action.body.charge", Path: []any{"steps", 0, "action", "body"}, Rule: "later_step"}},
			wantIn: []string{`{{steps.pay.output.id}} refers to step "pay", which runs after "order"`, "reference an earlier step or reorder the steps"},
		},
		{
			name:   "unknown step reference",
			change: func(d *SagaDefinition) { d.Steps[2].Action.Path = "/shipments/{{steps.payment.output.id}}" },
			want:   []SagaValidationError{{Field: "steps[2].action.path", Path: []any{"steps", 2, "action", "path"}, Rule: "unknown_step"}},
			wantIn: []string{`refers to "payment", which is not a step of this saga (steps: order, pay, ship)`},
		},
		{
			name:   "template syntax",
			change: func(d *SagaDefinition) { d.Steps[1].Compensate.Path = "/refunds/{{steps.pay.output.id" },
			want:   []SagaValidationError{{Field: "steps[1].compensate.path", Path: []any{"steps", 1, "compensate", "path"}, Rule: "template_syntax"}},
			wantIn: []string{`unclosed template at "{{steps.pay.output.id": close it with "}}"`},
		},
		{
			name:   "pivot is not a step",
			change: func(d *SagaDefinition) { d.PivotStep = "charge" },
			want:   []SagaValidationError{{Field: "pivot_step", Path: []any{"pivot_step"}, Rule: "unknown_step"}},
			wantIn: []string{`"charge" is not a step of this saga (steps: order, pay, ship): name one of them`},
		},
		{
			name:   "attempts below one",
			change: func(d *SagaDefinition) { d.Steps[1].Retry = &SagaRetry{Attempts: new(0)} },
			want:   []SagaValidationError{{Field: "steps[1].retry.attempts", Path: []any{"steps", 1, "retry", "attempts"}, Rule: "attempts"}},
			wantIn: []string{"must be at least 1 (the first call counts as an attempt), got 0"},
		},
		{
			name:   "unsupported backoff",
			change: func(d *SagaDefinition) { d.Steps[0].Compensate.Retry = &SagaRetry{Backoff: "random"} },
			want:   []SagaValidationError{{Field: "steps[0].compensate.retry.backoff", Path: []any{"steps", 0, "compensate", "retry", "backoff"}, Rule: "backoff"}},
			wantIn: []string{`"random" is not supported: use constant, linear or exponential`},
		},
		{
			name:   "non-retryable status path",
			change: func(d *SagaDefinition) { d.Steps[0].Retry = &SagaRetry{NonRetryableStatuses: &[]int{404, 302}} },
			want:   []SagaValidationError{{Field: "steps[0].retry.non_retryable_statuses[1]", Path: []any{"steps", 0, "retry", "non_retryable_statuses", 1}, Rule: "status"}},
			wantIn: []string{"302 is not an error status"},
		},
		{
			name:     "service not bound",
			change:   func(*SagaDefinition) {},
			services: []string{"ORDERS", "PAYMENTS"},
			want:     []SagaValidationError{{Field: "steps[2].service", Path: []any{"steps", 2, "service"}, Rule: "unknown_service"}},
			wantIn:   []string{`service "SHIPPING" is not bound to the saga's Worker (bound: ORDERS, PAYMENTS)`},
		},
		{
			name:     "no services bound",
			change:   func(d *SagaDefinition) { d.Steps, d.PivotStep = d.Steps[:1], "" },
			services: []string{},
			want:     []SagaValidationError{{Field: "steps[0].service", Path: []any{"steps", 0, "service"}, Rule: "unknown_service"}},
			wantIn:   []string{"(bound: none)"},
		},
		{
			name:   "compensation after the pivot",
			change: func(d *SagaDefinition) { d.Steps[2].Compensate = &SagaCompensation{Method: "POST", Path: "/undo"} },
			want:   []SagaValidationError{{Field: "steps[2].compensate", Path: []any{"steps", 2, "compensate"}, Rule: "after_pivot"}},
			wantIn: []string{`remove compensate or move pivot_step`},
		},
		{
			name:   "missing action",
			change: func(d *SagaDefinition) { d.Steps[1].Action = nil },
			want:   []SagaValidationError{{Field: "steps[1].action", Path: []any{"steps", 1, "action"}, Rule: "required"}},
			wantIn: []string{"a step needs an action"},
		},
		{
			name:   "body that is not JSON",
			change: func(d *SagaDefinition) { d.Steps[1].Action.Body = json.RawMessage(`{"a":`) },
			want:   []SagaValidationError{{Field: "steps[1].action.body", Path: []any{"steps", 1, "action", "body"}, Rule: "json"}},
			wantIn: []string{"is not valid JSON"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDefinition()
			tt.change(&d)
			errs := d.Validate(SagaValidateOptions{Services: tt.services})
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tt.want), errs)
			}
			for i, e := range errs {
				w := tt.want[i]
				if e.Field != w.Field || e.Rule != w.Rule || !reflect.DeepEqual(e.Path, w.Path) {
					t.Errorf("error %d = %+v, want field %s path %v rule %s", i, e, w.Field, w.Path, w.Rule)
				}
				if !strings.Contains(e.Message, tt.wantIn[i]) {
					t.Errorf("message %q does not contain %q", e.Message, tt.wantIn[i])
				}
			}
		})
	}
}

func TestParseSagaDefinitionRefusesUnknownFields(t *testing.T) {
	_, err := ParseSagaDefinition([]byte(`{"name":"s","steps":[{"name":"a","service":"A","action":{"method":"POST","path":"/a"},"retries":{}}]}`))
	if err == nil || !strings.Contains(err.Error(), `unknown field "retries"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestSagaNormalizeDoesNotShareState(t *testing.T) {
	d := validDefinition()
	d.Steps[0].Retry = &SagaRetry{NonRetryableStatuses: &[]int{422, 400}}
	n := d.Normalize()
	if got := *d.Steps[0].Retry.NonRetryableStatuses; !reflect.DeepEqual(got, []int{422, 400}) {
		t.Fatalf("Normalize sorted the caller's list: %v", got)
	}
	if got := *n.Steps[0].Compensate.Retry.NonRetryableStatuses; !reflect.DeepEqual(got, []int{400, 422}) {
		t.Fatalf("the compensation does not inherit the sorted statuses: %v", got)
	}
	a, _ := d.SHA256()
	d.Steps[1].Action.Path = "/charges/v2"
	if b, _ := d.SHA256(); a == b {
		t.Fatal("a changed definition kept its hash")
	}
}

func TestJSNumber(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -1: "-1", 1.5: "1.5", 0.1: "0.1", 100: "100", 1e21: "1e+21", 1e20: "100000000000000000000",
		123.456: "123.456", 1e-6: "0.000001", 1e-7: "1e-7", -2.5e-8: "-2.5e-8", 1.7976931348623157e308: "1.7976931348623157e+308",
		5e-324: "5e-324", 0.000123: "0.000123", 12345678901234567890: "12345678901234567000",
	} {
		if got := jsNumber(f); got != want {
			t.Errorf("jsNumber(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestJSQuoteAndCanonicalOrder(t *testing.T) {
	if got := jsQuote("a\"\\\b\f\n\r\t\x01\u2028é<>&"); got != `"a\"\\\b\f\n\r\t\u0001`+"\u2028"+`é<>&"` {
		t.Errorf("jsQuote = %s", got)
	}
	// UTF-16 order puts U+1F600 (a surrogate pair, 0xD83D...) before U+FF5E; UTF-8 byte order
	// would put it after.
	got := canonicalJSON(map[string]any{"\uff5e": 1.0, "\U0001F600": 2.0, "b": nil, "a": []any{true, "x"}})
	if want := `{"a":[true,"x"],"b":null,"` + "\U0001F600" + `":2,"` + "\uff5e" + `":1}`; got != want {
		t.Errorf("canonicalJSON = %s, want %s", got, want)
	}
}

func TestSagaWorkerEmbedded(t *testing.T) {
	for _, want := range []string{"Generated by internal/workers/build.mjs from saga/src", "SagaWorkflow = class extends WorkflowEntrypoint", "SagaIndex = class extends DurableObject", `from "cloudflare:workers"`} {
		if !strings.Contains(SagaWorker, want) {
			t.Errorf("the embedded bundle lacks %q", want)
		}
	}
}
