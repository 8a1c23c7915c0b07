package queues

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Message is one message handed to a consumer's queue handler.
type Message struct {
	ID          string
	Timestamp   time.Time
	ContentType string
	// Body is the JSON value for "json" messages, a JSON string otherwise.
	Body json.RawMessage
	// Attempts counts this delivery: 1 the first time.
	Attempts int
}

// Result is what a consumer's queue handler decided about its batch (workerd's
// FetcherQueueResult): explicit per-message calls win over the batch-wide ones, and a handler
// that returns without deciding acknowledges everything; one that throws retries what it did
// not acknowledge.
type Result struct {
	Outcome string // "ok", or "exception" when the handler threw
	AckAll  bool
	// RetryAll retries the batch after RetryAllDelay seconds (nil: the consumer's retry_delay).
	RetryAll      bool
	RetryAllDelay *int64
	Acks          []string
	// Retries maps message ids to their delay in seconds (nil: the consumer's retry_delay).
	Retries map[string]*int64
}

// Deliverer runs script's queue handler on a batch of queue's messages.
type Deliverer func(ctx context.Context, script, queue string, batch []Message) (Result, error)

// Poll bounds how long a ready message waits for the delivery loop when nothing wakes it
// (a delay that ran out, a clock moved by hand).
const Poll = 20 * time.Millisecond

// transportBackoff is how long a batch that could not reach the runtime at all (it was
// restarting) waits before it is tried again; such a try does not count as an attempt.
const transportBackoff = 200 * time.Millisecond

// delivery is a running delivery loop.
type delivery struct {
	deliver Deliverer
	cancel  context.CancelFunc
	done    chan struct{}

	mu       sync.Mutex
	leased   map[string]bool      // message keys in flight
	inflight map[string]int       // batches in flight per queue id
	waiting  map[string]time.Time // since when a queue has held a partial batch (wall clock)
	backoff  map[string]time.Time // queue id → no delivery before (wall clock)
	wg       sync.WaitGroup
}

// Deliver starts delivering messages to their consumers through d until the returned
// function is called (which waits for the batches in flight).
func (s *Queues) Deliver(d Deliverer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	dl := &delivery{deliver: d, cancel: cancel, done: make(chan struct{}), leased: map[string]bool{}, inflight: map[string]int{}, waiting: map[string]time.Time{}, backoff: map[string]time.Time{}}
	s.mu.Lock()
	s.delivery = dl
	s.mu.Unlock()
	go s.loop(ctx, dl)
	return func() {
		cancel()
		<-dl.done
		dl.wg.Wait()
		s.mu.Lock()
		if s.delivery == dl {
			s.delivery = nil
		}
		s.mu.Unlock()
	}
}

