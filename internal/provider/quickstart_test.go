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
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

// The quickstart stack applies through Terraform to the local edge and serves real traffic:
// a service binding call, a Durable Object counter, KV written through the API and read by a
// Worker, and R2 written by a Worker and read through the API.
func TestAccQuickstart_servesTraffic(t *testing.T) {
	edgeAPI := newTestEdge(t)
	edgeURL := edgeAPI.startWorkers(t)

	stack, err := filepath.Abs("../../examples/stacks/quickstart")
	if err != nil {
		t.Fatal(err)
	}
	mainTF, err := os.ReadFile(filepath.Join(stack, "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	clearCredentialEnv(t)
	t.Setenv(envAccountID, testAccountID)
	t.Setenv(envAPIToken, testToken)
	t.Setenv(envBaseURL, edgeAPI.baseURL)
	// The stack names its provider dot-do/servicesdo, as users do.
	t.Setenv("TF_ACC_PROVIDER_NAMESPACE", "dot-do")

	get := func(host, path string) (int, string) { return edgeGet(edgeURL, host, path) }
	// waitJSON polls until host answers 200 with JSON, as the edge picks up a deploy.
	waitJSON := func(host string, into any) error {
		deadline := time.Now().Add(15 * time.Second)
		for {
			status, body := get(host, "/")
			if status == http.StatusOK && json.Unmarshal([]byte(body), into) == nil {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s answered %d %q", host, status, body)
			}
			time.Sleep(50 * time.Millisecond) // polling interval
		}
	}
	type answer struct {
		Service, Greeting, Version string
		Visits                     int
	}
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:          string(mainTF),
			ConfigVariables: config.Variables{"source_root": config.StringVariable(stack), "prefix": config.StringVariable("qs")},
			Check: func(s *terraform.State) error {
				var first, second answer
				if err := waitJSON("qs-front.localhost", &first); err != nil {
					return err
				}
				if first.Service != "front" || first.Greeting != "hello from back" || first.Version != "1.0.0" {
					return fmt.Errorf("front answered %+v", first)
				}
				if err := waitJSON("qs-front.localhost", &second); err != nil {
					return err
				}
				if second.Visits != first.Visits+1 {
					return fmt.Errorf("the Durable Object counter went from %d to %d", first.Visits, second.Visits)
				}
				// KV written through the API is what the Worker reads.
				ns := s.RootModule().Resources["servicesdo_kv_namespace.settings"].Primary.ID
				if err := edgeAPI.client.PutKVValue(context.Background(), ns, "greeting", []byte("hi from the API"), nil); err != nil {
					return err
				}
				if status, body := get("qs-back.localhost", "/greeting"); status != http.StatusOK || body != "hi from the API" {
					return fmt.Errorf("back /greeting answered %d %q", status, body)
				}
				// R2 written by the Worker is what the API lists.
				req, _ := http.NewRequest(http.MethodPut, edgeURL+"/notes?name=todo.txt", strings.NewReader("buy milk"))
				req.Host = "qs-back.localhost"
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return err
				}
				_ = res.Body.Close()
				keys, err := edgeAPI.client.ListR2ObjectKeys(context.Background(), "qs-notes", "default")
				if err != nil || len(keys) != 1 || keys[0] != "todo.txt" {
					return fmt.Errorf("R2 objects after the Worker's put: %v, %v (status %d)", keys, err, res.StatusCode)
				}
				return nil
			},
		}},
	})
}

// startWorkers runs the deployed Workers of the test's local edge in Miniflare and returns
// the edge's URL; it skips the test when Node.js or Miniflare is missing.
func (e *testEdge) startWorkers(t *testing.T) string {
	t.Helper()
	if err := runtime.CheckInstalled(runtime.NodeDir("")); err != nil {
		t.Skip(err.Error())
	}
	e.requireLocal(t)
	workers, err := edge.Start(context.Background(), edge.Config{
		API: e.local,
		Runtime: runtime.Options{
			PersistDir: t.TempDir(), APIAddress: strings.TrimSuffix(strings.TrimPrefix(e.baseURL, "http://"), localedge.APIPrefix),
			APIToken: e.token, AccountID: e.accountID, DrainDelay: 200 * time.Millisecond,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(workers)
	t.Cleanup(func() {
		srv.Close()
		_ = workers.Close()
	})
	return srv.URL
}

// edgeGet sends a request for host through the edge.
func edgeGet(edgeURL, host, path string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, edgeURL+path, nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
