package provider

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

const queueWorker = `export default {
  async fetch(request, env) { await env.ORDERS.send({ n: 1 }); return new Response("sent") },
  async queue(batch) {},
}
`

// queuesConfig declares the orders queue, its dead-letter queue and a service that sends to
// orders and consumes it with the consumer attributes given.
func (e *testEdge) queuesConfig(queue, service, codePath, consumer string) string {
	return e.serviceConfig(service, codePath, fmt.Sprintf(`
  queue_producers = { ORDERS = servicesdo_queue.orders.name }
  queue_consumers = [%s]
}

resource "servicesdo_queue" "orders" {
  name = %q
}

resource "servicesdo_queue" "dlq" {
  name = "%s-dlq"
`, consumer, queue, queue))
}

// consumerOf is the queue's consumer as the API reports it.
func (e *testEdge) consumerOf(queue string) (cloudflare.Queue, *cloudflare.QueueConsumer, error) {
	q, ok, err := e.client.FindQueue(context.Background(), queue)
	switch {
	case err != nil:
		return q, nil, err
	case !ok:
		return q, nil, fmt.Errorf("queue %q does not exist", queue)
	case len(q.Consumers) == 0:
		return q, nil, nil
	}
	return q, &q.Consumers[0], nil
}

func (e *testEdge) wantConsumer(queue string, want cloudflare.QueueConsumerSpec) resource.TestCheckFunc {
	return func(*terraform.State) error {
		_, c, err := e.consumerOf(queue)
		if err != nil {
			return err
		}
		if c == nil || c.QueueConsumerSpec != want {
			return fmt.Errorf("consumer of %s = %+v, want %+v", queue, c, want)
		}
		return nil
	}
}

func TestAccService_queues(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", queueWorker)
	name, queue := uniqueName("tf-acc-svc-q"), uniqueName("tf-acc-orders")
	first := `{ queue = servicesdo_queue.orders.name, max_batch_size = 5, dead_letter_queue = servicesdo_queue.dlq.name }`
	second := `{ queue = servicesdo_queue.orders.name, max_batch_size = 5, max_batch_timeout = 2, max_retries = 7, max_concurrency = 4, retry_delay = 30 }`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             resource.ComposeTestCheckFunc(edge.checkServicesDestroyed, edge.checkQueuesDestroyed),
		Steps: []resource.TestStep{
			{
				Config: edge.queuesConfig(queue, name, code, first),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("queue_consumers").AtSliceIndex(0).AtMapKey("max_retries"), knownvalue.Int64Exact(3)),
					statecheck.ExpectKnownValue(svcAddress, tfjsonpath.New("queue_consumers").AtSliceIndex(0).AtMapKey("max_concurrency"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					edge.wantConsumer(queue, cloudflare.QueueConsumerSpec{ScriptName: name, DeadLetterQueue: queue + "-dlq", BatchSize: 5, MaxRetries: 3, MaxWaitTimeMs: 5000}),
					func(*terraform.State) error {
						bindings, err := edge.bindingsOf(name)
						if err != nil {
							return err
						}
						if b := bindings["ORDERS"]; b["type"] != "queue" || b["queue_name"] != queue {
							return fmt.Errorf("binding ORDERS = %v", b)
						}
						return nil
					},
				),
			},
			{Config: edge.queuesConfig(queue, name, code, first), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{
				// Consumer settings change through the consumers API: no upload.
				PreConfig: edge.local.ResetRequestCounts,
				Config:    edge.queuesConfig(queue, name, code, second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					edge.wantConsumer(queue, cloudflare.QueueConsumerSpec{ScriptName: name, BatchSize: 5, MaxRetries: 7, MaxWaitTimeMs: 2000, MaxConcurrency: 4, RetryDelay: 30}),
					edge.expectRequests(map[string]int{putScript: 0, postVersion: 0}),
				),
			},
			{Config: edge.queuesConfig(queue, name, code, second), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{
				ResourceName: svcAddress, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"modules"},
			},
			{
				// Drift: the consumer changed out of band is planned back.
				PreConfig: func() {
					q, c, err := edge.consumerOf(queue)
					if err != nil || c == nil {
						t.Fatalf("consumer: %v %v", c, err)
					}
					spec := c.QueueConsumerSpec
					spec.MaxRetries = 1
					if _, err := edge.client.UpdateQueueConsumer(context.Background(), q.ID, c.ID, spec); err != nil {
						t.Fatal(err)
					}
				},
				Config: edge.queuesConfig(queue, name, code, second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
				}},
				Check: edge.wantConsumer(queue, cloudflare.QueueConsumerSpec{ScriptName: name, BatchSize: 5, MaxRetries: 7, MaxWaitTimeMs: 2000, MaxConcurrency: 4, RetryDelay: 30}),
			},
			{
				// Deleted out of band: recreated.
				PreConfig: func() {
					q, c, err := edge.consumerOf(queue)
					if err != nil || c == nil {
						t.Fatalf("consumer: %v %v", c, err)
					}
					if err := edge.client.DeleteQueueConsumer(context.Background(), q.ID, c.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config: edge.queuesConfig(queue, name, code, second),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(svcAddress, plancheck.ResourceActionUpdate),
				}},
				Check: edge.wantConsumer(queue, cloudflare.QueueConsumerSpec{ScriptName: name, BatchSize: 5, MaxRetries: 7, MaxWaitTimeMs: 2000, MaxConcurrency: 4, RetryDelay: 30}),
			},
			{
				// No consumers: the consumer is removed, the queue stays.
				Config: edge.queuesConfig(queue, name, code, ""),
				Check: func(*terraform.State) error {
					if _, c, err := edge.consumerOf(queue); err != nil || c != nil {
						return fmt.Errorf("consumer after removal: %+v, %v", c, err)
					}
					return nil
				},
			},
			{Config: edge.queuesConfig(queue, name, code, ""), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		},
	})
}

