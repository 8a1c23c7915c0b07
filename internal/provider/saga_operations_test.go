package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

// restartableWorkers is a Workers runtime for the test edge that the test can restart (stop the
// edge, then start a new one on the same persisted state) behind one stable URL.
type restartableWorkers struct {
	t       *testing.T
	cfg     edge.Config
	mu      sync.Mutex
	current *edge.Edge
	URL     string
}

func (e *testEdge) startRestartableWorkers(t *testing.T) *restartableWorkers {
	t.Helper()
	if err := runtime.CheckInstalled(runtime.NodeDir("")); err != nil {
		t.Skip(err.Error())
	}
	e.requireLocal(t)
	w := &restartableWorkers{t: t, cfg: edge.Config{
		API: e.local,
		Runtime: runtime.Options{
			PersistDir: t.TempDir(), APIAddress: strings.TrimSuffix(strings.TrimPrefix(e.baseURL, "http://"), localedge.APIPrefix),
			APIToken: e.token, AccountID: e.accountID, DrainDelay: 200 * time.Millisecond,
		},
	}}
	w.start()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		current := w.current
		w.mu.Unlock()
		if current == nil {
			http.Error(rw, "the edge is restarting", http.StatusServiceUnavailable)
			return
		}
		current.ServeHTTP(rw, r)
	}))
	w.URL = srv.URL
	t.Cleanup(func() {
		srv.Close()
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.current != nil {
			_ = w.current.Close()
		}
	})
	return w
}

func (w *restartableWorkers) start() {
	w.t.Helper()
	started, err := edge.Start(context.Background(), w.cfg)
	if err != nil {
		w.t.Fatalf("starting the edge: %v", err)
	}
	w.mu.Lock()
	w.current = started
	w.mu.Unlock()
}

// restart stops the edge (its Workers runtime and every call in flight) and starts it again.
func (w *restartableWorkers) restart() {
	w.t.Helper()
	w.mu.Lock()
	old := w.current
	w.current = nil
	w.mu.Unlock()
	if err := old.Close(); err != nil {
		w.t.Fatalf("stopping the edge: %v", err)
	}
	w.start()
}

// until polls cond (bounded) and fails with what when it never holds.
func until(what string, cond func() bool) error {
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	return nil
}

func wantCalls(ledger *sagaLedger, id string, want ...string) error {
	if got := ledger.of(id); !reflect.DeepEqual(got, want) {
		return fmt.Errorf("execution %s: the participants applied\n  %s\nwant\n  %s\nfull ledger:\n%s", id, strings.Join(got, "\n  "), strings.Join(want, "\n  "), strings.Join(ledger.snapshot(), "\n"))
	}
	return nil
}

