// Package queues emulates Cloudflare Queues: queues (create, list, get, update, edit, delete,
// with settings.delivery_delay and message_retention_period), their Worker consumers (one per
// queue, with batch_size, max_retries, max_wait_time_ms, max_concurrency, retry_delay and a
// dead-letter queue) and message pushes (the REST endpoints, which the runtime's producer
// binding also uses).
//
// Messages live in the edge's store until a consumer acknowledges them, so an edge restart
// loses none: the delivery loop (started by Deliver with the Workers runtime) leases ready
// messages in memory only, hands them to the consumer's queue handler in batches, and then
// deletes the acknowledged ones, schedules retries (retry_delay, or the delay the handler
// asked for) and moves a message that failed max_retries+1 deliveries to the dead-letter queue
// (or drops it when there is none, as Cloudflare does). A lease dies with the process, so a
// batch that was in flight at a restart is delivered again: at-least-once.
package queues

import (
	"sync"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Config configures the queues product.
type Config struct {
	Store *api.Store
	// Now is the clock of timestamps and of delays (delivery_delay, retry_delay).
	Now func() time.Time
	// ScriptExists reports whether a Worker script exists (a consumer's script_name must).
	ScriptExists func(name string) bool
}

// Queues is the Queues product of the local edge.
type Queues struct {
	cfg Config

	mu       sync.Mutex
	delivery *delivery // the running delivery loop, nil without a runtime
	wake     chan struct{}
}

// New returns the queues product.
func New(cfg Config) *Queues {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Queues{cfg: cfg, wake: make(chan struct{}, 1)}
}

func (s *Queues) now() time.Time { return s.cfg.Now().UTC() }

// Routes is the Queues API.
func (s *Queues) Routes() []api.Route {
	const qs = "/accounts/{account_id}/queues"
	const one = qs + "/{queue_id}"
	const consumers = one + "/consumers"
	return []api.Route{
		{Pattern: "POST " + qs, Handle: s.createQueue},
		{Pattern: "GET " + qs, Handle: s.listQueues},
		{Pattern: "GET " + one, Handle: s.getQueue},
		{Pattern: "PUT " + one, Handle: s.updateQueue},
		{Pattern: "PATCH " + one, Handle: s.editQueue},
		{Pattern: "DELETE " + one, Handle: s.deleteQueue},
		{Pattern: "POST " + consumers, Handle: s.createConsumer},
		{Pattern: "GET " + consumers, Handle: s.listConsumers},
		{Pattern: "GET " + consumers + "/{consumer_id}", Handle: s.getConsumer},
		{Pattern: "PUT " + consumers + "/{consumer_id}", Handle: s.updateConsumer},
		{Pattern: "DELETE " + consumers + "/{consumer_id}", Handle: s.deleteConsumer},
		{Pattern: "POST " + one + "/messages", Handle: s.pushMessage},
		{Pattern: "POST " + one + "/messages/batch", Handle: s.pushBatch},
	}
}
