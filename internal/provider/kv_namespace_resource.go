package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// kvTitleMaxLength is the platform's limit on namespace titles.
const kvTitleMaxLength = 512

var (
	_ resource.Resource                = (*kvNamespaceResource)(nil)
	_ resource.ResourceWithConfigure   = (*kvNamespaceResource)(nil)
	_ resource.ResourceWithImportState = (*kvNamespaceResource)(nil)
)

// NewKVNamespaceResource is the servicesdo_kv_namespace constructor.
func NewKVNamespaceResource() resource.Resource { return &kvNamespaceResource{} }

type kvNamespaceResource struct{ data *providerData }

type kvNamespaceModel struct {
	ID                  types.String   `tfsdk:"id"`
	Title               types.String   `tfsdk:"title"`
	SupportsURLEncoding types.Bool     `tfsdk:"supports_url_encoding"`
	ForceDestroy        types.Bool     `tfsdk:"force_destroy"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

func (r *kvNamespaceResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_kv_namespace"
}

func (r *kvNamespaceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Workers KV namespace that services bind. Destroying a namespace that still holds keys " +
			"fails unless `force_destroy = true`, so no data is lost by accident.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Namespace id (32 hexadecimal characters).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"title": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Human-readable name, unique within the account (1–%d characters). Changing it renames the namespace in place.", kvTitleMaxLength),
				Required:            true,
				Validators:          []validator.String{stringvalidator.LengthBetween(1, kvTitleMaxLength)},
			},
			"supports_url_encoding": schema.BoolAttribute{
				MarkdownDescription: "Whether the API decodes URL-encoded key names before storing them.",
				Computed:            true,
				PlanModifiers:       []planmodifier.Bool{boolplanmodifier.UseStateForUnknown()},
			},
			"force_destroy": schema.BoolAttribute{
				MarkdownDescription: "Delete the namespace on destroy even when it still holds keys (they are deleted with it). Default `false`: destroying a non-empty namespace is an error that says how many keys remain.",
				Optional:            true,
				Computed:            true,
				Default:             booldefault.StaticBool(false),
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Delete: true}),
		},
	}
}

func (r *kvNamespaceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (m *kvNamespaceModel) fill(ns cloudflare.KVNamespace) {
	m.ID = types.StringValue(ns.ID)
	m.Title = types.StringValue(ns.Title)
	m.SupportsURLEncoding = types.BoolValue(ns.SupportsURLEncoding)
	if m.ForceDestroy.IsNull() || m.ForceDestroy.IsUnknown() {
		m.ForceDestroy = types.BoolValue(false)
	}
}

func (r *kvNamespaceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan kvNamespaceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, err := r.data.client.CreateKVNamespace(ctx, plan.Title.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("title"), "Cannot create KV namespace", r.explainCreateError(ctx, plan.Title.ValueString(), err))
		return
	}
	plan.fill(ns)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// explainCreateError turns a duplicate title into an error that says which namespace holds
// the title and how to adopt it.
func (r *kvNamespaceResource) explainCreateError(ctx context.Context, title string, err error) string {
	if !errors.Is(err, cloudflare.ErrConflict) {
		return err.Error()
	}
	existing := "another namespace"
	if all, listErr := r.data.client.ListKVNamespaces(ctx); listErr == nil {
		for _, ns := range all {
			if ns.Title == title {
				existing = "namespace " + ns.ID
			}
		}
	}
	return fmt.Sprintf("A KV namespace titled %q already exists in account %s (%s). Titles are unique per account: "+
		"choose another title, or adopt the existing namespace with `terraform import <address> <id>` or an import block.",
		title, r.data.client.AccountID(), existing)
}

func (r *kvNamespaceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state kvNamespaceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ns, err := r.data.client.GetKVNamespace(ctx, state.ID.ValueString())
	if cloudflare.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read KV namespace", err.Error())
		return
	}
	state.fill(ns)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *kvNamespaceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state kvNamespaceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Title.ValueString() != state.Title.ValueString() {
		ns, err := r.data.client.RenameKVNamespace(ctx, state.ID.ValueString(), plan.Title.ValueString())
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("title"), "Cannot rename KV namespace", r.explainCreateError(ctx, plan.Title.ValueString(), err))
			return
		}
		plan.fill(ns)
	} else {
		plan.ID, plan.SupportsURLEncoding = state.ID, state.SupportsURLEncoding
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *kvNamespaceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state kvNamespaceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	timeout, diags := state.Timeouts.Delete(ctx, 20*time.Minute)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	id := state.ID.ValueString()
	if !state.ForceDestroy.ValueBool() {
		keys, err := r.data.client.ListKVKeys(ctx, id, "")
		if cloudflare.IsNotFound(err) {
			return
		}
		if err != nil {
			resp.Diagnostics.AddError("Cannot delete KV namespace", err.Error())
			return
		}
		if len(keys) > 0 {
			resp.Diagnostics.AddError("KV namespace is not empty",
				fmt.Sprintf("KV namespace %q (%s) still holds %d key(s); nothing was deleted. "+
					"To delete it with its keys, set force_destroy = true and apply before destroying; or remove the keys first.",
					state.Title.ValueString(), id, len(keys)))
			return
		}
	}
	if err := r.data.client.DeleteKVNamespace(ctx, id); err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete KV namespace", err.Error())
	}
}

func (r *kvNamespaceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("force_destroy"), false)...)
}
