package cloudflare

import (
	"context"
	"fmt"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/queues"
)

// QueuesAPI is the Queues API the provider uses: queues and their Worker consumers.
type QueuesAPI interface {
	CreateQueue(ctx context.Context, spec QueueSpec) (Queue, error)
	GetQueue(ctx context.Context, id string) (Queue, error)
	FindQueue(ctx context.Context, name string) (Queue, bool, error)
	ListQueues(ctx context.Context) ([]Queue, error)
	UpdateQueue(ctx context.Context, id string, spec QueueSpec) (Queue, error)
	DeleteQueue(ctx context.Context, id string) error
	CreateQueueConsumer(ctx context.Context, queueID string, spec QueueConsumerSpec) (QueueConsumer, error)
	UpdateQueueConsumer(ctx context.Context, queueID, consumerID string, spec QueueConsumerSpec) (QueueConsumer, error)
	DeleteQueueConsumer(ctx context.Context, queueID, consumerID string) error
}

// QueueSpec is a queue's configuration: its name and settings, in seconds.
type QueueSpec struct {
	Name             string
	DeliveryDelay    int64
	MessageRetention int64
}

// Queue is a Cloudflare Queue with its consumers.
type Queue struct {
	ID               string
	Name             string
	DeliveryDelay    int64
	MessageRetention int64
	CreatedOn        string
	Consumers        []QueueConsumer
}

// QueueConsumerSpec is a Worker consumer: the script whose queue handler receives the
// batches, its dead-letter queue ("" for none) and its settings. MaxConcurrency 0 lets
// Cloudflare scale the consumer.
type QueueConsumerSpec struct {
	ScriptName      string
	DeadLetterQueue string
	BatchSize       int64
	MaxRetries      int64
	MaxWaitTimeMs   int64
	MaxConcurrency  int64
	RetryDelay      int64
}

// QueueConsumer is a consumer as the API reports it.
type QueueConsumer struct {
	ID        string
	QueueName string
	QueueConsumerSpec
}

func toQueue(q *queues.Queue) Queue {
	out := Queue{ID: q.QueueID, Name: q.QueueName, DeliveryDelay: int64(q.Settings.DeliveryDelay), MessageRetention: int64(q.Settings.MessageRetentionPeriod), CreatedOn: q.CreatedOn}
	for i := range q.Consumers {
		if c, ok := toQueueConsumer(&q.Consumers[i]); ok {
			out.Consumers = append(out.Consumers, c)
		}
	}
	return out
}

// toQueueConsumer reads a Worker consumer; an HTTP pull consumer is not one the provider manages.
func toQueueConsumer(c *queues.Consumer) (QueueConsumer, bool) {
	w, ok := c.AsUnion().(queues.ConsumerMqWorkerConsumerResponse)
	if !ok {
		return QueueConsumer{}, false
	}
	s := w.Settings
	return QueueConsumer{ID: w.ConsumerID, QueueName: w.QueueName, QueueConsumerSpec: QueueConsumerSpec{
		ScriptName: w.ScriptName, DeadLetterQueue: w.DeadLetterQueue, BatchSize: int64(s.BatchSize), MaxRetries: int64(s.MaxRetries),
		MaxWaitTimeMs: int64(s.MaxWaitTimeMs), MaxConcurrency: int64(s.MaxConcurrency), RetryDelay: int64(s.RetryDelay),
	}}, true
}

func (s QueueSpec) param() queues.QueueParam {
	return queues.QueueParam{QueueName: cf.F(s.Name), Settings: cf.F(queues.QueueSettingsParam{
		DeliveryDelay: cf.F(float64(s.DeliveryDelay)), MessageRetentionPeriod: cf.F(float64(s.MessageRetention)),
	})}
}

// CreateQueue creates a queue and then sets its settings: the create endpoint takes only the
// name, so a queue with settings takes a second call (a PUT, which sets all of them).
func (c *Client) CreateQueue(ctx context.Context, spec QueueSpec) (Queue, error) {
	q, err := c.queues.New(ctx, queues.QueueNewParams{AccountID: cf.F(c.accountID), QueueName: cf.F(spec.Name)})
	if err != nil {
		return Queue{}, wrap(fmt.Sprintf("creating queue %q", spec.Name), err)
	}
	created := toQueue(q)
	if created.DeliveryDelay == spec.DeliveryDelay && created.MessageRetention == spec.MessageRetention {
		return created, nil
	}
	return c.UpdateQueue(ctx, created.ID, spec)
}

// GetQueue reads a queue by id.
func (c *Client) GetQueue(ctx context.Context, id string) (Queue, error) {
	q, err := c.queues.Get(ctx, escape(id), queues.QueueGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return Queue{}, wrap(fmt.Sprintf("reading queue %s", id), err)
	}
	return toQueue(q), nil
}

