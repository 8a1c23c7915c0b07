package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ resource.ResourceWithModifyPlan = (*r2BucketResource)(nil)

// ModifyPlan records the bucket this plan creates or keeps, so that a service binding to it
// in the same configuration (bucket_name = servicesdo_r2_bucket.x.name, known at plan time)
// is not taken for a binding to a missing bucket. Terraform plans the bucket first, since
// the service refers to it.
func (r *r2BucketResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var name, jurisdiction types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("jurisdiction"), &jurisdiction)...)
	if resp.Diagnostics.HasError() || name.IsUnknown() || jurisdiction.IsUnknown() {
		return
	}
	r.data.lookups.planBucket(name.ValueString(), jurisdiction.ValueString())
}
