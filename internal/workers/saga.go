package workers

import (
	"crypto/sha256"
	_ "embed" // the saga Worker bundle
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
)

// SagaWorker is the saga program (saga/src, bundled by build.mjs): one ES module exporting the
// Workflow class, the index Durable Object class and the runtime API. saga/README.md documents
// the definition, the bindings and the API.
//
//go:embed saga/dist/worker.js
var SagaWorker string

// The saga Worker's main module name, and the bindings and classes it expects.
const (
	SagaWorkerModule = "worker.js"

	// SagaDefinitionBinding is the JSON binding holding the normalized definition.
	SagaDefinitionBinding = "SAGA_DEFINITION"
	// SagaWorkflowBinding is the Workflow binding; its workflow runs SagaWorkflowClass.
	SagaWorkflowBinding = "SAGA_WORKFLOW"
	SagaWorkflowClass   = "SagaWorkflow"
	// SagaIndexBinding is the Durable Object namespace of SagaIndexClass, a SQLite class.
	SagaIndexBinding = "SAGA_INDEX"
	SagaIndexClass   = "SagaIndex"
	// SagaAPIKeyHashBinding is the secret holding SagaAPIKeyHash of the API key, when the API is
	// protected by a key.
	SagaAPIKeyHashBinding = "API_KEY_HASH"
	// SagaAPIAccessBinding set to SagaAPIAccessServiceBinding opens the API without a key: the
	// Worker must then be reachable only through service bindings (no route, no workers.dev).
	SagaAPIAccessBinding        = "API_ACCESS"
	SagaAPIAccessServiceBinding = "service_binding"
	// SagaWatchdogBinding optionally sets the index's watchdog interval in milliseconds.
	SagaWatchdogBinding = "SAGA_WATCHDOG_MS"

	// SagaDefinitionVersion is the definition format this package and the bundle understand.
	SagaDefinitionVersion = 1
)

// Defaults the definition gets when a field is left out (SagaDefinition.Normalize).
const (
	SagaDefaultTimeout   = "30s"
	SagaDefaultRetention = "7d"
	SagaDefaultAttempts  = 3
	SagaDefaultBackoff   = "exponential"
	SagaDefaultDelay     = "1s"
)

var (
	sagaMethods  = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	sagaBackoffs = []string{"constant", "linear", "exponential"}
	sagaName     = lazyregexp.New(`^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$`)
	sagaStepName = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_-]{0,63}$`)
	sagaBinding  = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// SagaDefinition is the saga definition JSON the Worker reads from SagaDefinitionBinding.
type SagaDefinition struct {
	Version   int        `json:"version,omitempty"`
	Name      string     `json:"name"`
	Steps     []SagaStep `json:"steps"`
	PivotStep string     `json:"pivot_step,omitempty"`
	Retention string     `json:"retention,omitempty"`
}

// SagaStep is one step: an action on a participant service and its optional compensation.
type SagaStep struct {
	Name       string            `json:"name"`
	Service    string            `json:"service"`
	Action     *SagaRequest      `json:"action"`
	Compensate *SagaCompensation `json:"compensate,omitempty"`
	Timeout    string            `json:"timeout,omitempty"`
	Retry      *SagaRetry        `json:"retry,omitempty"`
}

// SagaRequest is the HTTP request of an action. Path and the strings of Body are templates.
type SagaRequest struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body,omitempty"`
}

// SagaCompensation is the request that undoes a step, with its own timeout and retry policy
// (each field defaults to the step's).
type SagaCompensation struct {
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Body    json.RawMessage `json:"body,omitempty"`
	Timeout string          `json:"timeout,omitempty"`
	Retry   *SagaRetry      `json:"retry,omitempty"`
}

// SagaRetry is a call's retry policy. Attempts counts the first call. NonRetryableStatuses nil
// means every 4xx except 408, 425 and 429.
type SagaRetry struct {
	Attempts             *int     `json:"attempts,omitempty"`
	Backoff              string   `json:"backoff,omitempty"`
	Delay                string   `json:"delay,omitempty"`
	MaxDelay             string   `json:"max_delay,omitempty"`
	Jitter               *float64 `json:"jitter,omitempty"`
	NonRetryableStatuses *[]int   `json:"non_retryable_statuses,omitempty"`
}

