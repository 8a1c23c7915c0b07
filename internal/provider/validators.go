package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workerscript"
)

// checkValidator turns one of internal/validation's checks into a plan-time validator whose
// diagnostic is the check's message.
type checkValidator struct {
	summary string
	check   func(string) error
}

func (v checkValidator) Description(context.Context) string             { return v.summary }
func (v checkValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v checkValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := v.check(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, v.summary, err.Error()+".")
	}
}

// bindingNameValidator checks map keys that become binding names.
type bindingNameValidator struct{}

func (bindingNameValidator) Description(context.Context) string {
	return "binding names must be JavaScript identifiers"
}
func (v bindingNameValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (bindingNameValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := validation.CheckBindingName(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid binding name", "Binding "+err.Error()+".")
	}
}

// jsonValidator checks that a string is JSON.
type jsonValidator struct{}

func (jsonValidator) Description(context.Context) string               { return "must be JSON" }
func (v jsonValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (jsonValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	var v any
	if err := json.Unmarshal([]byte(req.ConfigValue.ValueString()), &v); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid JSON variable",
			fmt.Sprintf("%s is not JSON (%v): build it with jsonencode(...).", req.Path, err))
	}
}

// memoryValidator rejects memory the platform cannot give.
type memoryValidator struct{}

func (memoryValidator) Description(context.Context) string {
	return fmt.Sprintf("at most %d", workersMemoryMB)
}
func (v memoryValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (memoryValidator) ValidateInt64(_ context.Context, req validator.Int64Request, resp *validator.Int64Response) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if mb := req.ConfigValue.ValueInt64(); mb > workersMemoryMB || mb < 1 {
		resp.Diagnostics.AddAttributeError(req.Path, "Memory limit not available on Workers",
			fmt.Sprintf("memory_mb = %d, but every Worker gets a fixed %d MB: set memory_mb to %d or less (or remove it), "+
				"and split work that needs more memory across services or Durable Objects.", mb, workersMemoryMB, workersMemoryMB))
	}
}

// durationValidator accepts positive Go durations.
type durationValidator struct{}

func (durationValidator) Description(context.Context) string               { return "a positive duration such as 5s" }
func (v durationValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (durationValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if d, err := time.ParseDuration(req.ConfigValue.ValueString()); err != nil || d <= 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s must be a positive duration such as \"30s\", \"2m\" or \"500ms\", got %q.", req.Path, req.ConfigValue.ValueString()))
	}
}

func moduleExtensionsList() string {
	return "`" + strings.Join(workerscript.SupportedExtensions(), "`, `") + "`"
}
