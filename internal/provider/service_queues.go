package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// Queue consumer limits and defaults (Cloudflare's), shared by the validators, the
// descriptions and the reads.
const (
	consumerDefaultBatchSize    = 10
	consumerMaxBatchSize        = 100
	consumerDefaultBatchTimeout = 5 // seconds
	consumerMaxBatchTimeout     = 60
	consumerDefaultMaxRetries   = 3
	consumerMaxRetries          = 100
	consumerMaxConcurrency      = 250
)

// queueConsumerModel is one element of queue_consumers: the service consumes the queue.
type queueConsumerModel struct {
	Queue           types.String `tfsdk:"queue"`
	MaxBatchSize    types.Int64  `tfsdk:"max_batch_size"`
	MaxBatchTimeout types.Int64  `tfsdk:"max_batch_timeout"`
	MaxRetries      types.Int64  `tfsdk:"max_retries"`
	MaxConcurrency  types.Int64  `tfsdk:"max_concurrency"`
	DeadLetterQueue types.String `tfsdk:"dead_letter_queue"`
	RetryDelay      types.Int64  `tfsdk:"retry_delay"`
}

func (queueConsumerModel) attrTypes() map[string]attr.Type {
	return map[string]attr.Type{
		"queue": types.StringType, "max_batch_size": types.Int64Type, "max_batch_timeout": types.Int64Type, "max_retries": types.Int64Type,
		"max_concurrency": types.Int64Type, "dead_letter_queue": types.StringType, "retry_delay": types.Int64Type,
	}
}

var queueConsumerType = types.ObjectType{AttrTypes: queueConsumerModel{}.attrTypes()}

// queueProducersAttribute is queue_producers: binding name → queue name (a binding kind).
func queueProducersAttribute() schema.Attribute {
	return schema.MapAttribute{
		MarkdownDescription: "Queues the service sends to, by binding name → queue name (`env.<BINDING>.send(body)` / `sendBatch`). Changing it uploads a new version.",
		Optional:            true,
		ElementType:         types.StringType,
		Validators:          bindingMapValidators(),
	}
}

// queueConsumersAttribute is queue_consumers: the queues whose messages the service's queue
// handler receives. They are reconciled through the consumers API, without an upload.
func queueConsumersAttribute() schema.Attribute {
	return schema.ListNestedAttribute{
		MarkdownDescription: "Queues whose messages this service's `queue` handler receives, in batches. A queue has one consumer: " +
			"naming a queue that another service consumes is an error. Changes are made through the Queues consumers API and upload no code.",
		Optional: true,
		NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
			"queue": schema.StringAttribute{
				MarkdownDescription: "Name of the queue to consume (a `servicesdo_queue`'s `name`).",
				Required:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(queueNamePattern.Regexp(), "must be a queue name: lowercase letters, digits and '-'")},
			},
			"max_batch_size": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Most messages per batch (1–%d). Default `%d`.", consumerMaxBatchSize, consumerDefaultBatchSize),
				Optional:            true, Computed: true, Default: int64default.StaticInt64(consumerDefaultBatchSize),
				Validators: []validator.Int64{int64validator.Between(1, consumerMaxBatchSize)},
			},
			"max_batch_timeout": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Seconds a partial batch waits for more messages before it is delivered (0–%d). Default `%d`.", consumerMaxBatchTimeout, consumerDefaultBatchTimeout),
				Optional:            true, Computed: true, Default: int64default.StaticInt64(consumerDefaultBatchTimeout),
				Validators: []validator.Int64{int64validator.Between(0, consumerMaxBatchTimeout)},
			},
			"max_retries": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Redeliveries of a message the handler fails or retries (0–%d) before it goes to `dead_letter_queue`, or is dropped without one. Default `%d`.", consumerMaxRetries, consumerDefaultMaxRetries),
				Optional:            true, Computed: true, Default: int64default.StaticInt64(consumerDefaultMaxRetries),
				Validators: []validator.Int64{int64validator.Between(0, consumerMaxRetries)},
			},
			"max_concurrency": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Most batches handled at once (1–%d). Unset lets Cloudflare scale the consumer with the backlog.", consumerMaxConcurrency),
				Optional:            true,
				Validators:          []validator.Int64{int64validator.Between(1, consumerMaxConcurrency)},
			},
			"dead_letter_queue": schema.StringAttribute{
				MarkdownDescription: "Queue that receives the messages that failed `max_retries` + 1 deliveries. Unset: they are dropped.",
				Optional:            true,
				Validators:          []validator.String{stringvalidator.RegexMatches(queueNamePattern.Regexp(), "must be a queue name: lowercase letters, digits and '-'")},
			},
			"retry_delay": schema.Int64Attribute{
				MarkdownDescription: fmt.Sprintf("Seconds a retried message waits before its next delivery (0–%d). Default `0`.", queueMaxDelaySeconds),
				Optional:            true, Computed: true, Default: int64default.StaticInt64(0),
				Validators: []validator.Int64{int64validator.Between(0, queueMaxDelaySeconds)},
			},
		}},
	}
}

