package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// participantJS forwards every call to the test's ledger (env.LEDGER), with the saga's headers.
const participantJS = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.LEDGER + "/" + env.SERVICE + url.pathname, {
      method: request.method, body: request.method === "GET" ? undefined : await request.text(),
      headers: { "content-type": "application/json", "idempotency-key": request.headers.get("idempotency-key") ?? "" },
    });
  },
};`

// sagaLedger is an idempotent participant: it records each call once per Idempotency-Key and
// answers repeats with the first answer. An order named "reject-ship…" makes shipping answer
// 422; an order named "hold…" makes charging wait until its gate opens (release opens every
// gate not opened by name); refundsDown makes refunds answer 500.
type sagaLedger struct {
	mu          sync.Mutex
	calls       []string
	byExecution map[string][]string // the calls applied per execution (from the Idempotency-Key)
	tried       map[string][]string // every call per execution, refused ones with their status
	answers     map[string]string
	release     chan struct{}
	gates       map[string]chan struct{}
	holds       map[string]int // charge calls that began holding, per order
	refundsDown bool
}

func newSagaLedger() *sagaLedger {
	return &sagaLedger{answers: map[string]string{}, release: make(chan struct{}), byExecution: map[string][]string{}, tried: map[string][]string{}, gates: map[string]chan struct{}{}, holds: map[string]int{}}
}

func (l *sagaLedger) gate(order string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gates[order] == nil {
		l.gates[order] = make(chan struct{})
	}
	return l.gates[order]
}

// open lets the held charges of order through.
func (l *sagaLedger) open(order string) {
	g := l.gate(order)
	select {
	case <-g:
	default:
		close(g)
	}
}

// holding is how many charge calls of order began holding so far.
func (l *sagaLedger) holding(order string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.holds[order]
}

func (l *sagaLedger) setRefundsDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.refundsDown = down
}

func (l *sagaLedger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var fields struct{ Order string }
	_ = json.Unmarshal(body, &fields)
	key := r.Header.Get("Idempotency-Key")
	execution, _, _ := strings.Cut(key, ":")
	call := r.Method + " " + r.URL.Path
	if strings.HasPrefix(fields.Order, "hold") && strings.HasSuffix(call, "/charges") {
		gate := l.gate(fields.Order)
		l.mu.Lock()
		l.holds[fields.Order]++
		l.mu.Unlock()
		select {
		case <-l.release:
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	l.mu.Lock()
	if answer, ok := l.answers[key]; ok {
		l.mu.Unlock()
		_, _ = w.Write([]byte(answer))
		return
	}
	if strings.HasPrefix(fields.Order, "reject-ship") && strings.HasSuffix(call, "/shipments") {
		l.calls = append(l.calls, call+" 422")
		l.tried[execution] = append(l.tried[execution], call+" 422")
		l.mu.Unlock()
		http.Error(w, `{"error":"cannot ship"}`, http.StatusUnprocessableEntity)
		return
	}
	if l.refundsDown && strings.HasSuffix(call, "/refunds") {
		l.calls = append(l.calls, call+" 500")
		l.tried[execution] = append(l.tried[execution], call+" 500")
		l.mu.Unlock()
		http.Error(w, `{"error":"refunds are down"}`, http.StatusInternalServerError)
		return
	}
	l.calls = append(l.calls, call)
	l.byExecution[execution] = append(l.byExecution[execution], call)
	l.tried[execution] = append(l.tried[execution], call)
	answer := fmt.Sprintf(`{"id":"%s-%d"}`, strings.Trim(strings.ReplaceAll(r.URL.Path, "/", "-"), "-"), len(l.calls))
	l.answers[key] = answer
	l.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(answer))
}

func (l *sagaLedger) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// triedBy returns every call one execution made, in order, refused ones with their status.
func (l *sagaLedger) triedBy(execution string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.tried[execution]...)
}

// of returns the calls applied for one execution, in order.
func (l *sagaLedger) of(execution string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.byExecution[execution]...)
}

func sagaParticipant(resource, name, ledger string) string {
	return fmt.Sprintf(`
resource "servicesdo_service" %q {
  name               = %q
  main_module        = "index.js"
  inline_modules     = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  vars               = { LEDGER = %q, SERVICE = %q }
}
`, resource, name, participantJS, ledger, resource)
}

// sagaConfig is a checkout saga over three participants; extra goes in the saga block.
func sagaConfig(e *testEdge, prefix, ledger, shipPath, extra string) string {
	return e.providerBlock("") + sagaParticipant("orders", prefix+"-orders", ledger) + sagaParticipant("payments", prefix+"-payments", ledger) +
		sagaParticipant("shipping", prefix+"-shipping", ledger) + fmt.Sprintf(`