// poke wakes the delivery loop (a push, a new consumer).
func (s *Queues) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *Queues) loop(ctx context.Context, dl *delivery) {
	defer close(dl.done)
	t := time.NewTicker(Poll)
	defer t.Stop()
	for {
		s.dispatch(ctx, dl)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// work is one queue's consumer and its ready messages.
type work struct {
	q     queue
	c     consumer
	ready []message
}

// dispatch starts the batches that are due.
func (s *Queues) dispatch(ctx context.Context, dl *delivery) {
	now := s.now()
	var due []work
	var expired []string
	// The lease table is held across the read: a batch settles (stores its outcome) before
	// its lease is released, so a read that began before the outcome was stored still sees
	// the lease, and never hands the batch out again.
	dl.mu.Lock()
	_ = s.cfg.Store.View(func(tx *api.Tx) error {
		qs, err := api.All[queue](tx, bucketQueues, "")
		if err != nil {
			return err
		}
		for _, q := range qs {
			cs, err := consumersOf(tx, q.ID)
			if err != nil || len(cs) == 0 || q.Settings.DeliveryPaused {
				continue
			}
			msgs, err := api.All[message](tx, bucketMessages, q.ID+"/")
			if err != nil {
				return err
			}
			wk := work{q: q, c: cs[0]}
			retention := time.Duration(q.Settings.MessageRetentionPeriod) * time.Second
			for _, m := range msgs {
				switch {
				case dl.leased[m.Key]:
				case now.Sub(m.SentAt) > retention:
					expired = append(expired, m.Key) // unconsumed for too long: Cloudflare drops it
				case !m.VisibleAt.After(now):
					wk.ready = append(wk.ready, m)
				}
			}
			if len(wk.ready) > 0 {
				due = append(due, wk)
			}
		}
		return nil
	})
	dl.mu.Unlock()
	if len(expired) > 0 {
		_ = s.cfg.Store.Update(func(tx *api.Tx) error {
			for _, k := range expired {
				if err := tx.Delete(bucketMessages, k); err != nil {
					return err
				}
			}
			return nil
		})
	}
	wall := time.Now()
	for _, wk := range due {
		dl.mu.Lock()
		limit := 10 // "autoscaling" locally: up to 10 batches at once
		if wk.c.Settings.MaxConcurrency != nil {
			limit = int(*wk.c.Settings.MaxConcurrency)
		}
		size := int(wk.c.Settings.BatchSize)
		ready := wk.ready
		for len(ready) > 0 && dl.inflight[wk.q.ID] < limit && !wall.Before(dl.backoff[wk.q.ID]) {
			if len(ready) < size {
				since, ok := dl.waiting[wk.q.ID]
				if !ok {
					dl.waiting[wk.q.ID] = wall
					since = wall
				}
				if wall.Sub(since) < time.Duration(wk.c.Settings.MaxWaitTimeMs)*time.Millisecond {
					break // wait for a fuller batch, up to max_wait_time_ms
				}
			}
			delete(dl.waiting, wk.q.ID)
			batch := ready[:min(size, len(ready))]
			ready = ready[len(batch):]
			for _, m := range batch {
				dl.leased[m.Key] = true
			}
			dl.inflight[wk.q.ID]++
			dl.wg.Add(1)
			go s.run(ctx, dl, wk.q, wk.c, batch)
		}
		dl.mu.Unlock()
	}
}

// run delivers one batch and records what the handler decided.
func (s *Queues) run(ctx context.Context, dl *delivery, q queue, c consumer, batch []message) {
	defer dl.wg.Done()
	out := make([]Message, len(batch))
	for i, m := range batch {
		out[i] = Message{ID: m.ID, Timestamp: m.SentAt, ContentType: m.ContentType, Body: m.Body, Attempts: m.Attempts + 1}
	}
	res, err := dl.deliver(ctx, c.ScriptName, q.Name, out)
	if err == nil {
		err = s.settle(c, batch, res)
	}
	dl.mu.Lock()
	defer dl.mu.Unlock()
	for _, m := range batch {
		delete(dl.leased, m.Key)
	}
	dl.inflight[q.ID]--
	if err != nil {
		// Not delivered (the runtime was restarting, or the process is stopping): the messages
		// stay as they were and are tried again.
		dl.backoff[q.ID] = time.Now().Add(transportBackoff)
	}
	s.poke()
}

// settle acknowledges, retries or dead-letters each message of a delivered batch.
func (s *Queues) settle(c consumer, batch []message, res Result) error {
	acked := map[string]bool{}
	for _, id := range res.Acks {
		acked[id] = true
	}
	now := s.now()
	return s.cfg.Store.Update(func(tx *api.Tx) error {
		for _, m := range batch {
			delay, retry := res.Retries[m.ID]
			switch {
			case acked[m.ID]:
			case retry:
			case res.Outcome != "ok":
				retry = true
			case res.RetryAll:
				retry, delay = true, res.RetryAllDelay
			case res.AckAll:
			}
			if !tx.Has(bucketMessages, m.Key) {
				continue // the queue was deleted meanwhile
			}
			if !retry {
				if err := tx.Delete(bucketMessages, m.Key); err != nil {
					return err
				}
				continue
			}
			m.Attempts++
			if m.Attempts <= int(c.Settings.MaxRetries) {
				wait := c.Settings.RetryDelay
				if delay != nil {
					wait = *delay
				}
				m.VisibleAt = now.Add(time.Duration(wait) * time.Second)
				if err := tx.Put(bucketMessages, m.Key, m); err != nil {
					return err
				}
				continue
			}
			if err := tx.Delete(bucketMessages, m.Key); err != nil {
				return err
			}
			if c.DeadLetterQueue == "" {
				continue // dropped after max_retries, as Cloudflare does without a dead-letter queue
			}
			dlq, ok, err := queueByName(tx, c.DeadLetterQueue)
			if err != nil || !ok {
				continue // the dead-letter queue was deleted: dropped
			}
			dead := message{ID: m.ID, Body: m.Body, ContentType: m.ContentType, SentAt: m.SentAt, VisibleAt: now}
			if err := enqueue(tx, dlq.ID, dead); err != nil {
				return err
			}
		}
		return nil
	})
}