// FindQueue looks a queue up by name (the API reads queues by id only).
func (c *Client) FindQueue(ctx context.Context, name string) (Queue, bool, error) {
	all, err := c.ListQueues(ctx)
	for _, q := range all {
		if q.Name == name {
			return q, true, err
		}
	}
	return Queue{}, false, err
}

// ListQueues lists every queue of the account.
func (c *Client) ListQueues(ctx context.Context) ([]Queue, error) {
	var out []Queue
	pager := c.queues.ListAutoPaging(ctx, queues.QueueListParams{AccountID: cf.F(c.accountID)})
	for pager.Next() {
		q := pager.Current()
		out = append(out, toQueue(&q))
	}
	return out, wrap("listing queues", pager.Err())
}

// UpdateQueue replaces a queue's name and settings (PUT: what is not sent returns to its default).
func (c *Client) UpdateQueue(ctx context.Context, id string, spec QueueSpec) (Queue, error) {
	q, err := c.queues.Update(ctx, escape(id), queues.QueueUpdateParams{AccountID: cf.F(c.accountID), Queue: spec.param()})
	if err != nil {
		return Queue{}, wrap(fmt.Sprintf("updating queue %s (%q)", id, spec.Name), err)
	}
	return toQueue(q), nil
}

// DeleteQueue deletes a queue, its consumer and its undelivered messages.
func (c *Client) DeleteQueue(ctx context.Context, id string) error {
	_, err := c.queues.Delete(ctx, escape(id), queues.QueueDeleteParams{AccountID: cf.F(c.accountID)})
	return wrap(fmt.Sprintf("deleting queue %s", id), err)
}

func (s QueueConsumerSpec) settings() queues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings {
	out := queues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{
		BatchSize: cf.F(float64(s.BatchSize)), MaxRetries: cf.F(float64(s.MaxRetries)),
		MaxWaitTimeMs: cf.F(float64(s.MaxWaitTimeMs)), RetryDelay: cf.F(float64(s.RetryDelay)),
	}
	if s.MaxConcurrency > 0 {
		out.MaxConcurrency = cf.F(float64(s.MaxConcurrency))
	}
	return out
}

// CreateQueueConsumer makes a Worker the queue's consumer.
func (c *Client) CreateQueueConsumer(ctx context.Context, queueID string, spec QueueConsumerSpec) (QueueConsumer, error) {
	body := queues.ConsumerNewParamsBodyMqWorkerConsumerRequest{
		ScriptName: cf.F(spec.ScriptName), Type: cf.F(queues.ConsumerNewParamsBodyMqWorkerConsumerRequestTypeWorker), Settings: cf.F(spec.settings()),
	}
	if spec.DeadLetterQueue != "" {
		body.DeadLetterQueue = cf.F(spec.DeadLetterQueue)
	}
	res, err := c.queues.Consumers.New(ctx, escape(queueID), queues.ConsumerNewParams{AccountID: cf.F(c.accountID), Body: body})
	if err != nil {
		return QueueConsumer{}, wrap(fmt.Sprintf("adding Worker %q as the consumer of queue %s", spec.ScriptName, queueID), err)
	}
	out, _ := toQueueConsumer(res)
	return out, nil
}

// UpdateQueueConsumer replaces a consumer's script, dead-letter queue and settings.
func (c *Client) UpdateQueueConsumer(ctx context.Context, queueID, consumerID string, spec QueueConsumerSpec) (QueueConsumer, error) {
	settings := queues.ConsumerUpdateParamsBodyMqWorkerConsumerRequestSettings(spec.settings())
	body := queues.ConsumerUpdateParamsBodyMqWorkerConsumerRequest{
		ScriptName: cf.F(spec.ScriptName), Type: cf.F(queues.ConsumerUpdateParamsBodyMqWorkerConsumerRequestTypeWorker), Settings: cf.F(settings),
	}
	if spec.DeadLetterQueue != "" {
		body.DeadLetterQueue = cf.F(spec.DeadLetterQueue)
	}
	res, err := c.queues.Consumers.Update(ctx, escape(queueID), escape(consumerID), queues.ConsumerUpdateParams{AccountID: cf.F(c.accountID), Body: body})
	if err != nil {
		return QueueConsumer{}, wrap(fmt.Sprintf("updating consumer %s of queue %s", consumerID, queueID), err)
	}
	out, _ := toQueueConsumer(res)
	return out, nil
}

// DeleteQueueConsumer removes a consumer from its queue.
func (c *Client) DeleteQueueConsumer(ctx context.Context, queueID, consumerID string) error {
	_, err := c.queues.Consumers.Delete(ctx, escape(queueID), escape(consumerID), queues.ConsumerDeleteParams{AccountID: cf.F(c.accountID)})
	return wrap(fmt.Sprintf("deleting consumer %s of queue %s", consumerID, queueID), err)
}