resource "servicesdo_saga" "checkout" {
  name        = %[1]q
  workers_dev = true
  api_key_wo  = "test-saga-key-0123456789"
  api_key_wo_version = "1"
  steps = [
    {
      name       = "reserve"
      service    = servicesdo_service.orders.name
      action     = { method = "POST", path = "/orders", body = jsonencode({ order = "{{input.order}}" }) }
      compensate = { method = "DELETE", path = "/orders/{{input.order}}" }
      timeout    = "10s"
      retry      = { attempts = 2, delay = "100ms" }
    },
    {
      name       = "charge"
      service    = servicesdo_service.payments.name
      action     = { method = "POST", path = "/charges", body = jsonencode({ order = "{{input.order}}", reservation = "{{steps.reserve.output.id}}" }) }
      compensate = { method = "POST", path = "/refunds", body = jsonencode({ charge = "{{steps.charge.output.id}}" }) }
      timeout    = "20s"
      retry      = { attempts = 2, delay = "100ms" }
    },
    {
      name    = "ship"
      service = servicesdo_service.shipping.name
      action  = { method = "POST", path = %[2]q, body = jsonencode({ order = "{{input.order}}" }) }
      retry   = { attempts = 1 }
    },
  ]
  pivot_step = "ship"
  %[3]s
}
`, prefix+"-checkout", shipPath, extra)
}

// sagaAPI calls the saga's runtime API through the edge.
func sagaAPI(edgeURL, host, method, path string, body any) (int, map[string]any) {
	var reader io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		reader = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, edgeURL+path, reader)
	req.Host = host
	req.Header.Set("Authorization", "Bearer test-saga-key-0123456789")
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, map[string]any{"error": err.Error()}
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// waitExecution polls the saga's API until the execution has the status.
func waitExecution(t *testing.T, edgeURL, host, id, want string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		status, got := sagaAPI(edgeURL, host, http.MethodGet, "/executions/"+id, nil)
		if status == http.StatusOK && got["status"] == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("execution %s: HTTP %d %v, want status %s", id, status, got, want)
		}
		time.Sleep(100 * time.Millisecond) // polling interval
	}
}

func startExecution(edgeURL, host, key, order string) (string, error) {
	status, got := sagaAPI(edgeURL, host, http.MethodPost, "/executions", map[string]any{"idempotency_key": key, "input": map[string]any{"order": order}})
	id, _ := got["id"].(string)
	if (status != http.StatusCreated && status != http.StatusOK) || id == "" {
		return "", fmt.Errorf("POST /executions: HTTP %d %v", status, got)
	}
	return id, nil
}

// The saga through Terraform and the local edge: the happy path, a failure that compensates
// in reverse, an idempotent start, the data source, a redeploy with a changed definition while
// an execution runs (it finishes on its own definition), no diff after apply, import, and a
// destroy that refuses while an execution runs.
func TestAccSaga_endToEnd(t *testing.T) {
	edge := newTestEdge(t)
	edgeURL := edge.startWorkers(t)
	ledger := newSagaLedger()
	ledgerSrv := httptest.NewServer(ledger)
	t.Cleanup(ledgerSrv.Close)
	prefix := "saga" + fmt.Sprint(time.Now().UnixNano()%100000)
	host := prefix + "-checkout.localhost"
	var heldID string
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config: sagaConfig(edge, prefix, ledgerSrv.URL, "/shipments", ""),
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("servicesdo_saga.checkout", "workflow_name", prefix+"-checkout"),
					resource.TestCheckResourceAttrSet("servicesdo_saga.checkout", "definition_sha256"),
					func(s *terraform.State) error {
						ok, err := startExecution(edgeURL, host, "order-ok", "o1")
						if err != nil {
							return err
						}
						if again, err := startExecution(edgeURL, host, "order-ok", "o1"); err != nil || again != ok {
							return fmt.Errorf("a repeated start answered %q, %v; want %q", again, err, ok)
						}
						bad, err := startExecution(edgeURL, host, "order-bad", "reject-ship")
						if err != nil {
							return err
						}
						if err := waitExecution(t, edgeURL, host, ok, "completed"); err != nil {
							return err
						}
						if err := waitExecution(t, edgeURL, host, bad, "compensated"); err != nil {
							return err
						}
						joined := strings.Join(ledger.snapshot(), "\n")
						// Each happened once, and the compensations ran in reverse order after the failure
						// (per execution: the two run side by side).
						for id, want := range map[string]string{
							ok:  "POST /orders/orders\nPOST /payments/charges\nPOST /shipping/shipments",
							bad: "POST /orders/orders\nPOST /payments/charges\nPOST /shipping/shipments 422\nPOST /payments/refunds\nDELETE /orders/orders/reject-ship",
						} {
							if got := strings.Join(ledger.triedBy(id), "\n"); got != want {
								return fmt.Errorf("execution %s called:\n%s\nwant:\n%s", id, got, want)
							}
						}
						if strings.Count(joined, "POST /orders/orders") != 2 || strings.Count(joined, "POST /payments/charges") != 2 {
							return fmt.Errorf("ledger:\n%s\nwant each action once per execution", joined)
						}
						return nil
					},
				),
			},
			{
				// The data source reads both executions through the Workflows API.
				Config: sagaConfig(edge, prefix, ledgerSrv.URL, "/shipments", "") + `
