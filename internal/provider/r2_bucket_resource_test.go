package provider

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
)

const r2Address = "servicesdo_r2_bucket.test"

func TestAccR2Bucket_basic(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	name := uniqueName("tf-acc-r2")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkR2BucketsDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.r2Config(name, `location_hint = "weur"`),
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("id"), knownvalue.StringExact(name)),
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("location"), knownvalue.StringExact("weur")),
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("location_hint"), knownvalue.StringExact("weur")),
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("storage_class"), knownvalue.StringExact("Standard")),
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("jurisdiction"), knownvalue.StringExact("default")),
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("creation_date"), knownvalue.StringRegexp(regexp.MustCompile(`^\d{4}-\d\d-\d\dT`))),
				},
				Check: edge.checkR2Bucket(name, "default", "Standard"),
			},
			{
				Config:           edge.r2Config(name, `location_hint = "weur"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:      r2Address,
				ImportState:       true,
				ImportStateVerify: true,
			},
			{
				// The storage class changes in place.
				Config: edge.r2Config(name, `location_hint = "weur"
  storage_class = "InfrequentAccess"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r2Address, plancheck.ResourceActionUpdate),
				}},
				Check: edge.checkR2Bucket(name, "default", "InfrequentAccess"),
			},
			{
				// A different location hint replaces the bucket.
				Config: edge.r2Config(name, `location_hint = "apac"
  storage_class = "InfrequentAccess"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r2Address, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("location"), knownvalue.StringExact("apac")),
				},
			},
		},
	})
}

// A bucket without a hint takes its location as the hint, so an import of it plans nothing.
func TestAccR2Bucket_jurisdictionImport(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	name := uniqueName("tf-acc-r2-eu")
	if _, err := edge.client.CreateR2Bucket(context.Background(), cloudflare.R2BucketSpec{Name: name, Jurisdiction: "eu"}); err != nil {
		t.Fatal(err)
	}
	config := edge.r2Config(name, `jurisdiction = "eu"`)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkR2BucketsDestroyed,
		Steps: []resource.TestStep{
			{
				Config: config + fmt.Sprintf("\nimport {\n  to = %s\n  id = \"eu/%s\"\n}\n", r2Address, name),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r2Address, plancheck.ResourceActionNoop),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("id"), knownvalue.StringExact("eu/"+name)),
				},
				Check: edge.checkR2Bucket(name, "eu", "Standard"),
			},
			{
				Config:           config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
			{
				ResourceName:  r2Address,
				ImportState:   true,
				ImportStateId: "mars/" + name,
				ExpectError:   expectError("Import an R2 bucket by `<name>` (default jurisdiction) or `<jurisdiction>/<name>` with jurisdiction eu or fedramp; got \"mars/" + name + "\""),
			},
		},
	})
}

func TestAccR2Bucket_disappearsAndDrift(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	name := uniqueName("tf-acc-r2-gone")
	config := edge.r2Config(name, "")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkR2BucketsDestroyed,
		Steps: []resource.TestStep{
			{Config: config},
			{
				// The storage class changed out of band: the plan changes it back in place.
				PreConfig: func() {
					if _, err := edge.client.SetR2StorageClass(context.Background(), name, "default", "InfrequentAccess"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r2Address, plancheck.ResourceActionUpdate),
				}},
				Check: edge.checkR2Bucket(name, "default", "Standard"),
			},
			{
				// Deleted out of band: the plan recreates it.
				PreConfig: func() {
					if err := edge.client.DeleteR2Bucket(context.Background(), name, "default"); err != nil {
						t.Fatal(err)
					}
				},
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r2Address, plancheck.ResourceActionCreate),
				}},
				Check: edge.checkR2Bucket(name, "default", "Standard"),
			},
		},
	})
}

func TestAccR2Bucket_forceDestroy(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	name := uniqueName("tf-acc-r2-full")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkR2BucketsDestroyed,
		Steps: []resource.TestStep{
			{
				Config: edge.r2Config(name, ""),
				Check: func(*terraform.State) error {
					for i := range 12 {
						if err := edge.client.PutR2Object(context.Background(), name, "default", fmt.Sprintf("dir/object %d", i), []byte("x")); err != nil {
							return err
						}
					}
					return nil
				},
			},
			{
				Config:      edge.r2Config(name, ""),
				Destroy:     true,
				ExpectError: expectError(`R2 bucket "` + name + `" still holds 12 object(s); nothing was deleted. To delete it with its objects, set force_destroy = true`),
			},
			{
				Config: edge.r2Config(name, "force_destroy = true"),
				Check: func(*terraform.State) error {
					keys, err := edge.client.ListR2ObjectKeys(context.Background(), name, "default")
					if err != nil {
						return err
					}
					if len(keys) != 12 {
						return fmt.Errorf("the failed destroy lost data: %d objects left, want 12", len(keys))
					}
					return nil
				},
			},
		},
	})
}

// A bucket that is not what this create would have made is never adopted: one holding objects,
// or one with another storage class. The create fails with the import hint; the bucket is kept.
func TestAccR2Bucket_duplicateName(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	cases := map[string]struct {
		spec  cloudflare.R2BucketSpec
		setup func(name string) error
		why   string
	}{
		"holds objects": {
			setup: func(name string) error {
				return edge.client.PutR2Object(context.Background(), name, "default", "theirs.txt", []byte("data"))
			},
			why: "It holds 1 object(s), so it was not adopted: only an empty bucket, as an interrupted create leaves it, is adopted.",
		},
		"other storage class": {
			spec: cloudflare.R2BucketSpec{StorageClass: "InfrequentAccess"},
			why:  "Its storage class is InfrequentAccess, not the Standard this configuration asks for, so it was not adopted.",
		},
	}
	for label, tc := range cases {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			name := uniqueName("tf-acc-r2-dup")
			tc.spec.Name = name
			if _, err := edge.client.CreateR2Bucket(context.Background(), tc.spec); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				_ = edge.client.DeleteR2Object(context.Background(), name, "default", "theirs.txt")
				_ = edge.client.DeleteR2Bucket(context.Background(), name, "default")
			})
			if tc.setup != nil {
				if err := tc.setup(name); err != nil {
					t.Fatal(err)
				}
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config: edge.r2Config(name, ""),
					ExpectError: expectError(fmt.Sprintf(`An R2 bucket named %q already exists in jurisdiction "default" of account %s. %s Bucket names are unique per account and jurisdiction: `+
						"choose another name, or adopt the existing bucket with `terraform import <address> %s`", name, edge.accountID, tc.why, name)),
				}},
			})
			if _, err := edge.client.GetR2Bucket(context.Background(), name, "default"); err != nil {
				t.Fatalf("the refused bucket is gone: %v", err)
			}
		})
	}
}

// A create whose answer was lost after the API committed it (connection dropped, body cut
// short) adopts the bucket it made: the apply succeeds, nothing is orphaned, and destroy
// leaves nothing behind.
func TestAccR2Bucket_lostCreateAnswer(t *testing.T) {
	t.Parallel()
	for label, kind := range map[string]localedge.FaultKind{"dropped": localedge.FaultDropAfterCommit, "truncated": localedge.FaultTruncate} {
		t.Run(label, func(t *testing.T) {
			t.Parallel()
			edge := newTestEdge(t)
			edge.requireLocal(t)
			prefix := uniqueName("tf-acc-r2-lost")
			edge.local.InjectFault(localedge.Fault{Kind: kind, Method: http.MethodPost, PathContains: "/r2/buckets", Times: 2})
			config := edge.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_r2_bucket" "test" {
  count         = 2
  name          = "%s-${count.index}"
  jurisdiction  = count.index == 0 ? "default" : "eu"
  storage_class = "InfrequentAccess"
}
`, prefix)
			buckets := map[string]string{prefix + "-0": "default", prefix + "-1": "eu"}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				CheckDestroy:             edge.checkR2BucketsGone(buckets),
				Steps: []resource.TestStep{
					{
						Config: config,
						Check: func(s *terraform.State) error {
							if hits := edge.local.FaultHits(); hits != 2 {
								return fmt.Errorf("%d creates lost their answer, want 2: the test proves nothing", hits)
							}
							return edge.checkR2StateRecords(s, buckets)
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

// Terraform killed after "Creating..." leaves a bucket that no state records. The next apply
// adopts it while it is empty, instead of failing with "already exists".
func TestAccR2Bucket_adoptsLeftoverOfKilledRun(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	name := uniqueName("tf-acc-r2-leftover")
	if _, err := edge.client.CreateR2Bucket(context.Background(), cloudflare.R2BucketSpec{Name: name, Jurisdiction: "eu", StorageClass: "Standard"}); err != nil {
		t.Fatal(err)
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkR2BucketsGone(map[string]string{name: "eu"}),
		Steps: []resource.TestStep{
			{
				Config: edge.r2Config(name, `jurisdiction = "eu"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(r2Address, plancheck.ResourceActionCreate),
				}},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(r2Address, tfjsonpath.New("id"), knownvalue.StringExact("eu/"+name)),
				},
			},
			{
				Config:           edge.r2Config(name, `jurisdiction = "eu"`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
		},
	})
}

func TestAccR2Bucket_invalidInput(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	cases := map[string]struct{ name, extra, want string }{
		"upper case":      {"Bad_Name", "", `"Bad_Name" is not a valid R2 bucket name: use 3–63 characters of lower-case letters, digits and hyphens, starting and ending with a letter or digit.`},
		"too short":       {"ab", "", `"ab" is not a valid R2 bucket name: use 3–63`},
		"trailing hyphen": {"bucket-", "", `"bucket-" is not a valid R2 bucket name: use 3–63`},
		"location hint":   {"ok-bucket", `location_hint = "mars"`, `Attribute location_hint value must be one of: ["apac" "eeur" "enam" "oc" "weur" "wnam"], got: "mars"`},
		"storage class":   {"ok-bucket", `storage_class = "Cold"`, `Attribute storage_class value must be one of: ["Standard" "InfrequentAccess"], got: "Cold"`},
		"jurisdiction":    {"ok-bucket", `jurisdiction = "moon"`, `Attribute jurisdiction value must be one of: ["default" "eu" "fedramp"], got: "moon"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      edge.r2Config(tc.name, tc.extra),
					PlanOnly:    true,
					ExpectError: expectError(tc.want),
				}},
			})
		})
	}
}

// Dropped connections and 5xx on every other request still converge.
func TestAccR2Bucket_retriesThroughFaults(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.requireLocal(t)
	edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultDrop, Method: "GET", PathContains: "/r2/buckets/", Every: 2})
	edge.local.InjectFault(localedge.Fault{Kind: localedge.FaultServerError, Status: 502, Method: "POST", PathContains: "/r2/buckets", Times: 1})
	name := uniqueName("tf-acc-r2-faults")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkR2BucketsDestroyed,
		Steps: []resource.TestStep{
			{Config: edge.r2Config(name, ""), Check: edge.checkR2Bucket(name, "default", "Standard")},
			{
				Config:           edge.r2Config(name, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: func(*terraform.State) error {
					if edge.local.FaultHits() < 2 {
						return fmt.Errorf("only %d faults were injected: the test proves little", edge.local.FaultHits())
					}
					return nil
				},
			},
		},
	})
}

