package queues_test

import (
	"net/http"
	"strings"
	"testing"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfqueues "github.com/cloudflare/cloudflare-go/v7/queues"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

const consumerJS = `export default { async queue(batch) {} }`

func TestQueueLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created, err := e.create("orders")
	if err != nil {
		t.Fatal(err)
	}
	if created.QueueName != "orders" || len(created.QueueID) != 32 || created.Settings.DeliveryDelay != 0 || created.Settings.MessageRetentionPeriod != 345600 || created.CreatedOn == "" {
		t.Fatalf("created = %+v", created)
	}
	if created.Consumers == nil || created.ConsumersTotalCount != 0 || created.Producers == nil {
		t.Fatalf("created lists = %+v", created)
	}
	// Names are unique, lowercase, and at most 63 characters.
	edgetest.WantAPIError(t, must(e.create("orders")), http.StatusConflict, 11009)
	edgetest.WantAPIError(t, must(e.create("Orders")), http.StatusBadRequest, 10001)
	edgetest.WantAPIError(t, must(e.create(strings.Repeat("a", 64))), http.StatusBadRequest, 10001)
	edgetest.WantAPIError(t, must(e.edit(created.QueueID, cfqueues.QueueSettingsParam{DeliveryDelay: cloudflare.F(43201.0)})), http.StatusBadRequest, 11010)
	edgetest.WantAPIError(t, must(e.edit(created.QueueID, cfqueues.QueueSettingsParam{MessageRetentionPeriod: cloudflare.F(59.0)})), http.StatusBadRequest, 11010)
	if _, err := e.edit(created.QueueID, cfqueues.QueueSettingsParam{DeliveryDelay: cloudflare.F(30.0)}); err != nil {
		t.Fatal(err)
	}

	got, err := e.queues.Get(e.ctx, created.QueueID, cfqueues.QueueGetParams{AccountID: account})
	if err != nil || got.QueueName != "orders" || got.Settings.DeliveryDelay != 30 {
		t.Fatalf("GET = %+v, %v", got, err)
	}
	// PATCH keeps what it does not name; PUT replaces the configuration.
	edited, err := e.queues.Edit(e.ctx, created.QueueID, cfqueues.QueueEditParams{AccountID: account, Queue: cfqueues.QueueParam{
		Settings: cloudflare.F(cfqueues.QueueSettingsParam{MessageRetentionPeriod: cloudflare.F(600.0)}),
	}})
	if err != nil || edited.Settings.DeliveryDelay != 30 || edited.Settings.MessageRetentionPeriod != 600 {
		t.Fatalf("PATCH = %+v, %v", edited, err)
	}
	updated, err := e.queues.Update(e.ctx, created.QueueID, cfqueues.QueueUpdateParams{AccountID: account, Queue: cfqueues.QueueParam{
		QueueName: cloudflare.F("orders-v2"), Settings: cloudflare.F(cfqueues.QueueSettingsParam{DeliveryDelay: cloudflare.F(5.0)}),
	}})
	if err != nil || updated.QueueName != "orders-v2" || updated.QueueID != created.QueueID || updated.Settings.DeliveryDelay != 5 || updated.Settings.MessageRetentionPeriod != 345600 {
		t.Fatalf("PUT = %+v, %v", updated, err)
	}
	e.mustCreate("billing")
	_, err = e.queues.Update(e.ctx, created.QueueID, cfqueues.QueueUpdateParams{AccountID: account, Queue: cfqueues.QueueParam{QueueName: cloudflare.F("billing")}})
	edgetest.WantAPIError(t, err, http.StatusConflict, 11009)

	list, err := e.queues.List(e.ctx, cfqueues.QueueListParams{AccountID: account})
	if err != nil || len(list.Result) != 2 {
		t.Fatalf("list = %+v, %v", list, err)
	}

	if _, err := e.queues.Delete(e.ctx, created.QueueID, cfqueues.QueueDeleteParams{AccountID: account}); err != nil {
		t.Fatalf("DELETE: %v", err)
	}
	_, err = e.queues.Get(e.ctx, created.QueueID, cfqueues.QueueGetParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 11000)
	_, err = e.queues.Delete(e.ctx, created.QueueID, cfqueues.QueueDeleteParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 11000)
}

func TestConsumerLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := e.mustCreate("orders")
	e.mustCreate("orders-dlq")
	e.mustUpload("worker-a", consumerJS)
	e.mustUpload("worker-b", consumerJS)

	// The script must exist, the dead-letter queue too, and not be the queue itself.
	_, err := e.addConsumer(q.QueueID, consumer("missing", "", cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{}))
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10007)
	_, err = e.addConsumer(q.QueueID, consumer("worker-a", "nope", cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{}))
	edgetest.WantAPIError(t, err, http.StatusNotFound, 11000)
	_, err = e.addConsumer(q.QueueID, consumer("worker-a", "orders", cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{}))
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
	for _, bad := range []cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{
		{BatchSize: cloudflare.F(101.0)}, {BatchSize: cloudflare.F(0.0)}, {MaxRetries: cloudflare.F(101.0)},
		{MaxWaitTimeMs: cloudflare.F(60001.0)}, {MaxConcurrency: cloudflare.F(251.0)}, {RetryDelay: cloudflare.F(43201.0)},
	} {
		_, err = e.addConsumer(q.QueueID, consumer("worker-a", "", bad))
		edgetest.WantAPIError(t, err, http.StatusBadRequest, 11010)
	}

	// Defaults: batch_size 10, max_retries 3, max_wait_time_ms 5000, retry_delay 0.
	c, err := e.addConsumer(q.QueueID, consumer("worker-a", "orders-dlq", cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{}))
	if err != nil {
		t.Fatal(err)
	}
	w, ok := c.AsUnion().(cfqueues.ConsumerMqWorkerConsumerResponse)
	if !ok || w.ScriptName != "worker-a" || w.QueueName != "orders" || w.DeadLetterQueue != "orders-dlq" || w.Settings.BatchSize != 10 || w.Settings.MaxRetries != 3 || w.Settings.MaxWaitTimeMs != 5000 || w.Settings.RetryDelay != 0 || w.ConsumerID == "" {
		t.Fatalf("consumer = %+v (%T)", c.AsUnion(), c.AsUnion())
	}

	// One consumer per queue.
	_, err = e.addConsumer(q.QueueID, consumer("worker-b", "", cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{}))
	if ae := edgetest.WantAPIError(t, err, http.StatusConflict, 11004); !strings.Contains(ae.Error(), "Queue 'orders' already has a consumer (Worker 'worker-a')") {
		t.Fatalf("error = %v", ae.Error())
	}

	upd, err := e.queues.Consumers.Update(e.ctx, q.QueueID, c.ConsumerID, cfqueues.ConsumerUpdateParams{AccountID: account, Body: cfqueues.ConsumerUpdateParamsBodyMqWorkerConsumerRequest{
		ScriptName: cloudflare.F("worker-b"), Type: cloudflare.F(cfqueues.ConsumerUpdateParamsBodyMqWorkerConsumerRequestTypeWorker),
		Settings: cloudflare.F(cfqueues.ConsumerUpdateParamsBodyMqWorkerConsumerRequestSettings{BatchSize: cloudflare.F(5.0), MaxConcurrency: cloudflare.F(2.0), RetryDelay: cloudflare.F(30.0)}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	uw := upd.AsUnion().(cfqueues.ConsumerMqWorkerConsumerResponse)
	if uw.ScriptName != "worker-b" || uw.DeadLetterQueue != "" || uw.Settings.BatchSize != 5 || uw.Settings.MaxConcurrency != 2 || uw.Settings.RetryDelay != 30 || uw.ConsumerID != c.ConsumerID {
		t.Fatalf("updated = %+v", uw)
	}
	got, err := e.queues.Consumers.Get(e.ctx, q.QueueID, c.ConsumerID, cfqueues.ConsumerGetParams{AccountID: account})
	if err != nil || got.ScriptName != "worker-b" {
		t.Fatalf("GET = %+v, %v", got, err)
	}
	list, err := e.queues.Consumers.List(e.ctx, q.QueueID, cfqueues.ConsumerListParams{AccountID: account})
	if err != nil || len(list.Result) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
	qq, err := e.queues.Get(e.ctx, q.QueueID, cfqueues.QueueGetParams{AccountID: account})
	if err != nil || qq.ConsumersTotalCount != 1 || len(qq.Consumers) != 1 || qq.Consumers[0].ScriptName != "worker-b" {
		t.Fatalf("queue = %+v, %v", qq, err)
	}

	if _, err := e.queues.Consumers.Delete(e.ctx, q.QueueID, c.ConsumerID, cfqueues.ConsumerDeleteParams{AccountID: account}); err != nil {
		t.Fatal(err)
	}
	_, err = e.queues.Consumers.Get(e.ctx, q.QueueID, c.ConsumerID, cfqueues.ConsumerGetParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 11005)
	_, err = e.queues.Consumers.List(e.ctx, "0123456789abcdef0123456789abcdef", cfqueues.ConsumerListParams{AccountID: account})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 11000)
	// After the delete, another Worker may consume the queue.
	if _, err := e.addConsumer(q.QueueID, consumer("worker-b", "", cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{})); err != nil {
		t.Fatal(err)
	}
}

// A queue binding (a producer) names a queue that exists.
func TestQueueBindingTarget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	err := e.upload("producer", `export default { fetch() { return new Response("x") } }`, queueBinding("Q", "nope"))
	if ae := edgetest.WantAPIError(t, err, http.StatusBadRequest, 10056); !strings.Contains(ae.Error(), "Queue 'nope' not found (binding 'Q')") {
		t.Fatalf("error = %v", ae.Error())
	}
	e.mustCreate("orders")
	e.mustUpload("producer", `export default { fetch() { return new Response("x") } }`, queueBinding("Q", "orders"))
}

func TestPushMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := e.mustCreate("orders")
	_, err := e.queues.Messages.Push(e.ctx, q.QueueID, cfqueues.MessagePushParams{AccountID: account, Body: cfqueues.MessagePushParamsBodyMqQueueMessageJson{
		Body: cloudflare.F[any](map[string]any{"n": 1}), ContentType: cloudflare.F(cfqueues.MessagePushParamsBodyMqQueueMessageJsonContentTypeJson),
	}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.queues.Messages.BulkPush(e.ctx, q.QueueID, cfqueues.MessageBulkPushParams{AccountID: account, Messages: cloudflare.F([]cfqueues.MessageBulkPushParamsMessageUnion{
		cfqueues.MessageBulkPushParamsMessagesMqQueueMessageText{Body: cloudflare.F("a"), ContentType: cloudflare.F(cfqueues.MessageBulkPushParamsMessagesMqQueueMessageTextContentTypeText)},
		cfqueues.MessageBulkPushParamsMessagesMqQueueMessageText{Body: cloudflare.F("b"), ContentType: cloudflare.F(cfqueues.MessageBulkPushParamsMessagesMqQueueMessageTextContentTypeText)},
	})})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.Server.QueueBacklog("orders"); err != nil || n != 3 {
		t.Fatalf("backlog = %d, %v", n, err)
	}
	_, err = e.queues.Messages.Push(e.ctx, q.QueueID, cfqueues.MessagePushParams{AccountID: account, Body: cfqueues.MessagePushParamsBodyMqQueueMessageJson{
		Body: cloudflare.F[any](1), DelaySeconds: cloudflare.F(43201.0),
	}})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
	_, err = e.queues.Messages.Push(e.ctx, "0123456789abcdef0123456789abcdef", cfqueues.MessagePushParams{AccountID: account, Body: cfqueues.MessagePushParamsBodyMqQueueMessageJson{Body: cloudflare.F[any](1)}})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 11000)
}
