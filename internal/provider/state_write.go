package provider

import (
	"context"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
)

// setStateIfChanged writes after into state unless it equals before, the model Read decoded:
// a refresh that finds nothing changed leaves the state as Terraform sent it instead of
// encoding the whole model again (a cost per resource on every plan).
func setStateIfChanged[T any](ctx context.Context, state *tfsdk.State, before, after *T, diags *diag.Diagnostics) {
	if reflect.DeepEqual(before, after) {
		return
	}
	diags.Append(state.Set(ctx, after)...)
}