data "servicesdo_saga_execution" "ok" {
  saga            = servicesdo_saga.checkout.name
  idempotency_key = "order-ok"
}
data "servicesdo_saga_execution" "bad" {
  saga            = servicesdo_saga.checkout.name
  idempotency_key = "order-bad"
}
`,
				Check: resource.ComposeTestCheckFunc(
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.ok", "status", "completed"),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.ok", "engine_status", "complete"),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.ok", "input", `{"order":"o1"}`),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.ok", "steps.0.name", "reserve"),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.ok", "steps.0.kind", "action"),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.ok", "steps.0.state", "completed"),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.bad", "status", "compensated"),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.bad", "failed_step", "ship"),
					resource.TestCheckResourceAttr("data.servicesdo_saga_execution.bad", "parked", "false"),
				),
			},
			{
				// Start an execution that holds in charge, then redeploy with another shipping path.
				PreConfig: func() {
					var err error
					if heldID, err = startExecution(edgeURL, host, "order-held", "hold"); err != nil {
						t.Fatal(err)
					}
					deadline := time.Now().Add(30 * time.Second)
					for !strings.Contains(strings.Join(ledger.snapshot(), "\n"), "POST /orders/orders") || len(ledger.snapshot()) < 8 {
						if time.Now().After(deadline) {
							t.Fatalf("the held execution never reserved: %v", ledger.snapshot())
						}
						time.Sleep(50 * time.Millisecond) // polling interval
					}
				},
				Config: sagaConfig(edge, prefix, ledgerSrv.URL, "/v2/shipments", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("servicesdo_saga.checkout", plancheck.ResourceActionUpdate),
				}},
			},
			{
				// While it runs, destroy is refused.
				Config:      sagaConfig(edge, prefix, ledgerSrv.URL, "/v2/shipments", ""),
				Destroy:     true,
				ExpectError: expectError("has 1 execution(s) still running"),
			},
			{
				Config: sagaConfig(edge, prefix, ledgerSrv.URL, "/v2/shipments", ""),
				Check: func(s *terraform.State) error {
					close(ledger.release)
					if err := waitExecution(t, edgeURL, host, heldID, "completed"); err != nil {
						return err
					}
					// The held execution shipped on the definition it started with.
					calls := strings.Join(ledger.snapshot(), "\n")
					if strings.Count(calls+"\n", "POST /shipping/shipments\n") != 2 || strings.Contains(calls, "/v2/") {
						return fmt.Errorf("ledger:\n%s\nwant the held execution to ship at /shipments", calls)
					}
					return nil
				},
			},
			{
				ResourceName:            "servicesdo_saga.checkout",
				ImportState:             true,
				ImportStateId:           prefix + "-checkout",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"api_key_wo_version"},
			},
		},
	})
}

// Bad definitions are refused at plan time, each on its attribute with the rule and the fix.
func TestAccSaga_planTimeErrors(t *testing.T) {
	edge := newTestEdge(t)
	config := func(steps, extra string) string {
		return edge.providerBlock("") + sagaParticipant("orders", "plan-orders", "http://ledger.invalid") + fmt.Sprintf(`
resource "servicesdo_saga" "bad" {
  name       = "plan-saga"
  api_key_wo = "k"
  steps      = [%s]
  %s
}
`, steps, extra)
	}
	step := func(name, service, path, body, retry string) string {
		return fmt.Sprintf(`{
      name    = %q
      service = %s
      action  = { method = "POST", path = %q%s }
      %s
    },`, name, service, path, body, retry)
	}
	orders := "servicesdo_service.orders.name"
	cases := []struct {
		name, steps, extra, want string
	}{
		{"unknown step reference", step("reserve", orders, "/o", `, body = jsonencode({ id = "{{steps.nope.output.id}}" })`, ""), "",
			`steps[0].action.body.id: {{steps.nope.output.id}} refers to "nope", which is not a step of this saga (steps: reserve)`},
		{"duplicate step names", step("reserve", orders, "/o", "", "") + step("reserve", orders, "/p", "", ""), "",
			`steps[1].name: step name "reserve" is already used by steps[0]: step names must be unique, rename one of them`},
		{"pivot not a step", step("reserve", orders, "/o", "", ""), `pivot_step = "ship"`,
			`pivot_step: "ship" is not a step of this saga (steps: reserve): name one of them`},
		{"unknown service", step("reserve", `"no-such-worker"`, "/o", "", ""), "",
			`steps[0].service: "no-such-worker" is not a Worker of this account nor a servicesdo_service of this configuration`},
		{"retry attempts below 1", step("reserve", orders, "/o", "", "retry = { attempts = 0 }"), "",
			`steps[0].retry.attempts: must be at least 1 (the first call counts as an attempt), got 0`},
		{"template syntax", step("reserve", orders, "/o/{{input.id", "", ""), "",
			`steps[0].action.path: unclosed template at "{{input.id": close it with "}}"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				TerraformVersionChecks:   []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
				Steps:                    []resource.TestStep{{Config: config(c.steps, c.extra), PlanOnly: true, ExpectError: expectError(c.want)}},
			})
		})
	}
}
