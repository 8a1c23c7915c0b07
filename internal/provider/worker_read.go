package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// readWorkerResource is the Read of the resources that deploy one fixed Worker program (saga,
// gateway, monitor): refresh the state with read, forget the resource when it is gone, and
// say which kind failed otherwise.
func readWorkerResource[M any](ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse, kind string,
	read func(context.Context, *M, bool) (gone bool, err error),
) {
	var state M
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	gone, err := read(ctx, &state, false)
	switch {
	case gone:
		resp.State.RemoveResource(ctx)
	case err != nil:
		resp.Diagnostics.AddError("Cannot read "+kind, err.Error())
	default:
		resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
	}
}

// deployedVersionID is the version serving most of a Worker's traffic, "" before any
// deployment.
func (d *providerData) deployedVersionID(ctx context.Context, name string) (types.String, error) {
	dep, ok, err := d.client.ActiveDeployment(ctx, name)
	if err != nil || !ok {
		return types.StringValue(""), err
	}
	return types.StringValue(servingVersion(dep)), nil
}