// ParseSagaDefinition decodes definition JSON, refusing unknown fields.
func ParseSagaDefinition(data []byte) (SagaDefinition, error) {
	var d SagaDefinition
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return SagaDefinition{}, fmt.Errorf("saga definition: %w", err)
	}
	return d, nil
}

func isNullJSON(b json.RawMessage) bool {
	return len(b) == 0 || strings.TrimSpace(string(b)) == "null"
}

func normalizeRetry(r *SagaRetry, base SagaRetry) *SagaRetry {
	if r == nil {
		r = &SagaRetry{}
	}
	out := base
	if r.Attempts != nil {
		out.Attempts = new(*r.Attempts)
	}
	if r.Backoff != "" {
		out.Backoff = r.Backoff
	}
	if r.Delay != "" {
		out.Delay = r.Delay
	}
	if r.MaxDelay != "" {
		out.MaxDelay = r.MaxDelay
	}
	if r.Jitter != nil {
		out.Jitter = new(*r.Jitter)
	}
	if r.NonRetryableStatuses != nil {
		out.NonRetryableStatuses = r.NonRetryableStatuses
	}
	if out.NonRetryableStatuses != nil {
		s := slices.Clone(*out.NonRetryableStatuses)
		slices.Sort(s)
		out.NonRetryableStatuses = &s
	}
	return &out
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func normalizeBody(b json.RawMessage) json.RawMessage {
	if isNullJSON(b) {
		return nil
	}
	return b
}

// Normalize returns the definition with every default written out: the form to deploy and to
// hash. It expects a definition that Validate accepts.
func (d SagaDefinition) Normalize() SagaDefinition {
	out := SagaDefinition{
		Version:   d.Version,
		Name:      d.Name,
		PivotStep: d.PivotStep,
		Retention: orDefault(d.Retention, SagaDefaultRetention),
	}
	if out.Version == 0 {
		out.Version = SagaDefinitionVersion
	}
	out.Steps = []SagaStep{}
	defaults := SagaRetry{Attempts: new(SagaDefaultAttempts), Backoff: SagaDefaultBackoff, Delay: SagaDefaultDelay, Jitter: new(0.0)}
	for _, s := range d.Steps {
		timeout := orDefault(s.Timeout, SagaDefaultTimeout)
		retry := normalizeRetry(s.Retry, defaults)
		step := SagaStep{Name: s.Name, Service: s.Service, Timeout: timeout, Retry: retry}
		if s.Action != nil {
			step.Action = &SagaRequest{Method: s.Action.Method, Path: s.Action.Path, Body: normalizeBody(s.Action.Body)}
		}
		if s.Compensate != nil {
			step.Compensate = &SagaCompensation{
				Method:  s.Compensate.Method,
				Path:    s.Compensate.Path,
				Body:    normalizeBody(s.Compensate.Body),
				Timeout: orDefault(s.Compensate.Timeout, timeout),
				Retry:   normalizeRetry(s.Compensate.Retry, *retry),
			}
		}
		out.Steps = append(out.Steps, step)
	}
	return out
}

// SHA256 is the hash of the canonical JSON of the normalized definition: the definition_sha256
// the saga Worker reports for its executions.
func (d SagaDefinition) SHA256() (string, error) {
	canonical, err := d.Normalize().CanonicalJSON()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(canonical))
	return hex.EncodeToString(sum[:]), nil
}

// CanonicalJSON is the definition as canonical JSON: keys sorted by UTF-16 code units, no
// whitespace, strings and numbers as JavaScript's JSON.stringify writes them (RFC 8785).
func (d SagaDefinition) CanonicalJSON() (string, error) {
	data, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return "", err
	}
	return canonicalJSON(v), nil
}

