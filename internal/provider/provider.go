// Package provider is the servicesdo Terraform provider: configuration and one file per
// resource. Resources stay thin; API calls go through internal/cloudflare.
package provider

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// Environment variables the provider configuration falls back to.
const (
	envAccountID = "CLOUDFLARE_ACCOUNT_ID"
	envAPIToken  = "CLOUDFLARE_API_TOKEN"
	envBaseURL   = "CLOUDFLARE_API_BASE_URL"
	envZoneID    = "CLOUDFLARE_ZONE_ID"
)

var _ provider.Provider = (*servicesdoProvider)(nil)

type servicesdoProvider struct {
	version string
}

// New returns the provider constructor for the given release version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &servicesdoProvider{version: version} }
}

type providerModel struct {
	AccountID           types.String `tfsdk:"account_id"`
	APIToken            types.String `tfsdk:"api_token"`
	BaseURL             types.String `tfsdk:"base_url"`
	ZoneID              types.String `tfsdk:"zone_id"`
	RegistryNamespaceID types.String `tfsdk:"registry_namespace_id"`
	MaxRetries          types.Int64  `tfsdk:"max_retries"`
	RequestTimeout      types.String `tfsdk:"request_timeout"`
}

// providerData is what Configure hands to every resource. It lives for one provider process,
// which is one Terraform command.
type providerData struct {
	client              cloudflare.API
	zoneID              string
	registryNamespaceID string
	cache               readCache
	lookups             planLookups
	// locks serialises work on one named object (see lock).
	locks sync.Map
	// claimed holds the objects that a resource of this command created or adopted (see claim).
	claimed sync.Map
	// apiBase is the API base URL the client calls (the monitor's analytics go there too).
	apiBase string
}

var errNoRegistry = errors.New("no registry: set registry_id, or the provider's registry_namespace_id")

// registryID is the registry namespace a resource or data source uses: its own registry_id
// when set, else the provider's registry_namespace_id.
func (d *providerData) registryID(configured types.String) (string, error) {
	if id := strings.TrimSpace(configured.ValueString()); id != "" {
		return id, nil
	}
	if d.registryNamespaceID == "" {
		return "", errNoRegistry
	}
	return d.registryNamespaceID, nil
}

// lock serialises the callers that pass the same key, e.g. two resources creating objects with
// the same unique name, so that one sees the other's result instead of racing it.
func (d *providerData) lock(key string) (unlock func()) {
	mu, _ := d.locks.LoadOrStore(key, &sync.Mutex{})
	m, _ := mu.(*sync.Mutex)
	m.Lock()
	return m.Unlock
}

// claim records that a resource manages the object named key; it is false when another
// resource of this command already claimed it (two resources with the same unique name).
func (d *providerData) claim(key string) bool {
	_, taken := d.claimed.LoadOrStore(key, true)
	return !taken
}

func (p *servicesdoProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "servicesdo"
	resp.Version = p.version
}

func (p *servicesdoProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Declare a microservice platform on Cloudflare's edge — services, storage, and more — " +
			"against Cloudflare or against the local edge (`terraform-provider-servicesdo local`).",
		Attributes: map[string]schema.Attribute{
			"account_id": schema.StringAttribute{
				MarkdownDescription: "Cloudflare account id. Falls back to `" + envAccountID + "`. Required (from either).",
				Optional:            true,
			},
			"api_token": schema.StringAttribute{
				MarkdownDescription: "Cloudflare API token. Falls back to `" + envAPIToken + "`. Required (from either). Never logged.",
				Optional:            true,
				Sensitive:           true,
			},
			"base_url": schema.StringAttribute{
				MarkdownDescription: "Cloudflare API base URL. Falls back to `" + envBaseURL + "`, then `" + cloudflare.DefaultBaseURL +
					"`. The local edge prints the value to use (`http://127.0.0.1:8788/client/v4`).",
				Optional: true,
			},
			"zone_id": schema.StringAttribute{
				MarkdownDescription: "Default zone for Worker routes. Falls back to `" + envZoneID + "`.",
				Optional:            true,
			},
			"registry_namespace_id": schema.StringAttribute{
				MarkdownDescription: "Default Workers KV namespace of the service registry.",
				Optional:            true,
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("How many times one API call is retried after a 429, a 5xx or a transport failure, "+
					"with backoff honouring `Retry-After` (each wait capped at 20s). A POST or PATCH that was sent but got no complete answer is not repeated "+
					"(its outcome is unknown; see Retries). 409 conflicts are never retried. Default %d.", cloudflare.DefaultMaxRetries),
				Optional:   true,
				Validators: []validator.Int64{int64validator.Between(0, 20)},
			},
			"request_timeout": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Time limit of one API attempt, as a Go duration such as `30s` or `2m`. "+
					"One call takes at most `(max_retries + 1) × request_timeout`. Default `%s`.", cloudflare.DefaultRequestTimeout),
				Optional:   true,
				Validators: []validator.String{durationValidator{}},
			},
		},
	}
}

