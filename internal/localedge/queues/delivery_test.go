package queues_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	cloudflare "github.com/cloudflare/cloudflare-go/v7"
	cfqueues "github.com/cloudflare/cloudflare-go/v7/queues"
	cfworkers "github.com/cloudflare/cloudflare-go/v7/workers"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/queues"
)

// producerJS sends the request's JSON array through the Q binding in one sendBatch.
const producerJS = `
export default {
  async fetch(request, env) {
    const bodies = await request.json();
    await env.Q.sendBatch(bodies.map((body) => ({ body })));
    return new Response("sent " + bodies.length);
  },
};`

// sinkConsumerJS posts each batch to env.SINK and then retries the messages whose body says
// fail (acknowledging the others); when the sink refuses, the handler throws.
const sinkConsumerJS = `
export default {
  async queue(batch, env) {
    const messages = batch.messages.map((m) => ({ id: m.id, body: m.body, attempts: m.attempts }));
    const res = await fetch(env.SINK, { method: "POST", body: JSON.stringify({ queue: batch.queue, messages }) });
    if (!res.ok) throw new Error("sink refused: " + res.status);
    for (const m of batch.messages) {
      if (m.body && m.body.fail) m.retry(); else m.ack();
    }
  },
};`

type delivered struct {
	Queue    string `json:"queue"`
	Messages []struct {
		ID       string         `json:"id"`
		Body     map[string]any `json:"body"`
		Attempts int            `json:"attempts"`
	} `json:"messages"`
}

// sink records the batches consumers post to it; it refuses them while refuse is set.
type sink struct {
	*httptest.Server
	mu      sync.Mutex
	batches []delivered
	// accepted holds the bodies' n of the messages of the batches the sink did not refuse.
	accepted map[any]int
	refuse   bool
}