// queueConsumers are the model's consumers (none when null or unknown).
func (m *serviceModel) queueConsumers(ctx context.Context) []queueConsumerModel {
	var out []queueConsumerModel
	if m.QueueConsumers.IsNull() || m.QueueConsumers.IsUnknown() {
		return nil
	}
	_ = m.QueueConsumers.ElementsAs(ctx, &out, false)
	return out
}

func (c queueConsumerModel) spec(script string) cloudflare.QueueConsumerSpec {
	return cloudflare.QueueConsumerSpec{
		ScriptName: script, DeadLetterQueue: c.DeadLetterQueue.ValueString(), BatchSize: c.MaxBatchSize.ValueInt64(),
		MaxRetries: c.MaxRetries.ValueInt64(), MaxWaitTimeMs: c.MaxBatchTimeout.ValueInt64() * 1000,
		MaxConcurrency: c.MaxConcurrency.ValueInt64(), RetryDelay: c.RetryDelay.ValueInt64(),
	}
}

func consumerModelOf(queue string, s cloudflare.QueueConsumerSpec) queueConsumerModel {
	out := queueConsumerModel{
		Queue: types.StringValue(queue), MaxBatchSize: types.Int64Value(s.BatchSize), MaxBatchTimeout: types.Int64Value(s.MaxWaitTimeMs / 1000),
		MaxRetries: types.Int64Value(s.MaxRetries), MaxConcurrency: types.Int64Null(), DeadLetterQueue: stringOrNull(types.StringNull(), s.DeadLetterQueue),
		RetryDelay: types.Int64Value(s.RetryDelay),
	}
	if s.MaxConcurrency > 0 {
		out.MaxConcurrency = types.Int64Value(s.MaxConcurrency)
	}
	return out
}

// checkQueues checks at plan time that the queues the service sends to, consumes and
// dead-letters to exist (or are planned in this command), that it names each consumed queue
// once, and that no other service consumes them.
func (r *serviceResource) checkQueues(ctx context.Context, plan *serviceModel, diags attributeDiags) {
	if plan.Name.IsUnknown() {
		return
	}
	service := plan.Name.ValueString()
	missing := func(at path.Path, queue, what string) {
		exists, err := r.data.queueExists(ctx, queue)
		switch {
		case err != nil:
			diags.AddAttributeError(at, "Cannot check queue", fmt.Sprintf("Looking up queue %q failed: %v.", queue, err))
		case !exists:
			diags.AddAttributeError(at, "Unknown queue", fmt.Sprintf("Queue %q (%s) does not exist in account %s, and no servicesdo_queue of this configuration creates it. "+
				"Create it with a servicesdo_queue, or refer to that resource's name so Terraform orders the two.", queue, what, r.data.client.AccountID()))
		}
	}
	for binding, v := range plan.QueueProducers.Elements() {
		if q, ok := v.(types.String); ok && !q.IsUnknown() && !q.IsNull() {
			missing(path.Root("queue_producers").AtMapKey(binding), q.ValueString(), "binding "+binding)
		}
	}
	seen := map[string]bool{}
	for i, c := range plan.queueConsumers(ctx) {
		at := path.Root("queue_consumers").AtListIndex(i)
		if c.Queue.IsUnknown() {
			continue
		}
		queue := c.Queue.ValueString()
		if seen[queue] {
			diags.AddAttributeError(at.AtName("queue"), "Queue consumed twice", fmt.Sprintf("queue_consumers names queue %q more than once: a service consumes a queue once; merge the two entries.", queue))
			continue
		}
		seen[queue] = true
		missing(at.AtName("queue"), queue, "queue_consumers")
		if dlq := c.DeadLetterQueue.ValueString(); !c.DeadLetterQueue.IsUnknown() && dlq != "" {
			if dlq == queue {
				diags.AddAttributeError(at.AtName("dead_letter_queue"), "Invalid dead-letter queue", fmt.Sprintf("dead_letter_queue is the consumed queue %q itself: failed messages would loop; name another queue.", queue))
			} else {
				missing(at.AtName("dead_letter_queue"), dlq, "dead_letter_queue")
			}
		}
		if other, err := r.data.queueConsumer(ctx, queue, service); err != nil {
			diags.AddAttributeError(at.AtName("queue"), "Cannot check queue", fmt.Sprintf("Looking up the consumer of queue %q failed: %v.", queue, err))
		} else if other != "" {
			diags.AddAttributeError(at.AtName("queue"), "Queue already has a consumer", fmt.Sprintf("Queue %q is consumed by service %q: a queue has exactly one consumer. "+
				"Give each service its own queue (to deliver one event stream to several services, fan it out to a queue per subscriber).", queue, other))
		}
	}
}

