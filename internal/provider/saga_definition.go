package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// The saga's configuration as a definition (internal/workers/saga.go), and back for import.

// sagaBindingName is the service binding a step's participant Worker gets in the saga's Worker:
// the script name in capitals with "_" for "-" ("orders-api" → ORDERS_API), "_" first when
// it starts with a digit.
func sagaBindingName(script string) string {
	b := strings.ToUpper(strings.ReplaceAll(script, "-", "_"))
	if b != "" && b[0] >= '0' && b[0] <= '9' {
		b = "_" + b
	}
	return b
}

func optString(v types.String) string {
	if v.IsNull() || v.IsUnknown() {
		return ""
	}
	return v.ValueString()
}

func (r *sagaRetryModel) definition() (*workers.SagaRetry, error) {
	if r == nil {
		return nil, nil
	}
	out := &workers.SagaRetry{Backoff: optString(r.Backoff), Delay: optString(r.Delay), MaxDelay: optString(r.MaxDelay)}
	if !r.Attempts.IsNull() && !r.Attempts.IsUnknown() {
		out.Attempts = new(int(r.Attempts.ValueInt64()))
	}
	if !r.Jitter.IsNull() && !r.Jitter.IsUnknown() {
		out.Jitter = new(r.Jitter.ValueFloat64())
	}
	if !r.NonRetryableStatuses.IsNull() && !r.NonRetryableStatuses.IsUnknown() {
		var statuses []int64
		if d := r.NonRetryableStatuses.ElementsAs(context.Background(), &statuses, false); d.HasError() {
			return nil, diagError(d)
		}
		s := make([]int, len(statuses))
		for i, v := range statuses {
			s[i] = int(v)
		}
		out.NonRetryableStatuses = &s
	}
	return out, nil
}

func bodyJSON(v types.String) json.RawMessage {
	if s := optString(v); s != "" {
		return json.RawMessage(s)
	}
	return nil
}

// definition is the saga definition the configuration describes (not yet normalized).
func (m *sagaModel) definition() (workers.SagaDefinition, error) {
	d := workers.SagaDefinition{Name: m.Name.ValueString(), PivotStep: optString(m.PivotStep), Retention: optString(m.Retention), Steps: []workers.SagaStep{}}
	for _, s := range m.Steps {
		step := workers.SagaStep{Name: optString(s.Name), Service: sagaBindingName(optString(s.Service)), Timeout: optString(s.Timeout)}
		if s.Action != nil {
			step.Action = &workers.SagaRequest{Method: optString(s.Action.Method), Path: optString(s.Action.Path), Body: bodyJSON(s.Action.Body)}
		}
		if c := s.Compensate; c != nil {
			retry, err := c.Retry.definition()
			if err != nil {
				return d, err
			}
			step.Compensate = &workers.SagaCompensation{Method: optString(c.Method), Path: optString(c.Path), Body: bodyJSON(c.Body), Timeout: optString(c.Timeout), Retry: retry}
		}
		retry, err := s.Retry.definition()
		if err != nil {
			return d, err
		}
		step.Retry = retry
		d.Steps = append(d.Steps, step)
	}
	return d, nil
}

// sagaKnown reports whether the configuration's definition is known at plan time.
func (m *sagaModel) sagaKnown() bool {
	if m.Name.IsUnknown() || m.PivotStep.IsUnknown() || m.Retention.IsUnknown() {
		return false
	}
	for _, s := range m.Steps {
		for _, v := range []types.String{s.Name, s.Service, s.Timeout} {
			if v.IsUnknown() {
				return false
			}
		}
		for _, r := range []*sagaRequestModel{s.Action, s.Compensate.request()} {
			if r != nil && (r.Method.IsUnknown() || r.Path.IsUnknown() || r.Body.IsUnknown()) {
				return false
			}
		}
		for _, r := range []*sagaRetryModel{s.Retry, s.Compensate.retry()} {
			if r != nil && (r.Attempts.IsUnknown() || r.Backoff.IsUnknown() || r.Delay.IsUnknown() || r.MaxDelay.IsUnknown() || r.Jitter.IsUnknown() || r.NonRetryableStatuses.IsUnknown()) {
				return false
			}
		}
	}
	return true
}

// attributePath maps a validation error's path ("steps", 1, "action", "body") to Terraform's.
func attributePath(p []any) path.Path {
	out := path.Empty()
	for _, step := range p {
		switch v := step.(type) {
		case string:
			out = out.AtName(v)
		case int:
			out = out.AtListIndex(v)
		}
	}
	return out
}

// validateDefinition adds the definition's errors to diags, each on its attribute. Services
// maps the steps' binding names back to the scripts the configuration names.
func validateDefinition(def workers.SagaDefinition, diags *diag.Diagnostics) {
	for _, e := range def.Validate(workers.SagaValidateOptions{}) {
		at := attributePath(e.Path)
		if len(e.Path) == 0 {
			at = path.Root("steps")
		}
		diags.AddAttributeError(at, "Invalid saga definition", e.Error())
	}
}

