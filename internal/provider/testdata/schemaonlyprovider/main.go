// Command schemaonlyprovider serves the schemas of servicesdo_service and
// servicesdo_kv_namespace with resources that do nothing: no API, no checks, Read keeps the
// state. It is the provider bench's reference for what Terraform and
// terraform-plugin-framework alone cost per plan for resources of those schemas, beside
// which servicesdo's own no-op plans are measured. Its SDK loggers are off, as servicesdo's
// are by default.
package main

import (
	"context"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	servicesdo "github.com/dot-do/terraform-provider-servicesdo/internal/provider"
)

type schemaOnly struct{}

func (schemaOnly) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "servicesdo"
}
func (schemaOnly) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse) {}
func (schemaOnly) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}
func (schemaOnly) DataSources(context.Context) []func() datasource.DataSource { return nil }
func (schemaOnly) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return idle{servicesdo.NewServiceResource()} },
		func() resource.Resource { return idle{servicesdo.NewKVNamespaceResource()} },
	}
}

// idle has the name and schema of a servicesdo resource, and does nothing.
type idle struct{ of resource.Resource }

func (r idle) Metadata(ctx context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	r.of.Metadata(ctx, req, resp)
}

func (r idle) Schema(ctx context.Context, req resource.SchemaRequest, resp *resource.SchemaResponse) {
	r.of.Schema(ctx, req, resp)
}

// known turns what the plan left unknown into null: state holds no unknowns.
func known(v tftypes.Value) tftypes.Value {
	out, _ := tftypes.Transform(v, func(_ *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if !v.IsKnown() {
			return tftypes.NewValue(v.Type(), nil), nil
		}
		return v, nil
	})
	return out
}

func (idle) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = known(req.Plan.Raw)
}
func (idle) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}
func (idle) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = known(req.Plan.Raw)
}
func (idle) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

func main() {
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"} {
		_ = os.Setenv(name, "off")
	}
	err := providerserver.Serve(context.Background(), func() provider.Provider { return schemaOnly{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/dot-do/servicesdo"})
	if err != nil {
		log.Fatal(err)
	}
}
