package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// fanoutSuffix names a topic's fan-out Worker: "<topic>-fanout". Worker names are at most 63
// characters, so a topic of a subscription is at most 56.
const (
	fanoutSuffix        = "-fanout"
	fanoutTopicMaxChars = 63 - len(fanoutSuffix)
)

// The topic consumer's settings: batches as large as Queues allows, flushed within a second,
// and the retries after which Queues moves an event the fan-out could not forward.
var fanoutConsumer = cloudflare.QueueConsumerSpec{BatchSize: 100, MaxRetries: 10, MaxWaitTimeMs: 1000, RetryDelay: 5}

var subscriptionNamePattern = lazyregexp.New(`^[A-Za-z0-9_.-]{1,64}$`)

var (
	_ resource.Resource                   = (*eventSubscriptionResource)(nil)
	_ resource.ResourceWithConfigure      = (*eventSubscriptionResource)(nil)
	_ resource.ResourceWithImportState    = (*eventSubscriptionResource)(nil)
	_ resource.ResourceWithValidateConfig = (*eventSubscriptionResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*eventSubscriptionResource)(nil)
)

// NewEventSubscriptionResource is the servicesdo_event_subscription constructor.
func NewEventSubscriptionResource() resource.Resource { return &eventSubscriptionResource{} }

type eventSubscriptionResource struct{ data *providerData }

type eventSubscriptionModel struct {
	ID           types.String `tfsdk:"id"`
	Topic        types.String `tfsdk:"topic"`
	Name         types.String `tfsdk:"name"`
	Subscriber   types.String `tfsdk:"subscriber"`
	Queue        types.String `tfsdk:"queue"`
	Types        types.List   `tfsdk:"types"`
	FanoutWorker types.String `tfsdk:"fanout_worker"`
}

func (r *eventSubscriptionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_event_subscription"
}

func (r *eventSubscriptionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Subscribes a service to the events of a topic. A topic is a queue consumed by one fixed, tested fan-out Worker " +
			"(`<topic>-fanout`), which forwards each CloudEvent to the own queue of every subscription whose `types` match; the subscriber " +
			"service consumes that queue (`queue_consumers`). The subscriptions of a topic share its fan-out Worker: the first creates it and " +
			"makes it the topic's consumer, the last one's destroy deletes both. See the events guide for the envelope and the delivery guarantees.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				MarkdownDescription: "`<topic>/<name>`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"topic": schema.StringAttribute{
				MarkdownDescription: fmt.Sprintf("Name of the topic queue (a `servicesdo_queue`, at most %d characters) that publishers send events to. Changing it replaces the subscription.", fanoutTopicMaxChars),
				Required:            true,
				PlanModifiers:       replace,
				Validators: []validator.String{stringvalidator.LengthBetween(1, fanoutTopicMaxChars),
					stringvalidator.RegexMatches(queueNamePattern.Regexp(), "must be a queue name: lowercase letters, digits and '-'")},
			},
			"name": schema.StringAttribute{
				MarkdownDescription: "Subscription name, unique within the topic (letters, digits, `_`, `.`, `-`; at most 64). Changing it replaces the subscription.",
				Required:            true,
				PlanModifiers:       replace,
				Validators:          []validator.String{stringvalidator.RegexMatches(subscriptionNamePattern.Regexp(), "must be 1 to 64 letters, digits, '_', '.' or '-'")},
			},
			"subscriber": schema.StringAttribute{
				MarkdownDescription: "The subscriber service (a `servicesdo_service`'s `name`), which consumes `queue`. Recorded for documentation and checks; the fan-out only needs `queue`.",
				Required:            true,
			},
			"queue": schema.StringAttribute{
				MarkdownDescription: "The subscriber's own queue, which receives the matching events. Not the topic, and not another subscription's queue.",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(queueNamePattern.Regexp(), "must be a queue name: lowercase letters, digits and '-'")},
			},
			"types": schema.ListAttribute{
				MarkdownDescription: "Event type filters: `Order.created` (exactly), `Order.*` (every `Order.` type), `*` (all). The subscription receives an event when any filter matches.",
				Required:            true,
				ElementType:         types.StringType,
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
			},
			"fanout_worker": schema.StringAttribute{
				MarkdownDescription: "The topic's fan-out Worker, `<topic>-fanout`.",
				Computed:            true,
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
		},
	}
}