// fromDefinition rebuilds the configuration of a deployed definition (import): fields equal to
// their defaults are left out, as a configuration would leave them.
func fromDefinition(ctx context.Context, d workers.SagaDefinition, services map[string]string) ([]sagaStepModel, types.String, types.String, error) {
	norm := d.Normalize()
	pivot, retention := types.StringNull(), types.StringNull()
	if d.PivotStep != "" {
		pivot = types.StringValue(d.PivotStep)
	}
	if norm.Retention != workers.SagaDefaultRetention {
		retention = types.StringValue(norm.Retention)
	}
	defaults := workers.SagaDefinition{Name: "x", Steps: []workers.SagaStep{{}}}.Normalize().Steps[0]
	steps := make([]sagaStepModel, 0, len(norm.Steps))
	for _, s := range norm.Steps {
		service := services[s.Service]
		if service == "" {
			service = strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.Service, "_"), "_", "-"))
		}
		step := sagaStepModel{Name: types.StringValue(s.Name), Service: types.StringValue(service), Timeout: types.StringNull()}
		if s.Timeout != defaults.Timeout {
			step.Timeout = types.StringValue(s.Timeout)
		}
		if s.Action != nil {
			step.Action = &sagaRequestModel{Method: types.StringValue(s.Action.Method), Path: types.StringValue(s.Action.Path), Body: bodyValue(s.Action.Body)}
		}
		var err error
		if step.Retry, err = retryModel(ctx, s.Retry, defaults.Retry); err != nil {
			return nil, pivot, retention, err
		}
		if c := s.Compensate; c != nil {
			comp := &sagaCompensationModel{Method: types.StringValue(c.Method), Path: types.StringValue(c.Path), Body: bodyValue(c.Body), Timeout: types.StringNull()}
			if c.Timeout != s.Timeout {
				comp.Timeout = types.StringValue(c.Timeout)
			}
			if comp.Retry, err = retryModel(ctx, c.Retry, s.Retry); err != nil {
				return nil, pivot, retention, err
			}
			step.Compensate = comp
		}
		steps = append(steps, step)
	}
	return steps, pivot, retention, nil
}

func bodyValue(b json.RawMessage) types.String {
	if len(b) == 0 {
		return types.StringNull()
	}
	return types.StringValue(string(b))
}

// retryModel is the retry block of a normalized policy, nil when it equals base.
func retryModel(ctx context.Context, r, base *workers.SagaRetry) (*sagaRetryModel, error) {
	if r == nil {
		return nil, nil
	}
	a, _ := json.Marshal(r)
	b, _ := json.Marshal(base)
	if string(a) == string(b) {
		return nil, nil
	}
	// Each field as written only where it differs from the policy it defaults to.
	out := &sagaRetryModel{
		Attempts: types.Int64Null(), Backoff: types.StringNull(), Delay: types.StringNull(), MaxDelay: types.StringNull(),
		Jitter: types.Float64Null(), NonRetryableStatuses: types.ListNull(types.Int64Type),
	}
	if r.Attempts != nil && (base.Attempts == nil || *r.Attempts != *base.Attempts) {
		out.Attempts = types.Int64Value(int64(*r.Attempts))
	}
	if r.Backoff != base.Backoff {
		out.Backoff = types.StringValue(r.Backoff)
	}
	if r.Delay != base.Delay {
		out.Delay = types.StringValue(r.Delay)
	}
	if r.MaxDelay != base.MaxDelay {
		out.MaxDelay = types.StringValue(r.MaxDelay)
	}
	if r.Jitter != nil && (base.Jitter == nil || *r.Jitter != *base.Jitter) {
		out.Jitter = types.Float64Value(*r.Jitter)
	}
	sa, _ := json.Marshal(r.NonRetryableStatuses)
	sb, _ := json.Marshal(base.NonRetryableStatuses)
	if r.NonRetryableStatuses != nil && string(sa) != string(sb) {
		list, d := types.ListValueFrom(ctx, types.Int64Type, *r.NonRetryableStatuses)
		if d.HasError() {
			return nil, diagError(d)
		}
		out.NonRetryableStatuses = list
	}
	return out, nil
}

// definitionFromBindings finds the deployed definition among a Worker's bindings, and the
// participant scripts by binding name.
func definitionFromBindings(bindings []cloudflare.Binding) (workers.SagaDefinition, map[string]string, bool, error) {
	services := map[string]string{}
	for _, b := range bindings {
		if b.Type == cloudflare.BindingService {
			services[b.Name] = b.Service
		}
	}
	for _, b := range bindings {
		if b.Name != workers.SagaDefinitionBinding {
			continue
		}
		d, err := workers.ParseSagaDefinition(b.JSON)
		if err != nil {
			return workers.SagaDefinition{}, nil, false, fmt.Errorf("the Worker's %s binding is not a saga definition: %w", workers.SagaDefinitionBinding, err)
		}
		return d, services, true, nil
	}
	return workers.SagaDefinition{}, nil, false, nil
}
