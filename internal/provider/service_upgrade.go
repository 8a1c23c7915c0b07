package provider

import (
	"context"
	"maps"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// serviceSchemaVersion 1 replaced secret_hashes (a slow hash of each secret's value) with
// secret_names and secrets_version, and added durable_object_migration.
const serviceSchemaVersion = 1

func (r *serviceResource) UpgradeState(ctx context.Context) map[int64]resource.StateUpgrader {
	var current resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &current)
	v0 := current.Schema
	v0.Version = 0
	v0.Attributes = maps.Clone(v0.Attributes)
	for _, added := range []string{"secrets_version", "secret_names", "durable_object_migration"} {
		delete(v0.Attributes, added)
	}
	v0.Attributes["secret_hashes"] = schema.MapAttribute{Computed: true, ElementType: types.StringType}
	return map[int64]resource.StateUpgrader{0: {PriorSchema: &v0, StateUpgrader: upgradeServiceFromV0}}
}

// upgradeServiceFromV0 drops the secret hashes from state, keeping only the names they were
// keyed by. secrets_version starts unset: the next rotation sets it.
func upgradeServiceFromV0(ctx context.Context, req resource.UpgradeStateRequest, resp *resource.UpgradeStateResponse) {
	values := map[string]tftypes.Value{}
	if err := req.State.Raw.As(&values); err != nil {
		resp.Diagnostics.AddError("Cannot upgrade servicesdo_service state", "Reading the version 0 state failed: "+err.Error())
		return
	}
	hashes := map[string]tftypes.Value{}
	if h, ok := values["secret_hashes"]; ok && h.IsKnown() && !h.IsNull() {
		if err := h.As(&hashes); err != nil {
			resp.Diagnostics.AddError("Cannot upgrade servicesdo_service state", "Reading secret_hashes failed: "+err.Error())
			return
		}
	}
	delete(values, "secret_hashes")
	names := make([]string, 0, len(hashes))
	for name := range hashes {
		names = append(names, name)
	}
	sort.Strings(names)
	setType := tftypes.Set{ElementType: tftypes.String}
	values["secret_names"] = tftypes.NewValue(setType, nil)
	if len(names) > 0 {
		elems := make([]tftypes.Value, len(names))
		for i, n := range names {
			elems[i] = tftypes.NewValue(tftypes.String, n)
		}
		values["secret_names"] = tftypes.NewValue(setType, elems)
	}
	values["secrets_version"] = tftypes.NewValue(tftypes.Number, nil)
	values["durable_object_migration"] = tftypes.NewValue(tftypes.String, nil)
	resp.State.Raw = tftypes.NewValue(resp.State.Schema.Type().TerraformType(ctx), values)
}
