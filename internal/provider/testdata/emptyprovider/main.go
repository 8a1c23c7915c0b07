// Command emptyprovider is a terraform-plugin-framework provider with nothing in it, served
// as the provider bench's reference: what loading any framework provider costs Terraform
// (process start, go-plugin's mutual TLS, the schema), beside which servicesdo's own load is
// measured. Its SDK loggers are off, as servicesdo's are by default.
package main

import (
	"context"
	"log"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

type empty struct{}

func (empty) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "servicesdo"
}
func (empty) Schema(context.Context, provider.SchemaRequest, *provider.SchemaResponse)          {}
func (empty) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}
func (empty) Resources(context.Context) []func() resource.Resource                              { return nil }
func (empty) DataSources(context.Context) []func() datasource.DataSource                        { return nil }

func main() {
	for _, name := range []string{"TF_LOG_SDK", "TF_LOG_SDK_FRAMEWORK", "TF_LOG_SDK_PROTO"} {
		_ = os.Setenv(name, "off")
	}
	err := providerserver.Serve(context.Background(), func() provider.Provider { return empty{} },
		providerserver.ServeOpts{Address: "registry.terraform.io/dot-do/servicesdo"})
	if err != nil {
		log.Fatal(err)
	}
}
