package cloudflare

import (
	"context"
	"errors"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// The Queues client against the local edge: a queue with settings in one call, found by
// name, updated, with a consumer that is created, updated and deleted; a second consumer is a
// conflict; deleting twice is not found.
func TestQueuesClient(t *testing.T) {
	t.Parallel()
	edge := edgetest.Start(t)
	c, err := New(Config{AccountID: edgetest.AccountID, APIToken: edgetest.Token, BaseURL: edge.BaseURL, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, QueueSpec{Name: "orders", DeliveryDelay: 5, MessageRetention: 3600})
	if err != nil || q.ID == "" || q.DeliveryDelay != 5 || q.MessageRetention != 3600 {
		t.Fatalf("CreateQueue = %+v, %v", q, err)
	}
	if _, err := c.CreateQueue(ctx, QueueSpec{Name: "orders", MessageRetention: 3600}); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second queue named orders: %v", err)
	}
	dlq, err := c.CreateQueue(ctx, QueueSpec{Name: "orders-dlq", MessageRetention: 345600})
	if err != nil {
		t.Fatal(err)
	}
	found, ok, err := c.FindQueue(ctx, "orders")
	if err != nil || !ok || found.ID != q.ID {
		t.Fatalf("FindQueue = %+v, %v, %v", found, ok, err)
	}
	if _, ok, err := c.FindQueue(ctx, "nope"); ok || err != nil {
		t.Fatalf("FindQueue(nope) = %v, %v", ok, err)
	}
	upd, err := c.UpdateQueue(ctx, q.ID, QueueSpec{Name: "orders", DeliveryDelay: 0, MessageRetention: 7200})
	if err != nil || upd.DeliveryDelay != 0 || upd.MessageRetention != 7200 {
		t.Fatalf("UpdateQueue = %+v, %v", upd, err)
	}

	if _, err := c.UploadScript(ctx, ScriptUpload{Name: "consumer", MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []Module{{Name: "index.js", Content: []byte(`export default { async queue() {} }`)}}}); err != nil {
		t.Fatal(err)
	}
	spec := QueueConsumerSpec{ScriptName: "consumer", DeadLetterQueue: "orders-dlq", BatchSize: 5, MaxRetries: 2, MaxWaitTimeMs: 1000, MaxConcurrency: 3, RetryDelay: 10}
	con, err := c.CreateQueueConsumer(ctx, q.ID, spec)
	if err != nil || con.ID == "" || con.QueueConsumerSpec != spec || con.QueueName != "orders" {
		t.Fatalf("CreateQueueConsumer = %+v, %v", con, err)
	}
	if _, err := c.CreateQueueConsumer(ctx, q.ID, spec); !errors.Is(err, ErrConflict) {
		t.Fatalf("a second consumer: %v", err)
	}
	spec2 := QueueConsumerSpec{ScriptName: "consumer", BatchSize: 10, MaxRetries: 3, MaxWaitTimeMs: 5000}
	if con2, err := c.UpdateQueueConsumer(ctx, q.ID, con.ID, spec2); err != nil || con2.QueueConsumerSpec != spec2 {
		t.Fatalf("UpdateQueueConsumer = %+v, %v", con2, err)
	}
	got, err := c.GetQueue(ctx, q.ID)
	if err != nil || len(got.Consumers) != 1 || got.Consumers[0].QueueConsumerSpec != spec2 {
		t.Fatalf("GetQueue = %+v, %v", got, err)
	}
	if err := c.DeleteQueueConsumer(ctx, q.ID, con.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteQueueConsumer(ctx, q.ID, con.ID); !IsNotFound(err) {
		t.Fatalf("deleting the consumer again: %v", err)
	}
	all, err := c.ListQueues(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("ListQueues = %+v, %v", all, err)
	}
	for _, id := range []string{q.ID, dlq.ID} {
		if err := c.DeleteQueue(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.GetQueue(ctx, q.ID); !IsNotFound(err) {
		t.Fatalf("GetQueue after delete: %v", err)
	}
}