// stringSetting resolves an attribute with its environment fallback.
func stringSetting(v types.String, env string) string {
	if !v.IsNull() && !v.IsUnknown() {
		return v.ValueString()
	}
	if env == "" {
		return ""
	}
	return os.Getenv(env)
}

func (p *servicesdoProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for name, v := range map[string]types.String{"account_id": cfg.AccountID, "api_token": cfg.APIToken, "base_url": cfg.BaseURL} {
		if v.IsUnknown() {
			resp.Diagnostics.AddAttributeError(path.Root(name), "Unknown provider "+name,
				"The provider's "+name+" depends on a value known only after apply. Set it from a variable or the environment instead.")
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	clientCfg := cloudflare.Config{
		AccountID:  stringSetting(cfg.AccountID, envAccountID),
		APIToken:   stringSetting(cfg.APIToken, envAPIToken),
		BaseURL:    stringSetting(cfg.BaseURL, envBaseURL),
		MaxRetries: cloudflare.DefaultMaxRetries,
		UserAgent:  "terraform-provider-servicesdo/" + p.version,
	}
	if clientCfg.AccountID == "" {
		resp.Diagnostics.AddAttributeError(path.Root("account_id"), "Missing account_id",
			"Set account_id in the provider block or the "+envAccountID+" environment variable to your Cloudflare account id.")
	}
	if clientCfg.APIToken == "" {
		resp.Diagnostics.AddAttributeError(path.Root("api_token"), "Missing api_token",
			"Set api_token in the provider block or the "+envAPIToken+" environment variable to a Cloudflare API token.")
	}
	if clientCfg.BaseURL != "" {
		if err := cloudflare.ValidateBaseURL(clientCfg.BaseURL); err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("base_url"), "Invalid base_url",
				fmt.Sprintf("base_url (or %s) must be an absolute http(s) URL such as %s: %q is not (%v).",
					envBaseURL, cloudflare.DefaultBaseURL, clientCfg.BaseURL, err))
		}
	}
	if !cfg.MaxRetries.IsNull() && !cfg.MaxRetries.IsUnknown() {
		clientCfg.MaxRetries = int(cfg.MaxRetries.ValueInt64())
	}
	if timeout := cfg.RequestTimeout.ValueString(); timeout != "" {
		// durationValidator has checked it; an invalid value never reaches Configure.
		clientCfg.RequestTimeout, _ = time.ParseDuration(timeout)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	client, err := cloudflare.New(clientCfg)
	if err != nil {
		resp.Diagnostics.AddError("Cannot create the Cloudflare client", err.Error())
		return
	}
	data := &providerData{
		client:              client,
		zoneID:              stringSetting(cfg.ZoneID, envZoneID),
		registryNamespaceID: strings.TrimSpace(cfg.RegistryNamespaceID.ValueString()),
		apiBase:             strings.TrimSuffix(cmp.Or(clientCfg.BaseURL, cloudflare.DefaultBaseURL), "/"),
	}
	resp.ResourceData = data
	resp.DataSourceData = data
}

func (p *servicesdoProvider) Resources(_ context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewKVNamespaceResource,
		NewQueueResource,
		NewEventSubscriptionResource,
		NewR2BucketResource,
		NewServiceResource,
		NewRegistryEntryResource,
		NewSagaResource,
		NewGatewayResource,
		NewMonitorResource,
		NewDeploymentResource,
	}
}

func (p *servicesdoProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewServiceDiscoveryDataSource,
		NewRegistryDataSource,
		NewSagaExecutionDataSource,
	}
}

// configureClient is the shared body of every resource's Configure.
func configureClient(providerDataAny any, diags interface {
	AddError(summary, detail string)
}) *providerData {
	if providerDataAny == nil {
		return nil
	}
	data, ok := providerDataAny.(*providerData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *providerData, got %T. Please report this issue to the provider developers.", providerDataAny))
		return nil
	}
	return data
}

// mayHaveCreated reports whether a failed create may have left the object behind: the API
// answered that the name is taken, the answer was lost, or the API kept failing. A create the
// API rejected (validation, authentication) made nothing.
func mayHaveCreated(err error) bool {
	return errors.Is(err, cloudflare.ErrConflict) || cloudflare.IsUnknownOutcome(err) ||
		errors.Is(err, cloudflare.ErrUnavailable) || errors.Is(err, cloudflare.ErrRateLimited)
}