// pivotIndex is the index of the last step whose failure compensates.
func (d SagaDefinition) pivotIndex() int {
	if d.PivotStep == "" {
		return len(d.Steps) - 1
	}
	return slices.IndexFunc(d.Steps, func(s SagaStep) bool { return s.Name == d.PivotStep })
}

// SagaValidationError is one rule a definition breaks. Field locates it (steps[1].action.body.x);
// Path is the Terraform attribute path of the field ("steps", 1, "action", "body"), without the
// place inside a JSON body; Rule names the rule; Message says what is wrong and how to fix it.
type SagaValidationError struct {
	Field   string
	Path    []any
	Rule    string
	Message string
}

func (e SagaValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// SagaValidateOptions adds context to validation. Services, when not nil, lists the service
// bindings the saga's Worker has; a step naming another one is an error.
type SagaValidateOptions struct {
	Services []string
}

type sagaValidator struct {
	errs  []SagaValidationError
	names []string
}

func (v *sagaValidator) add(field string, path []any, rule, message string) {
	v.errs = append(v.errs, SagaValidationError{Field: field, Path: slices.Clone(path), Rule: rule, Message: message})
}

func nonEmpty(names []string) string {
	var out []string
	for _, n := range names {
		if n != "" {
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}

// Validate returns every rule the definition breaks, in a stable order (the same as the saga
// Worker's own check).
func (d SagaDefinition) Validate(opts SagaValidateOptions) []SagaValidationError {
	v := &sagaValidator{}
	if d.Version != 0 && d.Version != SagaDefinitionVersion {
		v.add("version", []any{"version"}, "version", fmt.Sprintf("unsupported definition version %d: this program understands version %d", d.Version, SagaDefinitionVersion))
	}
	switch {
	case d.Name == "":
		v.add("name", []any{"name"}, "required", "a saga needs a name")
	case !sagaName.MatchString(d.Name):
		v.add("name", []any{"name"}, "pattern", jsQuote(d.Name)+` is not a valid saga name: use 1 to 64 letters, digits, "_" or "-", starting with a letter, digit or "_"`)
	}
	if len(d.Steps) == 0 {
		v.add("steps", []any{"steps"}, "required", "a saga needs at least one step")
	}
	for _, s := range d.Steps {
		v.names = append(v.names, s.Name)
	}
	pivot := d.pivotIndex()
	for i, s := range d.Steps {
		v.step(d, i, s, pivot, opts)
	}
	if d.PivotStep != "" && pivot < 0 {
		v.add("pivot_step", []any{"pivot_step"}, "unknown_step", fmt.Sprintf("\"%s\" is not a step of this saga (steps: %s): name one of them", d.PivotStep, nonEmpty(v.names)))
	}
	if d.Retention != "" {
		v.duration(d.Retention, "retention", []any{"retention"}, true)
	}
	return v.errs
}

func (v *sagaValidator) step(d SagaDefinition, i int, s SagaStep, pivot int, opts SagaValidateOptions) {
	at := fmt.Sprintf("steps[%d]", i)
	path := []any{"steps", i}
	at2 := func(f string) (string, []any) { return at + "." + f, append(slices.Clone(path), f) }

	f, p := at2("name")
	switch {
	case s.Name == "":
		v.add(f, p, "required", "a step needs a name")
	case !sagaStepName.MatchString(s.Name):
		v.add(f, p, "pattern", jsQuote(s.Name)+` is not a valid step name: use 1 to 64 letters, digits, "_" or "-", starting with a letter or "_"`)
	default:
		if first := slices.Index(v.names, s.Name); first < i {
			v.add(f, p, "unique", fmt.Sprintf("step name \"%s\" is already used by steps[%d]: step names must be unique, rename one of them", s.Name, first))
		}
	}

	f, p = at2("service")
	switch {
	case s.Service == "":
		v.add(f, p, "required", "a step needs the service binding it calls")
	case !sagaBinding.MatchString(s.Service):
		v.add(f, p, "pattern", jsQuote(s.Service)+` is not a valid service binding name: use letters, digits and "_", starting with a letter or "_"`)
	case opts.Services != nil && !slices.Contains(opts.Services, s.Service):
		known := strings.Join(opts.Services, ", ")
		if known == "" {
			known = "none"
		}
		v.add(f, p, "unknown_service", fmt.Sprintf("service \"%s\" is not bound to the saga's Worker (bound: %s): bind it or fix the name", s.Service, known))
	}

	name := s.Name
	if name == "" {
		name = at
	}
	ctx := templateScope{index: i, name: name}
	f, p = at2("action")
	if s.Action == nil {
		v.add(f, p, "required", "a step needs an action")
	} else {
		v.request(s.Action.Method, s.Action.Path, s.Action.Body, f, p, false, ctx)
	}
	if c := s.Compensate; c != nil {
		f, p = at2("compensate")
		v.request(c.Method, c.Path, c.Body, f, p, true, ctx)
		if c.Timeout != "" {
			v.duration(c.Timeout, f+".timeout", append(slices.Clone(p), "timeout"), true)
		}
		if c.Retry != nil {
			v.retry(*c.Retry, f+".retry", append(slices.Clone(p), "retry"))
		}
		if pivot >= 0 && i > pivot {
			v.add(f, p, "after_pivot", fmt.Sprintf("step \"%s\" comes after the pivot step \"%s\" and is never compensated (failures after the pivot retry forward): remove compensate or move pivot_step", s.Name, d.PivotStep))
		}
	}
	if s.Timeout != "" {
		f, p = at2("timeout")
		v.duration(s.Timeout, f, p, true)
	}
	if s.Retry != nil {
		f, p = at2("retry")
		v.retry(*s.Retry, f, p)
	}
}

type templateScope struct {
	index int
	name  string
}

func (v *sagaValidator) request(method, reqPath string, body json.RawMessage, at string, path []any, compensation bool, ctx templateScope) {
	sub := func(f string) (string, []any) { return at + "." + f, append(slices.Clone(path), f) }
	f, p := sub("method")
	switch {
	case method == "":
		v.add(f, p, "required", "a request needs a method: one of "+strings.Join(sagaMethods, ", "))
	case !slices.Contains(sagaMethods, method):
		v.add(f, p, "method", fmt.Sprintf("%s is not supported: use %s or %s", jsQuote(method), strings.Join(sagaMethods[:len(sagaMethods)-1], ", "), sagaMethods[len(sagaMethods)-1]))
	}
	f, p = sub("path")
	if reqPath == "" {
		v.add(f, p, "required", `a request needs a path starting with "/"`)
	} else {
		if !strings.HasPrefix(reqPath, "/") {
			v.add(f, p, "path", jsQuote(reqPath)+` must start with "/"`)
		}
		v.templates(reqPath, f, p, compensation, ctx)
	}
	if isNullJSON(body) {
		return
	}
	f, p = sub("body")
	if method == "GET" {
		v.add(f, p, "get_body", "a GET request cannot have a body: remove body or use another method")
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		v.add(f, p, "json", "is not valid JSON: "+err.Error())
		return
	}
	sagaBodyStrings(value, f, func(field, text string) { v.templates(text, field, p, compensation, ctx) })
}

func (v *sagaValidator) templates(text, field string, path []any, compensation bool, ctx templateScope) {
	parts, err := ParseSagaTemplate(text)
	if err != nil {
		v.add(field, path, "template_syntax", err.Error())
		return
	}
	for _, part := range parts {
		ref := part.Ref
		if ref == nil || ref.Root != "steps" {
			continue
		}
		j := slices.Index(v.names, ref.Step)
		shown := "{{" + ref.Text + "}}"
		switch {
		case j < 0:
			v.add(field, path, "unknown_step", fmt.Sprintf("%s refers to \"%s\", which is not a step of this saga (steps: %s)", shown, ref.Step, nonEmpty(v.names)))
		case j > ctx.index:
			who := "an action can use only the input and the outputs of earlier steps"
			if compensation {
				who = "a compensation can use only the input and the outputs of its own and earlier steps"
			}
			v.add(field, path, "later_step", fmt.Sprintf("%s refers to step \"%s\", which runs after \"%s\": %s; reference an earlier step or reorder the steps", shown, ref.Step, ctx.name, who))
		case j == ctx.index && !compensation:
			v.add(field, path, "own_output", fmt.Sprintf("%s refers to \"%s\" itself: an action cannot use its own output (its compensation can)", shown, ctx.name))
		}
	}
}

func (v *sagaValidator) duration(value, field string, path []any, positive bool) (time.Duration, bool) {
	d, err := ParseSagaDuration(value)
	if err != nil {
		v.add(field, path, "duration", err.Error())
		return 0, false
	}
	if positive && d == 0 {
		v.add(field, path, "duration", "must be longer than 0")
	}
	return d, true
}

func (v *sagaValidator) retry(r SagaRetry, at string, path []any) {
	sub := func(f string) (string, []any) { return at + "." + f, append(slices.Clone(path), f) }
	if r.Attempts != nil && *r.Attempts < 1 {
		f, p := sub("attempts")
		v.add(f, p, "attempts", fmt.Sprintf("must be at least 1 (the first call counts as an attempt), got %d", *r.Attempts))
	}
	if r.Backoff != "" && !slices.Contains(sagaBackoffs, r.Backoff) {
		f, p := sub("backoff")
		v.add(f, p, "backoff", jsQuote(r.Backoff)+" is not supported: use constant, linear or exponential")
	}
	delayText := orDefault(r.Delay, SagaDefaultDelay)
	delay, delayOK := time.Duration(0), true
	if r.Delay != "" {
		f, p := sub("delay")
		delay, delayOK = v.duration(r.Delay, f, p, false)
	} else {
		delay, _ = ParseSagaDuration(SagaDefaultDelay)
	}
	if r.MaxDelay != "" {
		f, p := sub("max_delay")
		if maxDelay, ok := v.duration(r.MaxDelay, f, p, false); ok && delayOK && maxDelay < delay {
			v.add(f, p, "max_delay", fmt.Sprintf("%s is shorter than the delay %s: max_delay caps the growing delay, so it must be at least delay", r.MaxDelay, delayText))
		}
	}
	if r.Jitter != nil && (*r.Jitter < 0 || *r.Jitter > 1 || math.IsNaN(*r.Jitter)) {
		f, p := sub("jitter")
		v.add(f, p, "jitter", jsNumber(*r.Jitter)+" is out of range: use a fraction from 0 (no jitter) to 1 (full jitter)")
	}
	if r.NonRetryableStatuses != nil {
		seen := map[int]bool{}
		for k, s := range *r.NonRetryableStatuses {
			f := fmt.Sprintf("%s.non_retryable_statuses[%d]", at, k)
			p := append(slices.Clone(path), "non_retryable_statuses", k)
			switch {
			case s < 400 || s > 599:
				v.add(f, p, "status", fmt.Sprintf("%d is not an error status: list statuses from 400 to 599", s))
			case seen[s]:
				v.add(f, p, "status", fmt.Sprintf("%d is listed twice", s))
			}
			seen[s] = true
		}
	}
}

// Durations: one or more <whole number><unit> terms, units ms, s, m, h and d.

var (
	sagaDurationWhole = lazyregexp.New(`^(?:[0-9]{1,12}(?:ms|s|m|h|d))+$`)
	sagaDurationTerm  = lazyregexp.New(`([0-9]{1,12})(ms|s|m|h|d)`)
	sagaUnitMS        = map[string]float64{"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
)

// SagaMaxDuration is the longest duration a definition accepts: Workflows' longest wait.
const SagaMaxDuration = 365 * 24 * time.Hour

// ParseSagaDuration parses a definition duration ("250ms", "30s", "1m30s", "7d").
func ParseSagaDuration(text string) (time.Duration, error) {
	if !sagaDurationWhole.MatchString(text) {
		return 0, errors.New(jsQuote(text) + ` is not a duration: write whole numbers with units ms, s, m, h or d, e.g. "500ms", "30s", "1m30s" or "7d"`)
	}
	total := 0.0 // as the Worker sums it, so both refuse the same overflowing values
	for _, m := range sagaDurationTerm.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.ParseFloat(m[1], 64)
		total += n * sagaUnitMS[m[2]]
	}
	if total > float64(SagaMaxDuration/time.Millisecond) {
		return 0, errors.New(jsQuote(text) + " is longer than 365d, the longest wait Workflows allows")
	}
	return time.Duration(total) * time.Millisecond, nil
}

// SagaRetryDelay is the wait after failed attempt n (1-based) of a normalized retry policy,
// without jitter (which only shortens it): delay, times n for linear or 2^(n-1) for exponential
// backoff, capped at max_delay and at SagaMaxDuration.
func SagaRetryDelay(r SagaRetry, failedAttempt int) (time.Duration, error) {
	base, err := ParseSagaDuration(orDefault(r.Delay, SagaDefaultDelay))
	if err != nil {
		return 0, err
	}
	ms := float64(base / time.Millisecond)
	switch r.Backoff {
	case "linear":
		ms *= float64(failedAttempt)
	case "exponential":
		ms *= math.Pow(2, float64(min(failedAttempt-1, 40)))
	}
	if r.MaxDelay != "" {
		maxDelay, err := ParseSagaDuration(r.MaxDelay)
		if err != nil {
			return 0, err
		}
		ms = math.Min(ms, float64(maxDelay/time.Millisecond))
	}
	ms = math.Min(ms, float64(SagaMaxDuration/time.Millisecond))
	return time.Duration(math.Floor(ms)) * time.Millisecond, nil
}

// Templates: {{input.<path>}}, {{steps.<step>.output[.<path>]}} and {{execution.id}}, with the
// grammar, rendering and messages of saga/src/template.js.

var (
	sagaTemplateName  = lazyregexp.New(`^[A-Za-z0-9_-]+$`)
	sagaTemplateIndex = lazyregexp.New(`^[0-9]+$`)
)

// SagaTemplateRef is a parsed reference: Root is "input", "steps" or "execution"; Step names
// the step of a steps reference; Path are the names after input or after output; Text is the
// reference as written (without braces and blanks).
type SagaTemplateRef struct {
	Root string
	Step string
	Path []string
	Text string
}

// SagaTemplatePart is a literal (Ref nil) or a reference.
type SagaTemplatePart struct {
	Literal string
	Ref     *SagaTemplateRef
}

func quoteSnippet(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return jsQuote(string([]rune(s)[:40]) + "…")
	}
	return jsQuote(s)
}

// ParseSagaTemplate splits a template into literals and references.
func ParseSagaTemplate(text string) ([]SagaTemplatePart, error) {
	var parts []SagaTemplatePart
	var literal strings.Builder
	flush := func() {
		if literal.Len() > 0 {
			parts = append(parts, SagaTemplatePart{Literal: literal.String()})
			literal.Reset()
		}
	}
	for i := 0; i < len(text); {
		switch {
		case strings.HasPrefix(text[i:], `\{{`):
			literal.WriteString("{{")
			i += 3
		case strings.HasPrefix(text[i:], "{{"):
			end := strings.Index(text[i+2:], "}}")
			if end < 0 {
				return nil, fmt.Errorf(`unclosed template at %s: close it with "}}" (write \{{ for a literal "{{")`, quoteSnippet(text[i:]))
			}
			inner := strings.Trim(text[i+2:i+2+end], " \t")
			ref, err := parseSagaReference(inner)
			if err != nil {
				return nil, err
			}
			flush()
			parts = append(parts, SagaTemplatePart{Ref: ref})
			i += 2 + end + 2
		default:
			literal.WriteByte(text[i])
			i++
		}
	}
	flush()
	return parts, nil
}

func parseSagaReference(inner string) (*SagaTemplateRef, error) {
	shown := "{{" + inner + "}}"
	if inner == "" {
		return nil, errors.New(`empty template "{{}}": write a reference such as {{input.order_id}} or {{steps.<step>.output.id}}`)
	}
	names := strings.Split(inner, ".")
	for _, n := range names {
		if n == "" {
			return nil, errors.New(shown + " has an empty name: separate names with single dots")
		}
		if !sagaTemplateName.MatchString(n) {
			return nil, fmt.Errorf(`%s: %s is not a valid name: use letters, digits, "_" and "-"`, shown, quoteSnippet(n))
		}
	}
	switch names[0] {
	case "input":
		return &SagaTemplateRef{Root: "input", Path: names[1:], Text: inner}, nil
	case "execution":
		if len(names) != 2 || names[1] != "id" {
			return nil, errors.New(shown + ": the only execution value is {{execution.id}}")
		}
		return &SagaTemplateRef{Root: "execution", Path: []string{"id"}, Text: inner}, nil
	case "steps":
		if len(names) < 3 || names[2] != "output" {
			step := "<step>"
			if len(names) > 1 {
				step = names[1]
			}
			return nil, fmt.Errorf("%s: write {{steps.%s.output}} or {{steps.%s.output.<field>}}", shown, step, step)
		}
		return &SagaTemplateRef{Root: "steps", Step: names[1], Path: names[3:], Text: inner}, nil
	}
	return nil, errors.New(shown + ": a template starts with input, steps.<step>.output or execution.id")
}

// SagaTemplateContext is what templates render from; values are as encoding/json decodes them.
type SagaTemplateContext struct {
	Input     any                       `json:"input"`
	Steps     map[string]SagaStepOutput `json:"steps"`
	Execution struct {
		ID string `json:"id"`
	} `json:"execution"`
}

// SagaStepOutput is a completed step's output.
type SagaStepOutput struct {
	Output any `json:"output"`
}

func jsTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "an object"
}

func (c SagaTemplateContext) resolve(ref *SagaTemplateRef) (any, error) {
	shown := "{{" + ref.Text + "}}"
	var current any
	var where string
	switch ref.Root {
	case "input":
		current, where = c.Input, "input"
	case "execution":
		return c.Execution.ID, nil
	default:
		done, ok := c.Steps[ref.Step]
		if !ok {
			return nil, fmt.Errorf("%s: step \"%s\" has no output (it has not completed)", shown, ref.Step)
		}
		current, where = done.Output, "steps."+ref.Step+".output"
	}
	for _, name := range ref.Path {
		switch v := current.(type) {
		case []any:
			n, err := strconv.Atoi(name)
			if !sagaTemplateIndex.MatchString(name) || err != nil || n >= len(v) {
				return nil, fmt.Errorf("%s: %s has no element %s (it has %d)", shown, where, name, len(v))
			}
			current = v[n]
		case map[string]any:
			next, ok := v[name]
			if !ok {
				return nil, fmt.Errorf("%s: %s has no field \"%s\"", shown, where, name)
			}
			current = next
		default:
			return nil, fmt.Errorf("%s: %s is %s, not an object or array", shown, where, jsTypeName(current))
		}
		where += "." + name
	}
	return current, nil
}

func scalarText(ref *SagaTemplateRef, v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64:
		return jsNumber(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("{{%s}} is %s: only strings, numbers and booleans can be placed in a path or in text (a body value that is exactly one template embeds any JSON value)", ref.Text, jsTypeName(v))
}

func encodePathValue(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r < utf8.RuneSelf && (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~", r)) {
			b.WriteRune(r)
			continue
		}
		for _, c := range []byte(string(r)) {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// RenderSagaPath renders a path template, percent-encoding each value.
func RenderSagaPath(text string, ctx SagaTemplateContext) (string, error) {
	parts, err := ParseSagaTemplate(text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Ref == nil {
			b.WriteString(p.Literal)
			continue
		}
		v, err := ctx.resolve(p.Ref)
		if err != nil {
			return "", err
		}
		s, err := scalarText(p.Ref, v)
		if err != nil {
			return "", err
		}
		b.WriteString(encodePathValue(s))
	}
	return b.String(), nil
}

// RenderSagaBody renders every string of a body value (as encoding/json decodes it): a string
// that is exactly one template becomes the referenced value, any other is text.
func RenderSagaBody(value any, ctx SagaTemplateContext) (any, error) {
	switch v := value.(type) {
	case string:
		parts, err := ParseSagaTemplate(v)
		if err != nil {
			return nil, err
		}
		if len(parts) == 1 && parts[0].Ref != nil {
			return ctx.resolve(parts[0].Ref)
		}
		var b strings.Builder
		for _, p := range parts {
			if p.Ref == nil {
				b.WriteString(p.Literal)
				continue
			}
			x, err := ctx.resolve(p.Ref)
			if err != nil {
				return nil, err
			}
			s, err := scalarText(p.Ref, x)
			if err != nil {
				return nil, err
			}
			b.WriteString(s)
		}
		return b.String(), nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := RenderSagaBody(x, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range utf16SortedKeys(v) {
			r, err := RenderSagaBody(v[k], ctx)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	}
	return value, nil
}

var sagaPlainKey = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]*$`)

// sagaBodyStrings calls fn for every string in a body value with its field, keys in UTF-16
// order (as the Worker does).
func sagaBodyStrings(value any, field string, fn func(field, text string)) {
	switch v := value.(type) {
	case string:
		fn(field, v)
	case []any:
		for i, x := range v {
			sagaBodyStrings(x, fmt.Sprintf("%s[%d]", field, i), fn)
		}
	case map[string]any:
		for _, k := range utf16SortedKeys(v) {
			sub := field + "." + k
			if !sagaPlainKey.MatchString(k) {
				sub = field + "[" + jsQuote(k) + "]"
			}
			sagaBodyStrings(v[k], sub, fn)
		}
	}
}

// SagaExecutionID is the id of the execution an idempotency key starts: "e-" and the first 40
// hex digits of SHA-256(key). The Worker derives it the same way.
func SagaExecutionID(idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "e-" + hex.EncodeToString(sum[:])[:40]
}

// SagaAPIKeyHash is the SagaAPIKeyHashBinding secret for an API key: sha256:<salt>:<digest> in
// hex, digest = SHA-256(salt ‖ key). The salt must be at least 16 random bytes.
func SagaAPIKeyHash(key string, salt []byte) (string, error) {
	if len(salt) < 16 {
		return "", errors.New("saga API key hash: the salt must be at least 16 bytes")
	}
	if key == "" {
		return "", errors.New("saga API key hash: the key is empty")
	}
	sum := sha256.Sum256(append(slices.Clone(salt), key...))
	return "sha256:" + hex.EncodeToString(salt) + ":" + hex.EncodeToString(sum[:]), nil
}

// JavaScript-compatible JSON: the canonical form and the string and number forms of
// JSON.stringify, so that Go and the Worker hash and render identically.

func utf16Less(a, b string) bool {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	return slices.Compare(ua, ub) < 0
}

func utf16SortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return utf16Less(keys[i], keys[j]) })
	return keys
}

func canonicalJSON(v any) string {
	var b strings.Builder
	writeCanonical(&b, v)
	return b.String()
}

func writeCanonical(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		b.WriteString(jsNumber(x))
	case string:
		b.WriteString(jsQuote(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCanonical(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range utf16SortedKeys(x) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(jsQuote(k))
			b.WriteByte(':')
			writeCanonical(b, x[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("canonicalJSON: unexpected %T", v))
	}
}

// jsQuote is JSON.stringify of a string: only '"', '\' and control characters are escaped.
func jsQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// jsNumber is JavaScript's Number.prototype.toString for a finite number: the shortest digits
// that round-trip, in plain notation for exponents from -7 to 20 and exponential otherwise.
func jsNumber(f float64) string {
	if f == 0 {
		return "0"
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.dddde±XX
	mantissa, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mantissa, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	n := x + 1 // the decimal point sits after n digits
	k := len(digits)
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	out := digits[:1]
	if k > 1 {
		out += "." + digits[1:]
	}
	if n-1 >= 0 {
		return sign + out + "e+" + strconv.Itoa(n-1)
	}
	return sign + out + "e-" + strconv.Itoa(1-n)
}
