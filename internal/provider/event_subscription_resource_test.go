package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

// newEventsEdge is a test edge that also runs the deployed Workers in Miniflare, on wall
// clocks (retries and batch timeouts pass in real time).
func newEventsEdge(t *testing.T) (*testEdge, *edgetest.Env) {
	t.Helper()
	env := edgetest.Start(t, edgetest.WithConfig(func(c *localedge.Config) {
		c.AccountID, c.Token, c.Now, c.NoWorkersSubdomain = testAccountID, testToken, nil, true
	}), edgetest.WithWorkers(func(c *edge.Config) { c.Clock = nil }))
	client, err := cloudflare.New(cloudflare.Config{AccountID: testAccountID, APIToken: testToken, BaseURL: env.BaseURL, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	return &testEdge{local: env.Server, baseURL: env.BaseURL, accountID: testAccountID, token: testToken, client: client}, env
}

// The publisher sends the request's events to the topic; the subscribers post what they get
// to SINK and throw for events whose id starts with "fail" (the sink then never acknowledges).
const (
	publisherJS = `export default {
  async fetch(request, env) {
    const events = await request.json();
    await env.EVENTS.sendBatch(events.map((body) => ({ body, contentType: "json" })));
    return new Response("published");
  },
};
`
	subscriberJS = `export default {
  async queue(batch, env) {
    for (const m of batch.messages) {
      await fetch(env.SINK, { method: "POST", body: JSON.stringify({ service: env.SERVICE, type: m.body.type, id: m.body.id, attempts: m.attempts }) });
      if (m.body.id.startsWith("fail")) throw new Error("cannot handle " + m.body.id);
      m.ack();
    }
  },
};
`
)

// eventsSink records "service type id" per delivery, and the attempts of each.
type eventsSink struct {
	*httptest.Server
	mu       sync.Mutex
	seen     map[string]bool
	attempts map[string][]int
}

func newEventsSink(t *testing.T) *eventsSink {
	s := &eventsSink{seen: map[string]bool{}, attempts: map[string][]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d struct {
			Service, Type, ID string
			Attempts          int
		}
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		key := d.Service + " " + d.Type + " " + d.ID
		s.seen[key] = true
		s.attempts[key] = append(s.attempts[key], d.Attempts)
	}))
	t.Cleanup(s.Close)
	return s
}

