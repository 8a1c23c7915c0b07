package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
)

const kvAddress = "servicesdo_kv_namespace.test"

var hex32 = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestAccKVNamespace_basic(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	title, renamed := uniqueName("tf-acc-kv"), uniqueName("tf-acc-kv-renamed")
	var createdID string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkKVNamespacesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.kvConfig(title, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(kvAddress, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(kvAddress, tfjsonpath.New("id"), knownvalue.StringRegexp(hex32)),
					statecheck.ExpectKnownValue(kvAddress, tfjsonpath.New("title"), knownvalue.StringExact(title)),
					statecheck.ExpectKnownValue(kvAddress, tfjsonpath.New("supports_url_encoding"), knownvalue.Bool(true)),
					statecheck.ExpectKnownValue(kvAddress, tfjsonpath.New("force_destroy"), knownvalue.Bool(false)),
				},
				Check: func(s *terraform.State) error {
					createdID = s.RootModule().Resources[kvAddress].Primary.ID
					ns, err := edge.client.GetKVNamespace(context.Background(), createdID)
					if err != nil {
						return err
					}
					if ns.Title != title {
						return fmt.Errorf("API has title %q, want %q", ns.Title, title)
					}
					return nil
				},
			},
			{
				// Re-planning the same configuration changes nothing.
				Config:           edge.kvConfig(title, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:      kvAddress,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// A new title renames in place: same id.
				Config: edge.kvConfig(renamed, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(kvAddress, plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					if id := s.RootModule().Resources[kvAddress].Primary.ID; id != createdID {
						return fmt.Errorf("rename replaced the namespace: id %s, was %s", id, createdID)
					}
					ns, err := edge.client.GetKVNamespace(context.Background(), createdID)
					if err != nil {
						return err
					}
					if ns.Title != renamed {
						return fmt.Errorf("API has title %q, want %q", ns.Title, renamed)
					}
					return nil
				},
			},
			{
				Config:           edge.kvConfig(renamed, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func TestAccKVNamespace_importBlock(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	title := uniqueName("tf-acc-kv-import")
	ns, err := edge.client.CreateKVNamespace(context.Background(), title)
	if err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkKVNamespacesDestroyed,
		Steps: []resource.TestStep{{
			// An import block adopts the existing namespace; a matching config plans no change.
			Config: edge.kvConfig(title, "") + fmt.Sprintf("\nimport {\n  to = %s\n  id = %q\n}\n", kvAddress, ns.ID),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(kvAddress, plancheck.ResourceActionNoop),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(kvAddress, tfjsonpath.New("id"), knownvalue.StringExact(ns.ID)),
			},
		}},
	})
}

func TestAccKVNamespace_disappears(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	title := uniqueName("tf-acc-kv-gone")
	var id string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkKVNamespacesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.kvConfig(title, ""),
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources[kvAddress].Primary.ID
					return nil
				},
			},
			{
				// Deleted out of band: the refresh drops it and the plan recreates it.
				PreConfig: func() {
					if err := edge.client.DeleteKVNamespace(context.Background(), id); err != nil {
						t.Fatal(err)
					}
				},
				Config: edge.kvConfig(title, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(kvAddress, plancheck.ResourceActionCreate),
				}},
				Check: func(s *terraform.State) error {
					if newID := s.RootModule().Resources[kvAddress].Primary.ID; newID == id {
						return fmt.Errorf("namespace was not recreated: id %s", newID)
					}
					return nil
				},
			},
		},
	})
}

func TestAccKVNamespace_drift(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	title := uniqueName("tf-acc-kv-drift")
	var id string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkKVNamespacesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.kvConfig(title, ""),
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources[kvAddress].Primary.ID
					return nil
				},
			},
			{
				// Renamed out of band: the plan renames it back, in place.
				PreConfig: func() {
					if _, err := edge.client.RenameKVNamespace(context.Background(), id, title+"-changed"); err != nil {
						t.Fatal(err)
					}
				},
				Config: edge.kvConfig(title, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(kvAddress, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(kvAddress, tfjsonpath.New("title"), knownvalue.StringExact(title)),
				}},
			},
		},
	})
}

