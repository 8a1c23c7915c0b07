package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// heldSubscriberJS reports each event to LEDGER and acknowledges it only when the ledger
// accepts it; a refused event is retried after the consumer's retry_delay.
const heldSubscriberJS = `export default {
  async queue(batch, env) {
    for (const m of batch.messages) {
      const res = await fetch(env.LEDGER, { method: "POST", body: JSON.stringify({ service: env.SERVICE, type: m.body.type, id: m.body.id }) });
      if (res.ok) m.ack(); else m.retry();
    }
  },
};
`

// heldLedger answers 500 to every delivery until released, then 200; it counts the refusals
// and records the accepted deliveries, each as "service type id".
type heldLedger struct {
	*httptest.Server
	mu       sync.Mutex
	refusing bool
	refused  map[string]int
	accepted map[string]bool
}

func newHeldLedger(t *testing.T) *heldLedger {
	l := &heldLedger{refusing: true, refused: map[string]int{}, accepted: map[string]bool{}}
	l.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var d struct{ Service, Type, ID string }
		if err := json.NewDecoder(r.Body).Decode(&d); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		key := d.Service + " " + d.Type + " " + d.ID
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.refusing {
			l.refused[key]++
			http.Error(w, "held", http.StatusInternalServerError)
			return
		}
		l.accepted[key] = true
	}))
	t.Cleanup(l.Close)
	return l
}

func (l *heldLedger) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refusing = false
}

// refusals copies the refusal counts.
func (l *heldLedger) refusals() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(l.refused))
	for k, n := range l.refused {
		out[k] = n
	}
	return out
}

// seen lists every event a subscriber was handed, refused or accepted, sorted.
func (l *heldLedger) seen() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	set := map[string]bool{}
	for k := range l.refused {
		set[k] = true
	}
	for k := range l.accepted {
		set[k] = true
	}
	return sortedKeys(set)
}

func (l *heldLedger) acceptedList() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return sortedKeys(l.accepted)
}

// runtimeAddress is where the current edge's Workers runtime serves.
func (w *restartableWorkers) runtimeAddress() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.current.RuntimeAddress()
}

// restartEventsConfig: a topic, a publisher and two subscribers whose consumers retry every
// second for long enough that nothing is dropped while the ledger holds the deliveries.
func (e *testEdge) restartEventsConfig(dir, ledger string) string {
	pub, sub := writeCodeOnce(dir, "publisher.js", publisherJS), writeCodeOnce(dir, "subscriber.js", heldSubscriberJS)
	subscriber := func(res, queue string) string {
		return serviceBlock(res, "tf-acc-"+res, sub, fmt.Sprintf(`vars = { LEDGER = %q, SERVICE = %q }
  queue_consumers = [{ queue = servicesdo_queue.%s.name, max_batch_timeout = 0, max_retries = 100, retry_delay = 1 }]`, ledger, res, queue))
	}
	return e.providerBlock("") + `
resource "servicesdo_queue" "orders" { name = "tf-acc-orders" }
resource "servicesdo_queue" "billing" { name = "tf-acc-orders-billing" }
resource "servicesdo_queue" "analytics" { name = "tf-acc-orders-analytics" }
` + serviceBlock("publisher", "tf-acc-publisher", pub, `queue_producers = { EVENTS = servicesdo_queue.orders.name }`) +
		subscriber("billing", "billing") + subscriber("analytics", "analytics") + `
resource "servicesdo_event_subscription" "billing" {
  topic      = servicesdo_queue.orders.name
  name       = "billing"
  subscriber = servicesdo_service.billing.name
  queue      = servicesdo_queue.billing.name
  types      = ["Order.created", "Payment.captured"]
}

resource "servicesdo_event_subscription" "analytics" {
  topic      = servicesdo_queue.orders.name
  name       = "analytics"
  subscriber = servicesdo_service.analytics.name
  queue      = servicesdo_queue.analytics.name
  types      = ["Order.*"]
}
`
}

// An edge restart (Workers runtime and queue delivery) while both subscribers hold undelivered
// events loses none: each subscriber gets every event its filter matches, at least once, and
// nothing else; afterwards the plan is empty.
func TestAccEventSubscription_edgeRestart(t *testing.T) {
	tf := newTestEdge(t)
	runtimes := tf.startRestartableWorkers(t)
	ledger := newHeldLedger(t)
	config := tf.restartEventsConfig(t.TempDir(), ledger.URL)

	var events []map[string]any
	var want []string
	for i, typ := range []string{"Order.created", "Order.cancelled", "Payment.captured", "Invoice.sent"} {
		for n := range 4 - i { // 4 created, 3 cancelled, 2 captured, 1 sent
			id := fmt.Sprintf("e%d-%d", i, n)
			events = append(events, cloudEvent(typ, id))
			if typ == "Order.created" || typ == "Payment.captured" {
				want = append(want, "billing "+typ+" "+id)
			}
			if strings.HasPrefix(typ, "Order.") {
				want = append(want, "analytics "+typ+" "+id)
			}
		}
	}
	sort.Strings(want)
	backlogs := func(billing, analytics int) func() bool {
		return func() bool {
			b, errB := tf.local.QueueBacklog("tf-acc-orders-billing")
			a, errA := tf.local.QueueBacklog("tf-acc-orders-analytics")
			return errB == nil && errA == nil && b == billing && a == analytics
		}
	}
	refusedEach := func(before map[string]int) func() bool {
		return func() bool {
			now := ledger.refusals()
			for _, k := range want {
				if now[k] <= before[k] {
					return false
				}
			}
			return true
		}
	}

	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(*terraform.State) error {
					if err := publishAt(runtimes.runtimeAddress(), events...); err != nil {
						return err
					}
					// Every matching event reached its subscriber's queue and was refused: all
					// are undelivered (6 for billing, 7 for analytics) when the edge stops.
					if err := until("each subscriber to be handed (and refuse) each of its events", refusedEach(nil)); err != nil {
						return fmt.Errorf("%w; refusals %v", err, ledger.refusals())
					}
					if err := until("the subscriber queues to hold 6 and 7 messages", backlogs(6, 7)); err != nil {
						return err
					}
					runtimes.restart()
					// The new edge goes on retrying the persisted messages, still refused.
					if err := until("the retries to resume after the restart", refusedEach(ledger.refusals())); err != nil {
						return fmt.Errorf("%w; refusals %v", err, ledger.refusals())
					}
					ledger.release()
					if err := until("every event to be accepted", func() bool { return len(ledger.acceptedList()) >= len(want) }); err != nil {
						return fmt.Errorf("%w; accepted %v, want %v", err, ledger.acceptedList(), want)
					}
					if got := ledger.acceptedList(); strings.Join(got, "|") != strings.Join(want, "|") {
						return fmt.Errorf("accepted %v, want %v", got, want)
					}
					if got := ledger.seen(); strings.Join(got, "|") != strings.Join(want, "|") {
						return fmt.Errorf("the subscribers were handed %v, want only %v", got, want)
					}
					return until("the subscriber queues to drain", backlogs(0, 0))
				},
			},
			{Config: config, ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}