// The operator's side of a saga through Terraform and the local edge: a compensation that
// exhausts its retries parks the execution; `resolve` settles it; another parks (the data
// source shows it); a redeploy with a
// changed compensation while it is parked; `retry` once the participant recovers compensates
// on the definition the execution started with; an edge restart while a participant call is in
// flight (the execution finishes, each call applied once); terminate with compensation while a
// call is in flight; drift of the definition; and on_destroy = "abandon" destroys the saga although an execution runs.
func TestAccSaga_operations(t *testing.T) {
	tf := newTestEdge(t)
	runtimes := tf.startRestartableWorkers(t)
	edgeURL := runtimes.URL
	ledger := newSagaLedger()
	ledgerSrv := httptest.NewServer(ledger)
	t.Cleanup(ledgerSrv.Close)
	t.Cleanup(func() { close(ledger.release) }) // before ledgerSrv.Close, which waits for held calls
	prefix := "sagaop" + fmt.Sprint(time.Now().UnixNano()%100000)
	host := prefix + "-checkout.localhost"
	base := sagaConfig(tf, prefix, ledgerSrv.URL, "/shipments", "")
	changed := strings.Replace(base, `path = "/refunds"`, `path = "/v2/refunds"`, 1)
	if changed == base {
		t.Fatal("the charge's compensation path is not in the configuration")
	}
	var parkedID string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				// Shipping refuses and refunds are down: the refund exhausts its retries and parks.
				Config: base,
				Check: func(s *terraform.State) error {
					ledger.setRefundsDown(true)
					var err error
					if parkedID, err = startExecution(edgeURL, host, "order-park", "reject-ship-park"); err != nil {
						return err
					}
					if err := waitExecution(t, edgeURL, host, parkedID, "parked"); err != nil {
						return err
					}
					_, got := sagaAPI(edgeURL, host, http.MethodGet, "/executions/"+parkedID, nil)
					parked, _ := got["parked"].(map[string]any)
					if parked["reason"] != "compensation_failed" || parked["step"] != "charge" {
						return fmt.Errorf("parked = %v, want the charge's compensation_failed", parked)
					}
					if n := strings.Count(strings.Join(ledger.snapshot(), "\n"), "POST /payments/refunds 500"); n != 2 {
						return fmt.Errorf("%d refund attempts, want the compensation's 2 before it parks", n)
					}
					// The operator settles this one by hand.
					if status, got := sagaAPI(edgeURL, host, http.MethodPost, "/executions/"+parkedID+"/resolve", map[string]any{"reason": "refunded by hand"}); status != http.StatusAccepted {
						return fmt.Errorf("resolve answered %d %v", status, got)
					}
					return nil
				},
			},
			{
				// A resolved execution takes no more decisions; another one parks the same way.
				Config: base,
				Check: func(s *terraform.State) error {
					if err := waitExecution(t, edgeURL, host, parkedID, "resolved"); err != nil {
						return err
					}
					if status, got := sagaAPI(edgeURL, host, http.MethodPost, "/executions/"+parkedID+"/retry", map[string]any{}); status != http.StatusConflict {
						return fmt.Errorf("retry of a resolved execution answered %d %v, want 409", status, got)
					}
					var err error
					if parkedID, err = startExecution(edgeURL, host, "order-park-2", "reject-ship-park-2"); err != nil {
						return err
					}
					return waitExecution(t, edgeURL, host, parkedID, "parked")
				},
			},
			{
				// A redeploy with another compensation path while the execution is parked; the data
				// source shows it parked.
				Config: changed + `
data "servicesdo_saga_execution" "parked" {
  saga            = servicesdo_saga.checkout.name
  idempotency_key = "order-park-2"
  depends_on      = [servicesdo_saga.checkout]
}
`,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_saga.checkout", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.parked", "status", "parked"),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.parked", "parked", "true"),
					resource.TestCheckTypeSetElemNestedAttrs("data.servicesdo_saga_execution.parked", "steps.*", map[string]string{"name": "charge", "kind": "compensate", "state": "failed"}),
					resource.TestCheckTypeSetElemNestedAttrs("data.servicesdo_saga_execution.parked", "steps.*", map[string]string{"kind": "decision", "state": "waiting"}),
				),
			},
			{
				// The participant recovers; the operator retries: the execution compensates on the
				// definition it started with (refunds at /refunds, not /v2/refunds).
				Config: changed,
				Check: func(s *terraform.State) error {
					ledger.setRefundsDown(false)
					if status, got := sagaAPI(edgeURL, host, http.MethodPost, "/executions/"+parkedID+"/retry", map[string]any{"reason": "refunds are back"}); status != http.StatusAccepted {
						return fmt.Errorf("retry answered %d %v", status, got)
					}
					if err := waitExecution(t, edgeURL, host, parkedID, "compensated"); err != nil {
						return err
					}
					return wantCalls(ledger, parkedID, "POST /orders/orders", "POST /payments/charges", "POST /payments/refunds", "DELETE /orders/orders/reject-ship-park-2")
				},
			},
			{
				// The edge restarts while a charge is in flight: the execution finishes after the
				// restart, each call applied once. Then terminate with compensation while a charge
				// is in flight: it waits for the call, then compensates what was done.
				Config: changed,
				Check: func(s *terraform.State) error {
					id, err := startExecution(edgeURL, host, "order-restart", "hold-restart")
					if err != nil {
						return err
					}
					if err := until("the charge to hold", func() bool { return ledger.holding("hold-restart") == 1 }); err != nil {
						return err
					}
					runtimes.restart()
					if err := until("the charge to be called again after the restart", func() bool { return ledger.holding("hold-restart") == 2 }); err != nil {
						return err
					}
					ledger.open("hold-restart")
					if err := waitExecution(t, edgeURL, host, id, "completed"); err != nil {
						return err
					}
					if err := wantCalls(ledger, id, "POST /orders/orders", "POST /payments/charges", "POST /shipping/shipments"); err != nil {
						return err
					}

					id, err = startExecution(edgeURL, host, "order-terminate", "hold-terminate")
					if err != nil {
						return err
					}
					if err := until("the charge to hold", func() bool { return ledger.holding("hold-terminate") == 1 }); err != nil {
						return err
					}
					type answer struct {
						status int
						body   map[string]any
					}
					terminated := make(chan answer, 1)
					go func() {
						status, body := sagaAPI(edgeURL, host, http.MethodPost, "/executions/"+id+"/terminate", map[string]any{"compensate": true, "reason": "customer cancelled"})
						terminated <- answer{status, body}
					}()
					if err := until("the instance to wait for its pause", func() bool {
						_, got := sagaAPI(edgeURL, host, http.MethodGet, "/executions/"+id, nil)
						return got["engine_status"] == "waitingForPause"
					}); err != nil {
						return err
					}
					ledger.open("hold-terminate")
					res := <-terminated
					if res.status != http.StatusOK || res.body["status"] != "terminated" {
						return fmt.Errorf("terminate answered %d %v", res.status, res.body)
					}
					return wantCalls(ledger, id, "POST /orders/orders", "POST /payments/charges", "POST /payments/v2/refunds", "DELETE /orders/orders/hold-terminate")
				},
			},
			{
				// Drift: the definition changed out of band (a longer retention) is put back.
				PreConfig: func() {
					ctx := context.Background()
					settings, err := tf.client.GetScriptSettings(ctx, prefix+"-checkout")
					if err != nil {
						t.Fatal(err)
					}
					var bindings []cloudflare.Binding
					for _, b := range settings.Bindings {
						if b.Type == cloudflare.BindingSecretText {
							continue // kept as they are
						}
						if b.Name == workers.SagaDefinitionBinding {
							drifted := strings.Replace(string(b.JSON), `"retention":"7d"`, `"retention":"30d"`, 1)
							if drifted == string(b.JSON) {
								t.Fatalf("no retention in the definition binding: %s", b.JSON)
							}
							b.JSON = []byte(drifted)
						}
						bindings = append(bindings, b)
					}
					if _, err := tf.client.EditScriptSettings(ctx, prefix+"-checkout", cloudflare.ScriptSettingsPatch{Bindings: bindings, KeepBindings: []string{cloudflare.BindingSecretText}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: changed,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_saga.checkout", plancheck.ResourceActionUpdate),
				}},
				Check: func(s *terraform.State) error {
					settings, err := tf.client.GetScriptSettings(context.Background(), prefix+"-checkout")
					if err != nil {
						return err
					}
					for _, b := range settings.Bindings {
						if b.Name == workers.SagaDefinitionBinding && !strings.Contains(string(b.JSON), `"retention":"7d"`) {
							return fmt.Errorf("the definition was not put back: %s", b.JSON)
						}
					}
					return nil
				},
			},
			{
				// abandon: with an execution holding, destroying the saga (the test's last step) succeeds.
				Config: strings.Replace(changed, `pivot_step = "ship"`, `pivot_step = "ship"
  on_destroy = "abandon"`, 1),
				Check: func(s *terraform.State) error {
					if _, err := startExecution(edgeURL, host, "order-abandon", "hold-abandon"); err != nil {
						return err
					}
					return until("the charge to hold", func() bool { return ledger.holding("hold-abandon") == 1 })
				},
			},
		},
		CheckDestroy: func(s *terraform.State) error {
			if _, err := tf.client.GetWorkflow(context.Background(), prefix+"-checkout"); err == nil {
				return fmt.Errorf("workflow %s still exists after destroy", prefix+"-checkout")
			}
			return nil
		},
	})
}