func TestAccKVNamespace_forceDestroy(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	title := uniqueName("tf-acc-kv-full")
	var id string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkKVNamespacesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.kvConfig(title, ""),
				Check: func(s *terraform.State) error {
					id = s.RootModule().Resources[kvAddress].Primary.ID
					for _, k := range []string{"a", "b/c", "d e"} {
						if err := edge.client.PutKVValue(context.Background(), id, k, []byte("v"), nil); err != nil {
							return err
						}
					}
					return nil
				},
			},
			{
				// Without force_destroy, destroying a namespace with keys fails and deletes nothing.
				Config:      edge.kvConfig(title, ""),
				Destroy:     true,
				ExpectError: expectError("still holds 3 key(s); nothing was deleted. To delete it with its keys, set force_destroy = true and apply before destroying"),
			},
			{
				Config: edge.kvConfig(title, "force_destroy = true"),
				Check: func(*terraform.State) error {
					keys, err := edge.client.ListKVKeys(context.Background(), id, "")
					if err != nil {
						return err
					}
					if len(keys) != 3 {
						return fmt.Errorf("the failed destroy lost data: %d keys left, want 3", len(keys))
					}
					return nil
				},
			},
		},
	})
}

// A namespace holding keys is never adopted: the create fails with the import hint, and the
// namespace keeps its keys.
func TestAccKVNamespace_duplicateTitle(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	title := uniqueName("tf-acc-kv-dup")
	existing, err := edge.client.CreateKVNamespace(context.Background(), title)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = edge.client.DeleteKVNamespace(context.Background(), existing.ID) })
	if err := edge.client.PutKVValue(context.Background(), existing.ID, "someone-elses", []byte("data"), nil); err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config: edge.kvConfig(title, ""),
			ExpectError: expectError(fmt.Sprintf("A KV namespace titled %q already exists in account %s (namespace %s). It holds 1 key(s), so it was not adopted: "+
				"only an empty namespace, as an interrupted create leaves it, is adopted. Titles are unique per account", title, edge.accountID, existing.ID)),
		}},
	})
	if v, err := edge.client.GetKVValue(context.Background(), existing.ID, "someone-elses"); err != nil || string(v) != "data" {
		t.Fatalf("the refused namespace lost its data: %q, %v", v, err)
	}
}

// Two resources with one title: the second does not adopt the first's new, empty namespace.
func TestAccKVNamespace_sameTitleTwice(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	title := uniqueName("tf-acc-kv-twice")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkNoKVNamespacesTitled(title),
		Steps: []resource.TestStep{{
			Config: edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_kv_namespace" "a" {
  title = %[1]q
}
resource "servicesdo_kv_namespace" "b" {
  title = %[1]q
}
`, title),
			ExpectError: expectError("Another servicesdo_kv_namespace of this configuration created or adopted it: give each resource its own title."),
		}},
	})
}

// A create whose answer was lost after the API committed it (connection dropped, body cut
// short) adopts the namespace it made: the apply succeeds, nothing is duplicated or orphaned,
// and destroy leaves nothing behind.
func TestAccKVNamespace_lostCreateAnswer(t *testing.T) {
	t.Parallel()
	for name, kind := range map[string]localedge.FaultKind{"dropped": localedge.FaultDropAfterCommit, "truncated": localedge.FaultTruncate} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			edge := newTestEdge(t)
			edge.requireLocal(t)
			prefix := uniqueName("tf-acc-kv-lost")
			edge.local.InjectFault(localedge.Fault{Kind: kind, Method: http.MethodPost, PathContains: "/storage/kv/namespaces", Times: 3})
			config := edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_kv_namespace" "test" {
  count = 3
  title = "%s-${count.index}"
}
`, prefix)
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				CheckDestroy:             edge.checkNoKVNamespacesTitled(prefix),
				Steps: []resource.TestStep{
					{
						Config: config,
						Check: func(s *terraform.State) error {
							if hits := edge.local.FaultHits(); hits != 3 {
								return fmt.Errorf("%d creates lost their answer, want 3: the test proves nothing", hits)
							}
							return edge.checkKVStateMatchesAccount(s, prefix, 3)
						},
					},
					{
						Config:           config,
						ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
					},
				},
			})
		})
	}
}