// reconcileQueueConsumers makes the service the consumer of the planned queues, with the
// planned settings, and removes it from the queues prior consumed and plan does not.
func (r *serviceResource) reconcileQueueConsumers(ctx context.Context, name string, plan, prior []queueConsumerModel) error {
	if len(plan) == 0 && len(prior) == 0 {
		return nil
	}
	all, err := r.data.client.ListQueues(ctx)
	if err != nil {
		return err
	}
	byName := map[string]cloudflare.Queue{}
	for _, q := range all {
		byName[q.Name] = q
	}
	own := func(q cloudflare.Queue) *cloudflare.QueueConsumer {
		for i := range q.Consumers {
			if q.Consumers[i].ScriptName == name {
				return &q.Consumers[i]
			}
		}
		return nil
	}
	var errs []error
	wanted := map[string]bool{}
	for _, c := range plan {
		queue := c.Queue.ValueString()
		wanted[queue] = true
		q, ok := byName[queue]
		if !ok {
			errs = append(errs, fmt.Errorf("queue %q does not exist: create it (servicesdo_queue) before consuming it", queue))
			continue
		}
		spec := c.spec(name)
		switch existing := own(q); {
		case existing == nil:
			_, err = r.data.client.CreateQueueConsumer(ctx, q.ID, spec)
		case existing.QueueConsumerSpec != spec:
			_, err = r.data.client.UpdateQueueConsumer(ctx, q.ID, existing.ID, spec)
		default:
			err = nil
		}
		errs = append(errs, err)
	}
	for _, c := range prior {
		queue := c.Queue.ValueString()
		if wanted[queue] {
			continue
		}
		if q, ok := byName[queue]; ok {
			if existing := own(q); existing != nil {
				if err := r.data.client.DeleteQueueConsumer(ctx, q.ID, existing.ID); err != nil && !cloudflare.IsNotFound(err) {
					errs = append(errs, err)
				}
			}
		}
	}
	r.data.lookups.forgetQueues()
	return errors.Join(errs...)
}

// readQueueConsumers refreshes queue_consumers: the queues the script consumes, in the
// order of the prior list, then the others (an import, or added outside Terraform) by name.
func (r *serviceResource) readQueueConsumers(ctx context.Context, m *serviceModel) error {
	prior := m.queueConsumers(ctx)
	all, err := r.data.listQueues(ctx)
	if err != nil {
		return err
	}
	name := m.Name.ValueString()
	found := map[string]cloudflare.QueueConsumerSpec{}
	var others []string
	for _, q := range all {
		for _, c := range q.Consumers {
			if c.ScriptName == name {
				found[q.Name] = c.QueueConsumerSpec
				others = append(others, q.Name)
			}
		}
	}
	out := []queueConsumerModel{}
	for _, c := range prior {
		if spec, ok := found[c.Queue.ValueString()]; ok {
			out = append(out, consumerModelOf(c.Queue.ValueString(), spec))
			delete(found, c.Queue.ValueString())
		}
	}
	sort.Strings(others)
	for _, q := range others {
		if spec, ok := found[q]; ok {
			out = append(out, consumerModelOf(q, spec))
		}
	}
	if len(out) == 0 && (m.QueueConsumers.IsNull() || m.QueueConsumers.IsUnknown()) {
		m.QueueConsumers = types.ListNull(queueConsumerType)
		return nil
	}
	list, d := types.ListValueFrom(ctx, queueConsumerType, out)
	m.QueueConsumers = list
	return diagError(d)
}
