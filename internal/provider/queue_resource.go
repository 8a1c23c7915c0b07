package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
)

// Cloudflare Queues' limits, shared by the validators and the descriptions.
const (
	queueNameMaxLength           = 63
	queueMaxDelaySeconds         = 43200 // 12 hours: delivery_delay, retry_delay
	queueMinRetentionSeconds     = 60
	queueMaxRetentionSeconds     = 1209600 // 14 days
	queueDefaultRetentionSeconds = 345600  // 4 days
)

// queueNamePattern is Cloudflare's rule for queue names.
var queueNamePattern = lazyregexp.New(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

var queueIDPattern = lazyregexp.New(`^[0-9a-f]{32}$`)

var (
	_ resource.Resource                = (*queueResource)(nil)
	_ resource.ResourceWithConfigure   = (*queueResource)(nil)
	_ resource.ResourceWithImportState = (*queueResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*queueResource)(nil)
)

// NewQueueResource is the servicesdo_queue constructor.
func NewQueueResource() resource.Resource { return &queueResource{} }

type queueResource struct{ data *providerData }

type queueModel struct {
	ID               types.String `tfsdk:"id"`
	Name             types.String `tfsdk:"name"`
	DeliveryDelay    types.Int64  `tfsdk:"delivery_delay"`
	MessageRetention types.Int64  `tfsdk:"message_retention"`
}

func (r *queueResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_queue"
}

func (r *queueResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Cloudflare Queue. Services send to it through `queue_producers` and one service consumes it " +
			"through `queue_consumers` (a queue has one consumer). Destroying a queue deletes the messages it still holds.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "Queue id (32 hexadecimal characters).",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Queue name, unique within the account: 1–%d lowercase letters, digits and `-`, starting and ending with a letter or digit. Changing it renames the queue in place (bindings name queues by name: the services that use it must follow).", queueNameMaxLength),
				Required:            true,
				Validators: []validator.String{
					stringvalidator.LengthBetween(1, queueNameMaxLength),
					stringvalidator.RegexMatches(queueNamePattern.Regexp(), "must be lowercase letters, digits and '-', starting and ending with a letter or digit"),
				},
			},
			"delivery_delay": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Seconds every message waits before it is delivered (0–%d). Default `0`. Changing it applies to messages sent afterwards.", queueMaxDelaySeconds),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(0),
				Validators:          []validator.Int64{int64validator.Between(0, queueMaxDelaySeconds)},
			},
			"message_retention": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Seconds an unconsumed message is kept before it is dropped (%d–%d). Default `%d` (4 days).", queueMinRetentionSeconds, queueMaxRetentionSeconds, queueDefaultRetentionSeconds),
				Optional:            true,
				Computed:            true,
				Default:             int64default.StaticInt64(queueDefaultRetentionSeconds),
				Validators:          []validator.Int64{int64validator.Between(queueMinRetentionSeconds, queueMaxRetentionSeconds)},
			},
		},
	}
}

// ModifyPlan records the planned name, so that services of the same configuration may bind
// and consume the queue before it exists.
func (r *queueResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var name types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &name)...)
	if !name.IsUnknown() && !name.IsNull() {
		r.data.lookups.planQueue(name.ValueString())
	}
}

func (r *queueResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

func (m *queueModel) spec() cloudflare.QueueSpec {
	return cloudflare.QueueSpec{Name: m.Name.ValueString(), DeliveryDelay: m.DeliveryDelay.ValueInt64(), MessageRetention: m.MessageRetention.ValueInt64()}
}

func (m *queueModel) fill(q cloudflare.Queue) {
	m.ID = types.StringValue(q.ID)
	m.Name = types.StringValue(q.Name)
	m.DeliveryDelay = types.Int64Value(q.DeliveryDelay)
	m.MessageRetention = types.Int64Value(q.MessageRetention)
}

func (r *queueResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan queueModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	q, adopted, err := r.create(ctx, plan.spec())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Cannot create queue", err.Error())
		return
	}
	if adopted != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("name"), "Adopted a queue without a consumer", adopted)
	}
	plan.fill(q)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

// create makes the queue, or recovers from a create that failed or whose answer was lost.
// Names are unique and queues carry no marker, so a queue of that name without a consumer is
// what such a create (this one, or a run killed before it saved its state) leaves: it is taken
// over with the planned settings, and adopted says so. A queue with a consumer is in use and
// is never adopted; the error says how to import it.
func (r *queueResource) create(ctx context.Context, spec cloudflare.QueueSpec) (q cloudflare.Queue, adopted string, err error) {
	q, err = r.data.client.CreateQueue(ctx, spec)
	if err == nil || !mayHaveCreated(err) {
		return q, "", err
	}
	existing, found, lookupErr := r.data.client.FindQueue(ctx, spec.Name)
	switch {
	case lookupErr != nil:
		return q, "", fmt.Errorf("%w; then looking for a queue named %q failed too (%v): apply again", err, spec.Name, lookupErr)
	case !found && cloudflare.IsUnknownOutcome(err):
		q, err = r.data.client.CreateQueue(ctx, spec) // nothing was created: a unique name cannot duplicate
		return q, "", err
	case !found:
		return q, "", err
	case len(existing.Consumers) > 0 || !r.data.claim("queue/"+existing.ID):
		return q, "", r.alreadyExists(existing)
	}
	createErr := err
	if q, err = r.data.client.UpdateQueue(ctx, existing.ID, spec); err != nil {
		return q, "", err
	}
	return q, fmt.Sprintf("The create of queue %q did not complete normally (%v), and queue %s with that name exists without a consumer, "+
		"which is what an interrupted create leaves: this resource now manages it. A queue with a consumer is never adopted.", spec.Name, createErr, existing.ID), nil
}

func (r *queueResource) alreadyExists(q cloudflare.Queue) error {
	return fmt.Errorf("a queue named %q already exists in account %s (queue %s). Queue names are unique per account: choose another name, "+
		"or adopt the existing queue with `terraform import <address> %s` or an import block", q.Name, r.data.client.AccountID(), q.ID, q.Name)
}

func (r *queueResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state queueModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	q, err := r.lookup(ctx, state.ID.ValueString())
	if cloudflare.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read queue", err.Error())
		return
	}
	state.fill(q)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// lookup reads a queue by id, or by name for an import by name.
func (r *queueResource) lookup(ctx context.Context, idOrName string) (cloudflare.Queue, error) {
	if queueIDPattern.MatchString(idOrName) {
		return r.data.client.GetQueue(ctx, idOrName)
	}
	q, found, err := r.data.client.FindQueue(ctx, idOrName)
	if err == nil && !found {
		err = fmt.Errorf("no queue named %q in account %s: %w", idOrName, r.data.client.AccountID(), cloudflare.ErrNotFound)
	}
	return q, err
}

func (r *queueResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state queueModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	q, err := r.data.client.UpdateQueue(ctx, state.ID.ValueString(), plan.spec())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Cannot update queue", err.Error())
		return
	}
	plan.fill(q)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *queueResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state queueModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.data.client.DeleteQueue(ctx, state.ID.ValueString()); err != nil && !cloudflare.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete queue", err.Error())
	}
}

// ImportState takes the queue id or its name (Read resolves a name to the id).
func (r *queueResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