// Terraform killed after "Creating..." leaves a namespace that no state records. The next apply
// adopts it while it is empty, instead of failing with "already exists".
func TestAccKVNamespace_adoptsLeftoverOfKilledRun(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	title := uniqueName("tf-acc-kv-leftover")
	leftover, err := edge.client.CreateKVNamespace(context.Background(), title)
	if err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkNoKVNamespacesTitled(title),
		Steps: []resource.TestStep{
			{
				Config: edge.kvConfig(title, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(kvAddress, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(kvAddress, tfjsonpath.New("id"), knownvalue.StringExact(leftover.ID)),
				},
			},
			{
				Config:           edge.kvConfig(title, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func TestAccKVNamespace_invalidTitle(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	for name, title := range map[string]string{"empty": "", "too long": strings.Repeat("x", 513)} {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      edge.kvConfig(title, ""),
					PlanOnly:    true,
					ExpectError: expectError("Attribute title string length must be between 1 and 512, got:"),
				}},
			})
		})
	}
}

// An apply converges while the API answers every other request with a 429 or a 5xx.
func TestAccKVNamespace_retriesThroughFaults(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultRateLimit, RetryAfter: "0", PathContains: "/storage/kv/", Every: 2})
	edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Status: 503, PathContains: "/storage/kv/", Every: 3})
	config := edge.providerBlock("max_retries = 4") + `
resource "servicesdo_kv_namespace" "test" {
  count = 3
  title = "tf-acc-kv-faults-${count.index}"
}
`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkKVNamespacesDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: func(*terraform.State) error {
					all, err := edge.client.ListKVNamespaces(context.Background())
					if err != nil {
						return err
					}
					if len(all) != 3 {
						return fmt.Errorf("want exactly 3 namespaces (no duplicates from retries), got %d", len(all))
					}
					if edge.local.FaultHits() == 0 {
						return errors.New("no fault was injected: the test proves nothing")
					}
					return nil
				},
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func (e *testEdge) kvConfig(title, extra string) string {
	return e.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_kv_namespace" "test" {
  title = %q
  %s
}
`, title, extra)
}

// checkNoKVNamespacesTitled verifies that no namespace whose title starts with prefix is left
// in the account: nothing orphaned, nothing duplicated and left behind by destroy.
func (e *testEdge) checkNoKVNamespacesTitled(prefix string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		all, err := e.client.ListKVNamespaces(context.Background())
		if err != nil {
			return err
		}
		for _, ns := range all {
			if strings.HasPrefix(ns.Title, prefix) {
				return fmt.Errorf("KV namespace %s (%q) was left behind", ns.ID, ns.Title)
			}
		}
		return nil
	}
}

// checkKVStateMatchesAccount verifies that the account has exactly want namespaces titled with
// prefix and that the state records each of them.
func (e *testEdge) checkKVStateMatchesAccount(s *terraform.State, prefix string, want int) error {
	inState := map[string]bool{}
	for _, rs := range s.RootModule().Resources {
		if rs.Type == "servicesdo_kv_namespace" {
			inState[rs.Primary.ID] = true
		}
	}
	all, err := e.client.ListKVNamespaces(context.Background())
	if err != nil {
		return err
	}
	n := 0
	for _, ns := range all {
		if !strings.HasPrefix(ns.Title, prefix) {
			continue
		}
		n++
		if !inState[ns.ID] {
			return fmt.Errorf("KV namespace %s (%q) exists but no state records it: an orphan", ns.ID, ns.Title)
		}
	}
	if n != want || len(inState) != want {
		return fmt.Errorf("%d namespaces in the account and %d in the state, want %d", n, len(inState), want)
	}
	return nil
}

// checkKVNamespacesDestroyed verifies that every namespace in the state is gone.
func (e *testEdge) checkKVNamespacesDestroyed(s *terraform.State) error {
	return checkAllGone(s, "servicesdo_kv_namespace", "KV namespace", func(rs *terraform.ResourceState) error {
		_, err := e.client.GetKVNamespace(context.Background(), rs.Primary.ID)
		return err
	})
}
