package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// decodable is a configuration, plan or state the framework decodes into a model.
type decodable interface {
	Get(ctx context.Context, target any) diag.Diagnostics
}

// getKnown decodes from (whose value is raw) into model and reports whether it could.
//
// A model's nested lists and objects are Go slices and pointers, which cannot hold a value that
// is unknown as a whole, and a nested attribute is unknown as a whole in a plan when Terraform
// cannot evaluate it before the apply: a `for` expression that filters on a value known only
// after the apply, a data source read during the apply. Then getKnown reports false without an
// error. The caller leaves the checks that need those values for later: the framework has
// planned the computed values unknown, and Terraform validates and plans the resource again
// with every value known before it applies it.
func getKnown(ctx context.Context, from decodable, raw tftypes.Value, model any, diags *diag.Diagnostics) bool {
	return decodedKnown(raw, from.Get(ctx, model), diags)
}

// getServiceKnown is getKnown for servicesdo_service, whose model has its own codec.
func getServiceKnown(ctx context.Context, raw tftypes.Value, m *serviceModel, diags *diag.Diagnostics) bool {
	return decodedKnown(raw, getService(ctx, raw, m), diags)
}

// decodedKnown takes the outcome d of decoding raw: a failure caused by unknown values is no
// error (false, nothing added); anything else is appended to diags.
func decodedKnown(raw tftypes.Value, d diag.Diagnostics, diags *diag.Diagnostics) bool {
	if d.HasError() && !raw.IsFullyKnown() {
		return false
	}
	diags.Append(d...)
	return !d.HasError()
}
