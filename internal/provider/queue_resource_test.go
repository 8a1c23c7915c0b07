package provider

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

const queueAddress = "servicesdo_queue.test"

func TestAccQueue_basic(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	name, renamed := uniqueName("tf-acc-q"), uniqueName("tf-acc-q-renamed")
	var id string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkQueuesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.queueConfig(name, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(queueAddress, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(queueAddress, tfjsonpath.New("id"), knownvalue.StringRegexp(hex32)),
					statecheck.ExpectKnownValue(queueAddress, tfjsonpath.New("delivery_delay"), knownvalue.Int64Exact(0)),
					statecheck.ExpectKnownValue(queueAddress, tfjsonpath.New("message_retention"), knownvalue.Int64Exact(345600)),
				},
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources[queueAddress].Primary.ID
					return edge.wantQueue(id, name, 0, 345600)
				},
			},
			{Config: edge.queueConfig(name, ""), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{ResourceName: queueAddress, ImportState: true, ImportStateVerify: true},
			{
				// Importing by name finds the same queue.
				ResourceName: queueAddress, ImportState: true, ImportStateVerify: true, ImportStateId: name,
			},
			{
				// Settings and the name change in place: same id.
				Config: edge.queueConfig(renamed, "delivery_delay = 30\n  message_retention = 3600"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(queueAddress, plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if got := s.RootModule().Resources[queueAddress].Primary.ID; got != id {
						return fmt.Errorf("the update replaced the queue: id %s, was %s", got, id)
					}
					return edge.wantQueue(id, renamed, 30, 3600)
				},
			},
			{Config: edge.queueConfig(renamed, "delivery_delay = 30\n  message_retention = 3600"), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
			{
				// Drift: a setting changed out of band is planned back.
				PreConfig: func() {
					if _, err := edge.client.UpdateQueue(context.Background(), id, cloudflare.QueueSpec{Name: renamed, DeliveryDelay: 5, MessageRetention: 3600}); err != nil {
						t.Fatal(err)
					}
				},
				Config: edge.queueConfig(renamed, "delivery_delay = 30\n  message_retention = 3600"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(queueAddress, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error { return edge.wantQueue(id, renamed, 30, 3600) },
			},
			{
				// Deleted out of band: the refresh drops it and the plan recreates it.
				PreConfig: func() {
					if err := edge.client.DeleteQueue(context.Background(), id); err != nil {
						t.Fatal(err)
					}
				},
				Config: edge.queueConfig(renamed, "delivery_delay = 30\n  message_retention = 3600"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(queueAddress, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func TestAccQueue_invalid(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	for _, tc := range []struct{ name, extra, want string }{
		{"Orders", "", `Attribute name must be lowercase letters, digits and '-'`},
		{"orders", "delivery_delay = 43201", `Attribute delivery_delay value must be between 0 and 43200, got: 43201`},
		{"orders", "message_retention = 59", `Attribute message_retention value must be between 60 and 1209600, got: 59`},
	} {
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testProviders,
			Steps:                    []resource.TestStep{{Config: edge.queueConfig(tc.name, tc.extra), PlanOnly: true, ExpectError: expectError(tc.want)}},
		})
	}
}

// A queue of the name that already has a consumer is in use: the create fails and says how to
// import it, and nothing is changed.
func TestAccQueue_nameTaken(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	ctx := context.Background()
	name := uniqueName("tf-acc-q-taken")
	q, err := edge.client.CreateQueue(ctx, cloudflare.QueueSpec{Name: name, MessageRetention: 600})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := edge.client.UploadScript(ctx, cloudflare.ScriptUpload{Name: name, MainModule: "index.js", CompatibilityDate: "2025-01-01",
		Modules: []cloudflare.Module{{Name: "index.js", Content: []byte(`export default { async queue() {} }`)}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := edge.client.CreateQueueConsumer(ctx, q.ID, cloudflare.QueueConsumerSpec{ScriptName: name, BatchSize: 10, MaxRetries: 3, MaxWaitTimeMs: 5000}); err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      edge.queueConfig(name, ""),
			ExpectError: expectError(fmt.Sprintf("a queue named %q already exists in account %s (queue %s)", name, edge.accountID, q.ID)),
		}},
	})
	if err := edge.wantQueue(q.ID, name, 0, 600); err != nil {
		t.Fatal(err)
	}
}

func (e *testEdge) queueConfig(name, extra string) string {
	return e.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_queue" "test" {
  name = %q
  %s
}
`, name, extra)
}

func (e *testEdge) wantQueue(id, name string, delay, retention int64) error {
	q, err := e.client.GetQueue(context.Background(), id)
	if err != nil {
		return err
	}
	if q.Name != name || q.DeliveryDelay != delay || q.MessageRetention != retention {
		return fmt.Errorf("API has queue %+v, want name %q, delivery_delay %d, message_retention %d", q, name, delay, retention)
	}
	return nil
}

// checkQueuesDestroyed verifies that every queue in the state is gone.
func (e *testEdge) checkQueuesDestroyed(s *terraform.State) error {
	return checkAllGone(s, "servicesdo_queue", "queue", func(rs *terraform.ResourceState) error {
		_, err := e.client.GetQueue(context.Background(), rs.Primary.ID)
		return err
	})
}