func newSink(t *testing.T) *sink {
	s := &sink{accepted: map[any]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var d delivered
		if err := json.Unmarshal(body, &d); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.batches = append(s.batches, d)
		if s.refuse {
			http.Error(w, "refused", http.StatusServiceUnavailable)
			return
		}
		for _, m := range d.Messages {
			s.accepted[m.Body["n"]]++
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) setRefuse(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = v
}

// deliveries lists the distinct "queue:n:attempts" of the messages delivered, sorted. (A
// delivery whose result was lost in transit is repeated as the same attempt: at-least-once.)
func (s *sink) deliveries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	out := []string{}
	for _, b := range s.batches {
		for _, m := range b.Messages {
			d := fmt.Sprintf("%s:%v:%d", b.Queue, m.Body["n"], m.Attempts)
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Strings(out)
	return out
}

// acceptedCount counts the distinct messages the sink accepted.
func (s *sink) acceptedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

func (s *sink) firstBatch() delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.batches[0]
}

// waitFor polls until the sink has seen want deliveries, then checks them.
func (s *sink) waitFor(t *testing.T, want ...string) {
	t.Helper()
	sort.Strings(want)
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := s.deliveries()
		if len(got) >= len(want) {
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("deliveries = %v, want %v", got, want)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries = %v, still waiting for %v", got, want)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

func sinkBinding(url string) cfworkers.ScriptUpdateParamsMetadataBindingUnion {
	return cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindPlainText{
		Name: cloudflare.F("SINK"), Type: cloudflare.F(cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindPlainTextTypePlainText), Text: cloudflare.F(url),
	}
}

// uploadProducer uploads the producer Worker, bound to queue as Q and on workers.dev.
func (e *env) uploadProducer(queue string) {
	e.T.Helper()
	e.mustUpload("producer", producerJS, queueBinding("Q", queue))
	if _, err := e.workers.Scripts.Subdomain.New(e.ctx, "producer", cfworkers.ScriptSubdomainNewParams{AccountID: account, Enabled: cloudflare.F(true)}); err != nil {
		e.T.Fatal(err)
	}
}

func (e *env) publish(bodies ...map[string]any) {
	e.T.Helper()
	payload, _ := json.Marshal(bodies)
	req, _ := http.NewRequest(http.MethodPost, e.EdgeURL+"/", strings.NewReader(string(payload)))
	req.Host = "producer.localhost"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK {
		e.T.Fatalf("publish: %d %s", res.StatusCode, body)
	}
}

// A producer's sendBatch reaches the consumer in one batch; a message the consumer retries is
// delivered max_retries+1 times and then lands in the dead-letter queue, whose consumer gets it.
func TestDeliveryRetriesThenDeadLetter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, edgetest.WithWorkers())
	s := newSink(t)
	q := e.mustCreate("orders")
	dlq := e.mustCreate("orders-dlq")
	e.uploadProducer("orders")
	e.mustUpload("consumer", sinkConsumerJS, sinkBinding(s.URL))
	e.mustUpload("dead-letters", sinkConsumerJS, sinkBinding(s.URL))
	settings := cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{BatchSize: cloudflare.F(5.0), MaxRetries: cloudflare.F(2.0), MaxWaitTimeMs: cloudflare.F(200.0)}
	if _, err := e.addConsumer(q.QueueID, consumer("consumer", "orders-dlq", settings)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.addConsumer(dlq.QueueID, consumer("dead-letters", "", settings)); err != nil {
		t.Fatal(err)
	}
	e.publish(map[string]any{"n": 1}, map[string]any{"n": 2}, map[string]any{"n": 3}, map[string]any{"n": 4, "fail": true})
	s.waitFor(t, "orders:1:1", "orders:2:1", "orders:3:1", "orders:4:1", "orders:4:2", "orders:4:3", "orders-dlq:4:1")
	if first := s.firstBatch(); len(first.Messages) != 4 || first.Queue != "orders" {
		t.Fatalf("first batch = %+v, want the 4 messages of the sendBatch together", first)
	}
	waitBacklog(t, e.Server, "orders", 0)
	waitBacklog(t, e.Server, "orders-dlq", 0)
}

func waitBacklog(t *testing.T, srv *localedge.Server, queue string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := srv.QueueBacklog(queue)
		if err != nil {
			t.Fatal(err)
		}
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue %s holds %d messages, want %d", queue, n, want)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

// Messages the consumer has not acknowledged when the edge stops (failed and waiting for
// their retry_delay) are delivered by the next edge on the same store: none is lost.
func TestDeliverySurvivesEdgeRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	withDir := edgetest.WithConfig(func(c *localedge.Config) { c.DataDir = dir })
	s := newSink(t)
	s.setRefuse(true)
	e1 := newEnv(t, withDir, edgetest.WithWorkers())
	q := e1.mustCreate("orders")
	e1.uploadProducer("orders")
	e1.mustUpload("consumer", sinkConsumerJS, sinkBinding(s.URL))
	settings := cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{BatchSize: cloudflare.F(10.0), MaxRetries: cloudflare.F(5.0), MaxWaitTimeMs: cloudflare.F(0.0), RetryDelay: cloudflare.F(60.0)}
	if _, err := e1.addConsumer(q.QueueID, consumer("consumer", "", settings)); err != nil {
		t.Fatal(err)
	}
	var bodies []map[string]any
	for i := range 20 {
		bodies = append(bodies, map[string]any{"n": i})
	}
	e1.publish(bodies...)
	// Every message is tried once and refused; the edge's clock stands still, so the retries
	// wait for 60 s that do not pass before the restart.
	deadline := time.Now().Add(60 * time.Second)
	for len(s.deliveries()) < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("first deliveries: %v", s.deliveries())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if n, err := e1.Server.QueueBacklog("orders"); err != nil || n != 20 {
		t.Fatalf("before the restart the queue holds %d messages (%v), want 20", n, err)
	}
	later := e1.Clock.Now().Add(time.Minute)
	if err := e1.Close(); err != nil {
		t.Fatal(err)
	}

	s.setRefuse(false)
	e2 := newEnv(t, withDir, edgetest.WithWorkers())
	e2.Clock.Set(later)
	// At-least-once: a batch whose refusal had not been recorded when the first edge stopped is
	// delivered again as a first attempt, the others as a second one; every message arrives.
	deadline = time.Now().Add(60 * time.Second)
	for s.acceptedCount() < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart %d of 20 messages arrived: %v", s.acceptedCount(), s.deliveries())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	waitBacklog(t, e2.Server, "orders", 0)
}

// Each attempt of a message is delivered once: a dispatch that read the queue before a batch's
// outcome was stored must not hand the batch out again once its lease is released.
func TestDeliveryNeverRepeatsAnAttempt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	q := e.mustCreate("orders")
	e.mustUpload("consumer", `export default { queue() {} }`)
	settings := cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{BatchSize: cloudflare.F(1.0), MaxRetries: cloudflare.F(3.0), MaxWaitTimeMs: cloudflare.F(0.0)}
	if _, err := e.addConsumer(q.QueueID, consumer("consumer", "", settings)); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	attempts := map[string][]int{}
	stop := e.Server.DeliverQueues(func(_ context.Context, _, _ string, batch []queues.Message) (queues.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range batch {
			attempts[m.ID] = append(attempts[m.ID], m.Attempts)
		}
		return queues.Result{Outcome: "exception"}, nil // every attempt fails: retried, then dropped
	})
	t.Cleanup(stop)
	const n = 200
	msgs := make([]cfqueues.MessageBulkPushParamsMessageUnion, n)
	for i := range msgs {
		msgs[i] = cfqueues.MessageBulkPushParamsMessagesMqQueueMessageText{Body: cloudflare.F(fmt.Sprint(i)), ContentType: cloudflare.F(cfqueues.MessageBulkPushParamsMessagesMqQueueMessageTextContentTypeText)}
	}
	for _, part := range [][]cfqueues.MessageBulkPushParamsMessageUnion{msgs[:n/2], msgs[n/2:]} { // 100 per request at most
		if _, err := e.queues.Messages.BulkPush(e.ctx, q.QueueID, cfqueues.MessageBulkPushParams{AccountID: account, Messages: cloudflare.F(part)}); err != nil {
			t.Fatal(err)
		}
	}
	waitBacklog(t, e.Server, "orders", 0)
	stop()
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != n {
		t.Fatalf("%d messages delivered, want %d", len(attempts), n)
	}
	for id, got := range attempts {
		if fmt.Sprint(got) != "[1 2 3 4]" {
			t.Fatalf("message %s delivered on attempts %v, want [1 2 3 4] (max_retries = 3)", id, got)
		}
	}
}