func (e *testEdge) r2Config(name, extra string) string {
	return e.providerBlock("") + fmt.Sprintf(`
resource "servicesdo_r2_bucket" "test" {
  name = %q
  %s
}
`, name, extra)
}

func (e *testEdge) checkR2Bucket(name, jurisdiction, storageClass string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		b, err := e.client.GetR2Bucket(context.Background(), name, jurisdiction)
		if err != nil {
			return err
		}
		if b.StorageClass != storageClass {
			return fmt.Errorf("bucket %s has storage class %s, want %s", name, b.StorageClass, storageClass)
		}
		return nil
	}
}

// checkR2BucketsGone verifies that none of the buckets (name → jurisdiction) is left.
func (e *testEdge) checkR2BucketsGone(buckets map[string]string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		for name, jurisdiction := range buckets {
			_, err := e.client.GetR2Bucket(context.Background(), name, jurisdiction)
			if err == nil {
				return fmt.Errorf("R2 bucket %s/%s was left behind", jurisdiction, name)
			}
			if !cloudflare.IsNotFound(err) {
				return err
			}
		}
		return nil
	}
}

// checkR2StateRecords verifies that each bucket exists and the state records it (no orphan).
func (e *testEdge) checkR2StateRecords(s *terraform.State, buckets map[string]string) error {
	inState := map[string]bool{}
	for _, rs := range s.RootModule().Resources {
		if rs.Type == "servicesdo_r2_bucket" {
			inState[rs.Primary.ID] = true
		}
	}
	for name, jurisdiction := range buckets {
		if _, err := e.client.GetR2Bucket(context.Background(), name, jurisdiction); err != nil {
			return err
		}
		if id := r2BucketID(name, jurisdiction); !inState[id] {
			return fmt.Errorf("R2 bucket %s exists but no state records it: an orphan", id)
		}
	}
	return nil
}

func (e *testEdge) checkR2BucketsDestroyed(s *terraform.State) error {
	return checkAllGone(s, "servicesdo_r2_bucket", "R2 bucket", func(rs *terraform.ResourceState) error {
		_, err := e.client.GetR2Bucket(context.Background(), rs.Primary.Attributes["name"], rs.Primary.Attributes["jurisdiction"])
		return err
	})
}
