package queues_test

import (
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

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// eventConsumerJS posts each event it receives to env.SINK and acknowledges it.
const eventConsumerJS = `
export default {
  async queue(batch, env) {
    const events = batch.messages.map((m) => ({ type: m.body.type, id: m.body.id }));
    const res = await fetch(env.SINK, { method: "POST", body: JSON.stringify({ queue: batch.queue, events }) });
    if (!res.ok) throw new Error("sink refused: " + res.status);
  },
};`

// eventPublisherJS publishes the request's JSON array of events to the topic through Q.
const eventPublisherJS = `
export default {
  async fetch(request, env) {
    const events = await request.json();
    await env.Q.sendBatch(events.map((body) => ({ body, contentType: "json" })));
    return new Response("published " + events.length);
  },
};`

// eventSink records "queue type id" per delivered event, and when each id first arrived.
type eventSink struct {
	*httptest.Server
	mu      sync.Mutex
	seen    map[string]bool
	arrived map[string]time.Time // "queue id" → first arrival
}

func newEventSink(t testing.TB) *eventSink {
	s := &eventSink{seen: map[string]bool{}, arrived: map[string]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var batch struct {
			Queue  string `json:"queue"`
			Events []struct{ Type, ID string }
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		now := time.Now()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, e := range batch.Events {
			s.seen[batch.Queue+" "+e.Type+" "+e.ID] = true
			if _, ok := s.arrived[batch.Queue+" "+e.ID]; !ok {
				s.arrived[batch.Queue+" "+e.ID] = now
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *eventSink) deliveries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.seen))
	for k := range s.seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *eventSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.arrived)
}

// topicSetup is a topic queue consumed by the fixed fan-out Worker, forwarding to two
// subscriber queues, each consumed by a service that reports to a sink.
type topicSetup struct {
	*env
	sink *eventSink
}

func newTopic(t testing.TB, billingTypes, analyticsTypes []string) *topicSetup {
	e := newEnv(t, edgetest.WithWorkers())
	return setupTopic(e, billingTypes, analyticsTypes)
}

func setupTopic(e *env, billingTypes, analyticsTypes []string) *topicSetup {
	t := e.T
	s := newEventSink(t)
	topic := e.mustCreate("orders")
	billing := e.mustCreate("orders-billing")
	analytics := e.mustCreate("orders-analytics")
	e.mustCreate("orders-undeliverable")
	cfg := workers.FanoutConfig{Version: workers.FanoutConfigVersion, Topic: "orders", Subscriptions: []workers.FanoutSubscription{
		{Name: "billing", Binding: workers.FanoutSubscriptionBinding("billing"), Queue: "orders-billing", Types: billingTypes},
		{Name: "analytics", Binding: workers.FanoutSubscriptionBinding("analytics"), Queue: "orders-analytics", Types: analyticsTypes},
	}}
	if problems := workers.ValidateFanoutConfig(cfg); len(problems) > 0 {
		t.Fatalf("fan-out config: %v", problems)
	}
	_, err := e.workers.Scripts.Update(e.ctx, "orders-fanout", cfworkers.ScriptUpdateParams{
		AccountID: account,
		Metadata: cloudflare.F(cfworkers.ScriptUpdateParamsMetadata{
			MainModule: cloudflare.F(workers.FanoutMainModule), CompatibilityDate: cloudflare.F("2025-01-01"),
			Bindings: cloudflare.F([]cfworkers.ScriptUpdateParamsMetadataBindingUnion{
				cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindJson{Name: cloudflare.F(workers.FanoutConfigBinding), Type: cloudflare.F(cfworkers.ScriptUpdateParamsMetadataBindingsWorkersBindingKindJsonTypeJson), Json: cloudflare.F[any](cfg)},
				queueBinding(cfg.Subscriptions[0].Binding, "orders-billing"),
				queueBinding(cfg.Subscriptions[1].Binding, "orders-analytics"),
			}),
		}),
		Files: cloudflare.F([]io.Reader{cloudflare.FileParam(strings.NewReader(workers.FanoutModule), workers.FanoutMainModule, "application/javascript+module").Value}),
	})
	if err != nil {
		t.Fatalf("upload the fan-out Worker: %v", err)
	}
	e.mustUpload("billing", eventConsumerJS, sinkBinding(s.URL))
	e.mustUpload("analytics", eventConsumerJS, sinkBinding(s.URL))
	e.mustUpload("producer", eventPublisherJS, queueBinding("Q", "orders"))
	if _, err := e.workers.Scripts.Subdomain.New(e.ctx, "producer", cfworkers.ScriptSubdomainNewParams{AccountID: account, Enabled: cloudflare.F(true)}); err != nil {
		t.Fatal(err)
	}
	fast := cfqueues.ConsumerNewParamsBodyMqWorkerConsumerRequestSettings{BatchSize: cloudflare.F(100.0), MaxWaitTimeMs: cloudflare.F(0.0), MaxRetries: cloudflare.F(3.0)}
	for _, c := range []struct {
		queue       *cfqueues.Queue
		script, dlq string
	}{{topic, "orders-fanout", "orders-undeliverable"}, {billing, "billing", ""}, {analytics, "analytics", ""}} {
		if _, err := e.addConsumer(c.queue.QueueID, consumer(c.script, c.dlq, fast)); err != nil {
			t.Fatalf("consumer %s: %v", c.script, err)
		}
	}
	return &topicSetup{env: e, sink: s}
}

type event struct {
	SpecVersion string         `json:"specversion"`
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Source      string         `json:"source"`
	Time        string         `json:"time"`
	Data        map[string]any `json:"data"`
}

func orderEvent(typ, id string) event {
	return event{SpecVersion: "1.0", ID: id, Type: typ, Source: "/orders", Time: "2026-08-01T12:00:00Z", Data: map[string]any{"order_id": id}}
}

func (ts *topicSetup) publish(events ...event) error {
	payload, _ := json.Marshal(events)
	req, _ := http.NewRequest(http.MethodPost, ts.EdgeURL+"/", strings.NewReader(string(payload)))
	req.Host = "producer.localhost"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK {
		return fmt.Errorf("publish: %d %s", res.StatusCode, body)
	}
	return nil
}

// Two services subscribe to one topic through the fan-out Worker: each receives exactly the
// events its types filter matches, and every queue ends empty.
func TestFanoutDeliversTypedEventsToEachSubscriber(t *testing.T) {
	t.Parallel()
	ts := newTopic(t, []string{"Order.created"}, []string{"Order.*", "Payment.captured"})
	if err := ts.publish(orderEvent("Order.created", "o1"), orderEvent("Order.cancelled", "o2"), orderEvent("Payment.captured", "p1"),
		orderEvent("Order.created", "o3"), orderEvent("Invoice.sent", "i1")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"orders-analytics Order.cancelled o2", "orders-analytics Order.created o1", "orders-analytics Order.created o3",
		"orders-analytics Payment.captured p1", "orders-billing Order.created o1", "orders-billing Order.created o3",
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(ts.sink.deliveries()) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("deliveries = %v, want %v\n%s", ts.sink.deliveries(), want, ts.Log.String())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	for _, q := range []string{"orders", "orders-billing", "orders-analytics"} {
		waitBacklog(t, ts.Server, q, 0)
	}
	if got := ts.sink.deliveries(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("deliveries = %v, want %v", got, want)
	}
}