func (r *eventSubscriptionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = configureClient(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks the type filters and the queue at plan time, with the fan-out
// program's own rules (internal/workers).
func (r *eventSubscriptionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m eventSubscriptionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Types.IsUnknown() && fullyKnown(m.Types) {
		for _, p := range workers.ValidateTypeFilters(m.typeList(ctx)) {
			at := path.Root("types")
			for _, step := range p.Path {
				if i, ok := step.(int); ok {
					at = at.AtListIndex(i)
					break
				}
			}
			resp.Diagnostics.AddAttributeError(at, "Invalid type filter", p.Message)
		}
	}
	if !m.Queue.IsUnknown() && !m.Topic.IsUnknown() && m.Queue.ValueString() == m.Topic.ValueString() {
		resp.Diagnostics.AddAttributeError(path.Root("queue"), "Subscription queue is the topic",
			fmt.Sprintf("queue %q is the topic itself: forwarding the topic's events to it would loop; name the subscriber's own queue.", m.Queue.ValueString()))
	}
}

// ModifyPlan checks that the topic and the subscriber's queue exist or are planned in this
// command, and that the topic has no consumer but its fan-out Worker.
func (r *eventSubscriptionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	var plan eventSubscriptionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	for _, q := range []struct {
		at    path.Path
		value types.String
		what  string
	}{{path.Root("topic"), plan.Topic, "topic"}, {path.Root("queue"), plan.Queue, "subscription queue"}} {
		if q.value.IsUnknown() {
			continue
		}
		exists, err := r.data.queueExists(ctx, q.value.ValueString())
		switch {
		case err != nil:
			resp.Diagnostics.AddAttributeError(q.at, "Cannot check queue", fmt.Sprintf("Looking up queue %q failed: %v.", q.value.ValueString(), err))
		case !exists:
			resp.Diagnostics.AddAttributeError(q.at, "Unknown queue", fmt.Sprintf("Queue %q (%s) does not exist in account %s, and no servicesdo_queue of this configuration creates it. "+
				"Create it with a servicesdo_queue, or refer to that resource's name so Terraform orders the two.", q.value.ValueString(), q.what, r.data.client.AccountID()))
		}
	}
	if plan.Topic.IsUnknown() {
		return
	}
	topic := plan.Topic.ValueString()
	if other, err := r.data.queueConsumer(ctx, topic, fanoutWorker(topic)); err == nil && other != "" {
		resp.Diagnostics.AddAttributeError(path.Root("topic"), "Topic already has a consumer", fmt.Sprintf("Queue %q is consumed by service %q: a topic's consumer is its fan-out Worker %s. "+
			"Remove %q's queue_consumers entry for it, or subscribe to another topic.", topic, other, fanoutWorker(topic), other))
	}
}

func (m *eventSubscriptionModel) typeList(ctx context.Context) []string {
	var out []string
	_ = m.Types.ElementsAs(ctx, &out, false)
	return out
}

func (m *eventSubscriptionModel) subscription(ctx context.Context) workers.FanoutSubscription {
	name := m.Name.ValueString()
	return workers.FanoutSubscription{Name: name, Binding: workers.FanoutSubscriptionBinding(name), Queue: m.Queue.ValueString(), Types: m.typeList(ctx)}
}

func fanoutWorker(topic string) string { return topic + fanoutSuffix }

func (r *eventSubscriptionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan eventSubscriptionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sub := plan.subscription(ctx)
	err := r.editFanout(ctx, plan.Topic.ValueString(), func(cfg *workers.FanoutConfig) error {
		if slices.ContainsFunc(cfg.Subscriptions, func(s workers.FanoutSubscription) bool { return s.Name == sub.Name }) {
			return fmt.Errorf("topic %q already has a subscription named %q (in its fan-out Worker %s): subscription names are unique per topic; choose another name, or import it with `terraform import <address> %s/%s`",
				cfg.Topic, sub.Name, fanoutWorker(cfg.Topic), cfg.Topic, sub.Name)
		}
		cfg.Subscriptions = append(cfg.Subscriptions, sub)
		return nil
	})
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Cannot create event subscription", err.Error())
		return
	}
	plan.ID = types.StringValue(plan.Topic.ValueString() + "/" + sub.Name)
	plan.FanoutWorker = types.StringValue(fanoutWorker(plan.Topic.ValueString()))
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *eventSubscriptionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state eventSubscriptionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	topic, name, ok := strings.Cut(state.ID.ValueString(), "/")
	if !ok {
		resp.Diagnostics.AddError("Invalid event subscription id", fmt.Sprintf("id %q is not <topic>/<name>.", state.ID.ValueString()))
		return
	}
	cfg, _, err := r.readFanout(ctx, topic)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read event subscription", err.Error())
		return
	}
	i := slices.IndexFunc(cfg.Subscriptions, func(s workers.FanoutSubscription) bool { return s.Name == name })
	if i < 0 {
		resp.State.RemoveResource(ctx)
		return
	}
	s := cfg.Subscriptions[i]
	list, d := types.ListValueFrom(ctx, types.StringType, s.Types)
	resp.Diagnostics.Append(d...)
	state.Topic, state.Name, state.Queue, state.Types = types.StringValue(topic), types.StringValue(name), types.StringValue(s.Queue), list
	state.FanoutWorker = types.StringValue(fanoutWorker(topic))
	if state.Subscriber.IsNull() {
		state.Subscriber = types.StringValue(r.consumerOf(ctx, s.Queue))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// consumerOf is the script consuming queue ("" when none or unknown): an imported
// subscription's subscriber.
func (r *eventSubscriptionResource) consumerOf(ctx context.Context, queue string) string {
	q, found, err := r.data.client.FindQueue(ctx, queue)
	if err != nil || !found || len(q.Consumers) == 0 {
		return ""
	}
	return q.Consumers[0].ScriptName
}

func (r *eventSubscriptionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan eventSubscriptionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	sub := plan.subscription(ctx)
	err := r.editFanout(ctx, plan.Topic.ValueString(), func(cfg *workers.FanoutConfig) error {
		i := slices.IndexFunc(cfg.Subscriptions, func(s workers.FanoutSubscription) bool { return s.Name == sub.Name })
		if i < 0 {
			cfg.Subscriptions = append(cfg.Subscriptions, sub)
		} else {
			cfg.Subscriptions[i] = sub
		}
		return nil
	})
	if err != nil {
		resp.Diagnostics.AddError("Cannot update event subscription", err.Error())
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *eventSubscriptionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state eventSubscriptionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	name := state.Name.ValueString()
	err := r.editFanout(ctx, state.Topic.ValueString(), func(cfg *workers.FanoutConfig) error {
		cfg.Subscriptions = slices.DeleteFunc(cfg.Subscriptions, func(s workers.FanoutSubscription) bool { return s.Name == name })
		return nil
	})
	if err != nil {
		resp.Diagnostics.AddError("Cannot delete event subscription", err.Error())
	}
}

// ImportState takes <topic>/<name>.
func (r *eventSubscriptionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	topic, name, ok := strings.Cut(req.ID, "/")
	if !ok || topic == "" || name == "" {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Import an event subscription as <topic>/<name> (e.g. orders/billing), got %q.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("subscriber"), types.StringNull())...)
}

// readFanout reads the topic's fan-out configuration from its Worker; a topic without one has
// no subscriptions.
func (r *eventSubscriptionResource) readFanout(ctx context.Context, topic string) (workers.FanoutConfig, bool, error) {
	empty := workers.FanoutConfig{Version: workers.FanoutConfigVersion, Topic: topic}
	settings, err := r.data.client.GetScriptSettings(ctx, fanoutWorker(topic))
	if cloudflare.IsNotFound(err) {
		return empty, false, nil
	}
	if err != nil {
		return empty, false, err
	}
	for _, b := range settings.Bindings {
		if b.Name == workers.FanoutConfigBinding && b.Type == cloudflare.BindingJSON {
			cfg, err := workers.ParseFanoutConfig(b.JSON)
			if err != nil {
				return empty, true, fmt.Errorf("the fan-out Worker %s holds an unreadable %s: %w", fanoutWorker(topic), workers.FanoutConfigBinding, err)
			}
			return cfg, true, nil
		}
	}
	return empty, true, fmt.Errorf("the Worker %s exists but is not a fan-out Worker (no %s binding): rename it, or choose another topic", fanoutWorker(topic), workers.FanoutConfigBinding)
}

// editFanout changes the topic's fan-out configuration under a lock (the subscriptions of a
// topic share its Worker) and makes the platform match it: the Worker with a producer binding
// per subscription, consuming the topic; or, with no subscription left, neither.
func (r *eventSubscriptionResource) editFanout(ctx context.Context, topic string, edit func(*workers.FanoutConfig) error) error {
	unlock := r.data.lock("fanout/" + topic)
	defer unlock()
	cfg, exists, err := r.readFanout(ctx, topic)
	if err != nil {
		return err
	}
	if err := edit(&cfg); err != nil {
		return err
	}
	script := fanoutWorker(topic)
	q, found, err := r.data.client.FindQueue(ctx, topic)
	if err != nil {
		return err
	}
	if len(cfg.Subscriptions) == 0 {
		if found {
			for _, c := range q.Consumers {
				if c.ScriptName == script {
					if err := r.data.client.DeleteQueueConsumer(ctx, q.ID, c.ID); err != nil && !cloudflare.IsNotFound(err) {
						return err
					}
				}
			}
		}
		if exists {
			if err := r.data.client.DeleteScript(ctx, script, true); err != nil && !cloudflare.IsNotFound(err) {
				return err
			}
		}
		return nil
	}
	if !found {
		return fmt.Errorf("topic queue %q does not exist: create it (servicesdo_queue) before subscribing to it", topic)
	}
	if problems := workers.ValidateFanoutConfig(cfg); len(problems) > 0 {
		msgs := make([]string, len(problems))
		for i, p := range problems {
			msgs[i] = p.Error()
		}
		return fmt.Errorf("the fan-out configuration of topic %q would be invalid: %s", topic, strings.Join(msgs, "; "))
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	bindings := []cloudflare.Binding{{Type: cloudflare.BindingJSON, Name: workers.FanoutConfigBinding, JSON: raw}}
	for _, s := range cfg.Subscriptions {
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingQueue, Name: s.Binding, QueueName: s.Queue})
	}
	if _, err := r.data.client.UploadScript(ctx, cloudflare.ScriptUpload{
		Name: script, MainModule: workers.FanoutMainModule, CompatibilityDate: "2025-01-01",
		Modules:  []cloudflare.Module{{Name: workers.FanoutMainModule, Content: []byte(workers.FanoutModule)}},
		Bindings: bindings,
	}); err != nil {
		return err
	}
	if len(q.Consumers) > 0 {
		if c := q.Consumers[0]; c.ScriptName != script {
			return fmt.Errorf("topic queue %q is consumed by %q: a queue has one consumer, and a topic's is its fan-out Worker; remove that consumer", topic, c.ScriptName)
		}
		return nil
	}
	spec := fanoutConsumer
	spec.ScriptName = script
	_, err = r.data.client.CreateQueueConsumer(ctx, q.ID, spec)
	if errors.Is(err, cloudflare.ErrConflict) {
		return fmt.Errorf("%w: the topic queue %q got another consumer meanwhile", err, topic)
	}
	return err
}