func TestAccService_queueErrors(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	ctx := context.Background()
	code := writeCode(t, t.TempDir(), "index.js", queueWorker)
	name, queue := uniqueName("tf-acc-svc-qerr"), uniqueName("tf-acc-taken")
	// A queue consumed by a Worker outside the configuration.
	q, err := edge.client.CreateQueue(ctx, cloudflare.QueueSpec{Name: queue, MessageRetention: 600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := edge.client.UploadScript(ctx, cloudflare.ScriptUpload{Name: "outside", MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(queueWorker)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := edge.client.CreateQueueConsumer(ctx, q.ID, cloudflare.QueueConsumerSpec{ScriptName: "outside", BatchSize: 10, MaxRetries: 3, MaxWaitTimeMs: 5000}); err != nil {
		t.Fatal(err)
	}
	two := edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_queue" "shared" {
  name = "%[1]s-shared"
}

resource "servicesdo_service" "a" {
  name               = "%[2]s-a"
  main_module        = "index.js"
  modules            = { "index.js" = %[3]q }
  compatibility_date = "2025-01-01"
  queue_consumers    = [{ queue = servicesdo_queue.shared.name }]
}

resource "servicesdo_service" "b" {
  name               = "%[2]s-b"
  main_module        = "index.js"
  modules            = { "index.js" = %[3]q }
  compatibility_date = "2025-01-01"
  queue_consumers    = [{ queue = servicesdo_queue.shared.name }]
}
`, queue, name, code)
	cases := []struct {
		config string
		want   *regexp.Regexp
	}{
		{edge.serviceConfig(name, code, `queue_producers = { ORDERS = "nope" }`),
			expectError(fmt.Sprintf(`Queue "nope" (binding ORDERS) does not exist in account %s, and no servicesdo_queue of this configuration creates it.`, edge.accountID))},
		{edge.serviceConfig(name, code, `queue_consumers = [{ queue = "nope" }]`),
			expectError(fmt.Sprintf(`Queue "nope" (queue_consumers) does not exist in account %s`, edge.accountID))},
		{edge.serviceConfig(name, code, fmt.Sprintf(`queue_consumers = [{ queue = %q, dead_letter_queue = "nope-dlq" }]`, queue)),
			expectError(`Queue "nope-dlq" (dead_letter_queue) does not exist`)},
		{edge.serviceConfig(name, code, fmt.Sprintf(`queue_consumers = [{ queue = %q }]`, queue)),
			expectError(fmt.Sprintf(`Queue %q is consumed by service "outside": a queue has exactly one consumer.`, queue))},
		{edge.serviceConfig(name, code, fmt.Sprintf(`queue_consumers = [{ queue = %q }, { queue = %q }]`, queue+"-x", queue+"-x")),
			expectError(fmt.Sprintf(`queue_consumers names queue %q more than once`, queue+"-x"))},
		{edge.serviceConfig(name, code, `queue_consumers = [{ queue = "Orders" }]`), expectError(`must be a queue name`)},
		{edge.serviceConfig(name, code, `queue_consumers = [{ queue = "orders", max_batch_size = 101 }]`), expectError(`value must be between 1 and 100, got: 101`)},
	}
	// Either service may be planned first: the other one is refused.
	cases = append(cases, struct {
		config string
		want   *regexp.Regexp
	}{two, regexp.MustCompile(fmt.Sprintf(`Queue "%s-shared" is consumed by service\s+"%s-[ab]": a queue has exactly\s+one\s+consumer\.`, queue, name))})
	for _, tc := range cases {
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			Steps:                    []resource.TestStep{{Config: tc.config, PlanOnly: true, ExpectError: tc.want}},
		})
	}
}