// waitFor waits until every wanted delivery arrived, then checks that nothing else did.
func (s *eventsSink) waitFor(want ...string) error {
	sort.Strings(want)
	deadline := time.Now().Add(90 * time.Second)
	for {
		s.mu.Lock()
		got := make([]string, 0, len(s.seen))
		for k := range s.seen {
			got = append(got, k)
		}
		s.mu.Unlock()
		sort.Strings(got)
		if len(got) >= len(want) {
			if strings.Join(got, "|") != strings.Join(want, "|") {
				return fmt.Errorf("deliveries = %v, want %v", got, want)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("deliveries = %v, still waiting for %v", got, want)
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
}

func publish(env *edgetest.Env, events ...map[string]any) error {
	return publishAt(env.Edge.RuntimeAddress(), events...)
}

// publishAt asks the publisher Worker in the runtime serving at addr to send events.
func publishAt(addr string, events ...map[string]any) error {
	body, _ := json.Marshal(events)
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/", strings.NewReader(string(body)))
	req.Header.Set(runtime.ScriptHeader, "tf-acc-publisher")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if b, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK {
		return fmt.Errorf("publish: %d %s", res.StatusCode, b)
	}
	return nil
}

func cloudEvent(typ, id string) map[string]any {
	return map[string]any{"specversion": "1.0", "id": id, "type": typ, "source": "/orders", "time": "2026-08-01T12:00:00Z", "data": map[string]any{"id": id}}
}

// eventsConfig: a topic, two subscriber queues (billing's with a dead-letter queue read by a
// third service), a publisher, two subscribers and their subscriptions.
func (e *testEdge) eventsConfig(dir, sink, billingTypes string) string {
	code := func(name, src string) string { return writeCodeOnce(dir, name, src) }
	pub, sub := code("publisher.js", publisherJS), code("subscriber.js", subscriberJS)
	return e.providerBlock("") + `
resource "servicesdo_queue" "orders" { name = "tf-acc-orders" }
resource "servicesdo_queue" "billing" { name = "tf-acc-orders-billing" }
resource "servicesdo_queue" "billing_dlq" { name = "tf-acc-orders-billing-dlq" }
resource "servicesdo_queue" "analytics" { name = "tf-acc-orders-analytics" }
` + serviceBlock("publisher", "tf-acc-publisher", pub, `queue_producers = { EVENTS = servicesdo_queue.orders.name }`) +
		serviceBlock("billing", "tf-acc-billing", sub, fmt.Sprintf(`vars = { SINK = %q, SERVICE = "billing" }
  queue_consumers = [{ queue = servicesdo_queue.billing.name, max_batch_timeout = 0, max_retries = 1, dead_letter_queue = servicesdo_queue.billing_dlq.name }]`, sink)) +
		serviceBlock("billing_dlq", "tf-acc-billing-dlq", sub, fmt.Sprintf(`vars = { SINK = %q, SERVICE = "billing-dlq" }
  queue_consumers = [{ queue = servicesdo_queue.billing_dlq.name, max_batch_timeout = 0 }]`, sink)) +
		serviceBlock("analytics", "tf-acc-analytics", sub, fmt.Sprintf(`vars = { SINK = %q, SERVICE = "analytics" }
  queue_consumers = [{ queue = servicesdo_queue.analytics.name, max_batch_timeout = 0 }]`, sink)) + fmt.Sprintf(`
resource "servicesdo_event_subscription" "billing" {
  topic      = servicesdo_queue.orders.name
  name       = "billing"
  subscriber = servicesdo_service.billing.name
  queue      = servicesdo_queue.billing.name
  types      = %s
}

resource "servicesdo_event_subscription" "analytics" {
  topic      = servicesdo_queue.orders.name
  name       = "analytics"
  subscriber = servicesdo_service.analytics.name
  queue      = servicesdo_queue.analytics.name
  types      = ["Order.*", "Payment.captured"]
}
`, billingTypes)
}

// serviceBlock is a servicesdo_service running the module file src; extra lines go inside.
func serviceBlock(res, name, src, extra string) string {
	return fmt.Sprintf(`
resource "servicesdo_service" %q {
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  %s
}
`, res, name, src, extra)
}

// writeCodeOnce writes a module file under dir and returns its path.
func writeCodeOnce(dir, name, content string) string {
	p := filepath.Join(dir, name)
	_ = os.WriteFile(p, []byte(content), 0o600)
	return p
}

// Publish → both subscribers receive exactly the typed events they filter; a failing
// consumer retries, then the event lands in its dead-letter queue; changing a filter
// redeploys the fan-out; the last subscription's destroy removes the fan-out Worker and its
// consumer.
func TestAccEventSubscription_endToEnd(t *testing.T) {
	t.Parallel()
	edge, env := newEventsEdge(t)
	sink := newEventsSink(t)
	dir := t.TempDir()
	first := edge.eventsConfig(dir, sink.URL, `["Order.created"]`)
	second := edge.eventsConfig(dir, sink.URL, `["Order.created", "Order.cancelled"]`)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy: func(s *terraform.State) error {
			if _, err := edge.client.GetScript(context.Background(), "tf-acc-orders-fanout"); !cloudflare.IsNotFound(err) {
				return fmt.Errorf("the fan-out Worker outlived its subscriptions: %v", err)
			}
			return edge.checkQueuesDestroyed(s)
		},
		Steps: []resource.TestStep{
			{
				Config: first,
				Check: func(*terraform.State) error {
					if err := publish(env, cloudEvent("Order.created", "o1"), cloudEvent("Order.cancelled", "o2"), cloudEvent("Payment.captured", "p1"),
						cloudEvent("Invoice.sent", "i1"), cloudEvent("Order.created", "fail-1")); err != nil {
						return err
					}
					err := sink.waitFor(
						"analytics Order.cancelled o2", "analytics Order.created fail-1", "analytics Order.created o1", "analytics Payment.captured p1",
						"billing Order.created fail-1", "billing Order.created o1", "billing-dlq Order.created fail-1")
					if err != nil {
						return err
					}
					sink.mu.Lock()
					defer sink.mu.Unlock()
					// max_retries = 1: two deliveries to billing, then the dead-letter queue.
					if got := fmt.Sprint(sink.attempts["billing Order.created fail-1"]); got != "[1 2]" {
						return fmt.Errorf("billing got fail-1 on attempts %s, want [1 2]", got)
					}
					return nil
				},
			},
			{Config: first, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{
				ResourceName: "servicesdo_event_subscription.billing", ImportState: true, ImportStateVerify: true, ImportStateId: "tf-acc-orders/billing",
			},
			{
				Config: second,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_event_subscription.billing", plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("servicesdo_event_subscription.analytics", plancheck.ResourceActionNoop),
				}},
				Check: func(*terraform.State) error {
					if err := publish(env, cloudEvent("Order.cancelled", "o3")); err != nil {
						return err
					}
					return sink.waitFor(
						"analytics Order.cancelled o2", "analytics Order.cancelled o3", "analytics Order.created fail-1", "analytics Order.created o1", "analytics Payment.captured p1",
						"billing Order.cancelled o3", "billing Order.created fail-1", "billing Order.created o1", "billing-dlq Order.created fail-1")
				},
			},
			{Config: second, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}

func TestAccEventSubscription_invalid(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	config := func(topic, name, queue, types string) string {
		return edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_queue" "topic" { name = "tf-acc-topic" }
resource "servicesdo_queue" "sub" { name = "tf-acc-topic-sub" }

resource "servicesdo_event_subscription" "test" {
  topic      = %s
  name       = %q
  subscriber = "billing"
  queue      = %s
  types      = %s
}
`, topic, name, queue, types)
	}
	const topic, queue = "servicesdo_queue.topic.name", "servicesdo_queue.sub.name"
	for _, tc := range []struct{ config, want string }{
		{config(topic, "billing", queue, `["Order..x"]`), `type filter "Order..x" has an empty segment`},
		{config(topic, "billing", queue, `["Order.created", "Order.created"]`), `type filter "Order.created" is listed twice (also types[0]): remove one`},
		{config(topic, "billing", topic, `["*"]`), `queue "tf-acc-topic" is the topic itself: forwarding the topic's events to it would loop`},
		{config(topic, "bill ing", queue, `["*"]`), `must be 1 to 64 letters, digits, '_', '.' or '-'`},
		{config(`"nope"`, "billing", queue, `["*"]`), fmt.Sprintf(`Queue "nope" (topic) does not exist in account %s`, edge.accountID)},
		{config(topic, "billing", `"nope-sub"`, `["*"]`), `Queue "nope-sub" (subscription queue) does not exist`},
	} {
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: expectError(tc.want)}},
		})
	}
}
