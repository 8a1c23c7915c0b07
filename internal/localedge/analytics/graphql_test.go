package analytics

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
)

const testAccount = "0123456789abcdef0123456789abcdef"

func TestSchemaAcceptsCloudflareQueries(t *testing.T) {
	for name, q := range map[string]string{
		"shorthand":          `{ viewer { accounts(filter: {accountTag: "x"}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } } }`,
		"cloudflare example": cloudflareExample,
		"aliases, lists, enums, defaults, comments": `# leading comment
query Q($a: string! = "acct", $versions: [string!], $n: uint64 = 10) {
  viewer { accounts(filter: {accountTag: $a}) {
    canary: workersInvocationsAdaptive(limit: $n, orderBy: [datetimeMinute_ASC, sum_requests_DESC],
        filter: {AND: [{scriptVersion_in: $versions}, {status_neq: "success"}], datetime_geq: "2024-01-01T00:00:00Z"}) {
      total: sum { requests }
      dimensions { v: scriptVersion }
    }
  } }
}`,
		"block string and escapes": `{ viewer { accounts(filter: {accountTag: """
   x
"""}) { __typename } } }`,
		"fragments and directives": `query($withSum: Boolean!) { viewer { ...V } }
fragment V on viewer { accounts(filter: {accountTag: "x"}) { workersInvocationsAdaptive(limit: 1) { sum @include(if: $withSum) { requests } ... on AccountWorkersInvocationsAdaptive { dimensions { date } } } } }`,
		"two named operations": `query A { viewer { __typename } } query B { viewer { __typename } }`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, errs := gqlparser.LoadQueryWithRules(schema(), q, queryRules()); errs != nil {
				t.Fatalf("validation: %v", errs)
			}
		})
	}
}

// post sends a GraphQL request to the handler and decodes the response.
func post(t *testing.T, h http.Handler, query string, vars any) (map[string]any, []any) {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp, err := http.Post(srv.URL+"/client/v4/graphql", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var out struct {
		Data   map[string]any `json:"data"`
		Errors []any          `json:"errors"`
	}
	raw := map[string]json.RawMessage{}
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw["errors"]; !ok {
		t.Fatalf("response has no errors key: %v", raw)
	}
	if _, ok := raw["data"]; !ok {
		t.Fatalf("response has no data key: %v", raw)
	}
	_ = json.Unmarshal(raw["data"], &out.Data)
	_ = json.Unmarshal(raw["errors"], &out.Errors)
	return out.Data, out.Errors
}

// rows digs viewer.accounts[0].<key> out of data.
func rows(t *testing.T, data map[string]any, key string) []map[string]any {
	t.Helper()
	accounts := data["viewer"].(map[string]any)["accounts"].([]any)
	if len(accounts) != 1 {
		t.Fatalf("accounts = %v", accounts)
	}
	var out []map[string]any
	for _, r := range accounts[0].(map[string]any)[key].([]any) {
		out = append(out, r.(map[string]any))
	}
	return out
}

func section(row map[string]any, name string) map[string]any { return row[name].(map[string]any) }

// The query of Cloudflare's "Querying Workers Metrics with GraphQL" tutorial, verbatim.
const cloudflareExample = `query GetWorkersAnalytics($accountTag: string, $datetimeStart: string, $datetimeEnd: string, $scriptName: string) {
    viewer {
      accounts(filter: {accountTag: $accountTag}) {
        workersInvocationsAdaptive(limit: 100, filter: {
          scriptName: $scriptName,
          datetime_geq: $datetimeStart,
          datetime_leq: $datetimeEnd
        }) {
          sum {
            subrequests
            requests
            errors
          }
          quantiles {
            cpuTimeP50
            cpuTimeP99
          }
          dimensions{
            datetime
            scriptName
            status
          }
        }
      }
    }
  }`

func TestHandlerCloudflareExample(t *testing.T) {
	r, _ := newTestRecorder()
	at := t0.Add(10 * time.Minute)
	for i := 0; i < 4; i++ {
		r.Record(Invocation{Script: "worker-subrequest-test-client", Version: "v1", Status: 200, WallTime: 5 * time.Millisecond, CPUTime: time.Duration(200+i) * time.Microsecond, At: at.Add(time.Duration(i) * time.Second)})
	}
	r.Record(Invocation{Script: "worker-subrequest-test-client", Version: "v1", Status: 500, Thrown: true, WallTime: time.Millisecond, At: at})
	r.Record(Invocation{Script: "other", Version: "v1", Status: 200, At: at})                                            // another script
	r.Record(Invocation{Script: "worker-subrequest-test-client", Version: "v1", Status: 200, At: t0.Add(2 * time.Hour)}) // out of range
	data, errs := post(t, r.Handler(testAccount), cloudflareExample, map[string]any{
		"accountTag":    testAccount,
		"datetimeStart": t0.Format(time.RFC3339),
		"datetimeEnd":   t0.Add(time.Hour).Format(time.RFC3339),
		"scriptName":    "worker-subrequest-test-client",
	})
	if errs != nil {
		t.Fatalf("errors: %v", errs)
	}
	got := rows(t, data, "workersInvocationsAdaptive")
	b, _ := json.Marshal(got)
	want := `[{"dimensions":{"datetime":"2026-03-10T12:10:00Z","scriptName":"worker-subrequest-test-client","status":"scriptThrewException"},"quantiles":{"cpuTimeP50":0,"cpuTimeP99":0},"sum":{"errors":1,"requests":1,"subrequests":0}},` +
		`{"dimensions":{"datetime":"2026-03-10T12:10:00Z","scriptName":"worker-subrequest-test-client","status":"success"},"quantiles":{"cpuTimeP50":201,"cpuTimeP99":203},"sum":{"errors":0,"requests":4,"subrequests":0}}]`
	if string(b) != want {
		t.Fatalf("rows =\n%s\nwant\n%s", b, want)
	}
}

func TestHandlerPerVersionWallTime(t *testing.T) {
	r, _ := newTestRecorder()
	// Stable: 1000 requests at 10ms, 1% exceptions, 1% 503s it returns (not errors to
	// Cloudflare). Canary: 200 requests at 50ms..249ms, 10% exceptions.
	for i := 0; i < 1000; i++ {
		r.Record(Invocation{Script: "api", Version: "stable", Status: []int{200, 500, 503}[min(i%100, 2)], Thrown: i%100 == 1, WallTime: 10 * time.Millisecond, At: t0.Add(time.Duration(i%3) * time.Minute)})
	}
	for i := 0; i < 200; i++ {
		r.Record(Invocation{Script: "api", Version: "canary", Status: 200, Thrown: i%10 == 0, WallTime: time.Duration(50+i) * time.Millisecond, At: t0.Add(time.Duration(i%3) * time.Minute)})
	}
	q := `query($accountTag: string!, $datetimeStart: Time!, $datetimeEnd: Time!, $scriptName: string, $versions: [string!]) {
  viewer { accounts(filter: {accountTag: $accountTag}) {
    byVersion: workersInvocationsAdaptive(limit: 10, filter: {scriptName: $scriptName, scriptVersion_in: $versions,
        datetime_geq: $datetimeStart, datetime_leq: $datetimeEnd}, orderBy: [sum_requests_DESC]) {
      sum { requests errors wallTime }
      quantiles { wallTimeP50 wallTimeP99 wallTimeP999 }
      dimensions { scriptVersion }
    }
  } }
}`
	data, errs := post(t, r.Handler(testAccount), q, map[string]any{
		"accountTag": testAccount, "scriptName": "api", "versions": []string{"stable", "canary"},
		"datetimeStart": t0.Format(time.RFC3339), "datetimeEnd": t0.Add(time.Hour).Format(time.RFC3339),
	})
	if errs != nil {
		t.Fatalf("errors: %v", errs)
	}
	got := rows(t, data, "byVersion")
	if len(got) != 2 {
		t.Fatalf("rows = %v", got)
	}
	stable, canary := got[0], got[1]
	if section(stable, "dimensions")["scriptVersion"] != "stable" || section(canary, "dimensions")["scriptVersion"] != "canary" {
		t.Fatalf("order by sum_requests_DESC not applied: %v", got)
	}
	if s := section(stable, "sum"); s["requests"] != 1000.0 || s["errors"] != 10.0 || s["wallTime"] != 1000*10000.0 {
		t.Fatalf("stable sum = %v", s)
	}
	if s := section(canary, "sum"); s["requests"] != 200.0 || s["errors"] != 20.0 {
		t.Fatalf("canary sum = %v", s)
	}
	// Canary wall times are 50..249 ms: nearest-rank P50 = 149ms, P99 = 248ms (microseconds).
	qs := section(canary, "quantiles")
	for name, want := range map[string]float64{"wallTimeP50": 149_000, "wallTimeP99": 248_000, "wallTimeP999": 249_000} {
		if got := qs[name].(float64); got < want*0.99 || got > want*1.01 {
			t.Errorf("canary %s = %v, want %v ±1%%", name, got, want)
		}
	}
	if got := section(stable, "quantiles")["wallTimeP99"].(float64); got != 10_000 {
		t.Errorf("stable wallTimeP99 = %v, want 10000", got)
	}
}

func TestHandlerGroupingFilteringLimit(t *testing.T) {
	r, _ := newTestRecorder()
	for m := 0; m < 5; m++ {
		for i := 0; i <= m; i++ {
			r.Record(Invocation{Script: "api", Version: "v1", Status: 200, WallTime: time.Millisecond, At: t0.Add(time.Duration(m)*time.Minute + 30*time.Second)})
		}
	}
	h := r.Handler(testAccount)
	query := func(args string) []map[string]any {
		t.Helper()
		data, errs := post(t, h, `{ viewer { accounts(filter: {accountTag: "`+testAccount+`"}) { workersInvocationsAdaptive(`+args+`) { count: sum { requests } dimensions { datetimeMinute } } } } }`, nil)
		if errs != nil {
			t.Fatalf("%s: errors %v", args, errs)
		}
		return rows(t, data, "workersInvocationsAdaptive")
	}
	minutes := func(rs []map[string]any) (out []string) {
		for _, r := range rs {
			out = append(out, strings.TrimPrefix(section(r, "dimensions")["datetimeMinute"].(string), "2026-03-10T"))
		}
		return out
	}
	if got := minutes(query(`limit: 100, orderBy: [datetimeMinute_ASC]`)); strings.Join(got, ",") != "12:00:00Z,12:01:00Z,12:02:00Z,12:03:00Z,12:04:00Z" {
		t.Fatalf("all minutes = %v", got)
	}
	if got := minutes(query(`limit: 2, orderBy: [datetimeMinute_DESC]`)); strings.Join(got, ",") != "12:04:00Z,12:03:00Z" {
		t.Fatalf("limit 2 DESC = %v", got)
	}
	// datetime is an exact time on Cloudflare: a bound keeps each minute holding an instant
	// within it, so 12:01:30 keeps the 12:01 minute, and < 12:04:00 ends before it.
	if got := minutes(query(`limit: 100, filter: {datetime_geq: "2026-03-10T12:01:30Z", datetime_lt: "2026-03-10T12:04:00Z"}`)); strings.Join(got, ",") != "12:01:00Z,12:02:00Z,12:03:00Z" {
		t.Fatalf("datetime range = %v", got)
	}
	if got := minutes(query(`limit: 100, filter: {datetime_gt: "2026-03-10T12:03:00Z", datetime_leq: "2026-03-10T12:03:59Z"}`)); strings.Join(got, ",") != "12:03:00Z" {
		t.Fatalf("datetime range within a minute = %v", got)
	}
	// datetimeMinute is the minute itself: 12:01:30 excludes the 12:01 minute.
	if got := minutes(query(`limit: 100, filter: {datetimeMinute_geq: "2026-03-10T12:01:30Z", datetimeMinute_lt: "2026-03-10T12:04:00Z"}`)); strings.Join(got, ",") != "12:02:00Z,12:03:00Z" {
		t.Fatalf("datetimeMinute range = %v", got)
	}
	rs := query(`limit: 100, filter: {OR: [{datetimeMinute: "2026-03-10T12:00:00Z"}, {datetimeMinute: "2026-03-10T12:04:00Z"}]}`)
	if len(rs) != 2 || section(rs[0], "count")["requests"] != 1.0 || section(rs[1], "count")["requests"] != 5.0 {
		t.Fatalf("OR filter rows = %v", rs)
	}
	// No dimensions selected: one row with the total.
	data, errs := post(t, h, `{ viewer { accounts(filter: {accountTag: "`+testAccount+`"}) { workersInvocationsAdaptive(limit: 10, filter: {date: "2026-03-10"}) { sum { requests } avg { sampleInterval } } } } }`, nil)
	if errs != nil {
		t.Fatal(errs)
	}
	rs = rows(t, data, "workersInvocationsAdaptive")
	if len(rs) != 1 || section(rs[0], "sum")["requests"] != 15.0 || section(rs[0], "avg")["sampleInterval"] != 1.0 {
		t.Fatalf("total rows = %v", rs)
	}
}

func TestHandlerStatusFilter(t *testing.T) {
	r, _ := newTestRecorder()
	// 200, an exception (500 to the client), 404, a 500 the Worker returned, a runtime failure,
	// a disconnect.
	for i, s := range []int{200, 500, 404, 500, 502, 0} {
		r.Record(Invocation{Script: "api", Version: "v", Status: s, Thrown: i == 1, Internal: i == 4, At: t0})
	}
	data, errs := post(t, r.Handler(testAccount), `query($a: string) { viewer { accounts(filter: {accountTag: $a}) {
	  workersInvocationsAdaptive(limit: 10, filter: {status_in: [scriptThrewException, "internalError", exceededResources]}) { sum { requests errors } }
	  ok: workersInvocationsAdaptive(limit: 10, filter: {status: "success"}) { sum { requests errors clientDisconnects } }
	} } }`, map[string]any{"a": testAccount})
	if errs != nil {
		t.Fatal(errs)
	}
	bad := rows(t, data, "workersInvocationsAdaptive")
	ok := rows(t, data, "ok")
	if s := section(bad[0], "sum"); s["requests"] != 2.0 || s["errors"] != 2.0 {
		t.Fatalf("error statuses sum = %v", s)
	}
	if s := section(ok[0], "sum"); s["requests"] != 3.0 || s["errors"] != 0.0 || s["clientDisconnects"] != 0.0 {
		t.Fatalf("success sum = %v", s)
	}
}

func TestHandlerEmptyResultIsEmptyList(t *testing.T) {
	r, _ := newTestRecorder()
	data, errs := post(t, r.Handler(testAccount), cloudflareExample, map[string]any{"accountTag": testAccount})
	if errs != nil {
		t.Fatal(errs)
	}
	if got := rows(t, data, "workersInvocationsAdaptive"); len(got) != 0 {
		t.Fatalf("rows = %v", got)
	}
}

func TestHandlerErrors(t *testing.T) {
	r, _ := newTestRecorder()
	h := r.Handler(testAccount)
	acct := `accounts(filter: {accountTag: "` + testAccount + `"})`
	for _, c := range []struct {
		name, query string
		vars        any
		want, code  string
		path        string
	}{
		{"other account", `{ viewer { accounts(filter: {accountTag: "ffff"}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } } }`, nil,
			"not authorized for that account", "authz", `["viewer","accounts"]`},
		{"syntax", `{ viewer { `, nil, "Expected Name, found <EOF>", "parsing", ``},
		{"unknown dataset", `{ viewer { ` + acct + ` { httpRequests1mGroups(limit: 1) { sum { requests } } } } }`, nil,
			`Cannot query field "httpRequests1mGroups" on type "account".`, "validation", ``},
		{"unknown sum field", `{ viewer { ` + acct + ` { w: workersInvocationsAdaptive(limit: 1) { sum { cpuTime } } } } }`, nil,
			`Cannot query field "cpuTime" on type "AccountWorkersInvocationsAdaptiveSum".`, "validation", ``},
		{"unknown quantile", `{ viewer { ` + acct + ` { workersInvocationsAdaptive(limit: 1) { quantiles { wallTimeP42 } } } } }`, nil,
			`Cannot query field "wallTimeP42"`, "validation", ``},
		{"unknown filter field", `{ viewer { ` + acct + ` { workersInvocationsAdaptive(limit: 1, filter: {colo: "x"}) { sum { requests } } } } }`, nil,
			`Field "colo" is not defined by type "AccountWorkersInvocationsAdaptiveFilter_InputObject".`, "validation", ``},
		{"bad time", `{ viewer { ` + acct + ` { workersInvocationsAdaptive(limit: 1, filter: {datetime_geq: "yesterday"}) { sum { requests } } } } }`, nil,
			`invalid Time "yesterday"`, "validation", ``},
		{"limit too big", `{ viewer { ` + acct + ` { workersInvocationsAdaptive(limit: 10001) { sum { requests } } } } }`, nil,
			"limit must be less than or equal to 10000", "validation", ``},
		{"order by unselected dimension", `{ viewer { ` + acct + ` { workersInvocationsAdaptive(limit: 1, orderBy: [datetime_ASC]) { sum { requests } } } } }`, nil,
			`dimension "datetime" is not selected`, "validation", ``},
		{"undefined variable", `{ viewer { accounts(filter: {accountTag: $a}) { __typename } } }`, nil, `Variable "$a" is not defined.`, "validation", ``},
		{"missing required variable", `query($a: string!) { viewer { accounts(filter: {accountTag: $a}) { __typename } } }`, nil,
			`must be defined`, "validation", `["variable","a"]`},
		{"leaf with selection", `{ viewer { ` + acct + ` { workersInvocationsAdaptive(limit: 1) { sum { requests { __typename } } } } } }`, nil,
			`Field "requests" must not have a selection since type "uint64" has no subfields.`, "validation", ``},
		{"dataset without selection", `{ viewer { ` + acct + ` { workersInvocationsAdaptive(limit: 1) } } }`, nil,
			`must have a selection of subfields`, "validation", ``},
		{"unknown fragment", `{ viewer { ...V } }`, nil, `Unknown fragment "V".`, "validation", ``},
		{"missing limit", `{ viewer { ` + acct + ` { workersInvocationsAdaptive { sum { requests } } } } }`, nil,
			`Field "workersInvocationsAdaptive" argument "limit" of type "uint64!" is required, but it was not provided.`, "validation", ``},
		{"unknown directive", `{ viewer @cached { __typename } }`, nil, `Unknown directive "@cached".`, "validation", ``},
		{"mutation", `mutation { x }`, nil, `Schema does not support operation type "mutation"`, "validation", ``},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, errs := post(t, h, c.query, c.vars)
			if data != nil || len(errs) != 1 {
				t.Fatalf("data = %v, errors = %v", data, errs)
			}
			e := errs[0].(map[string]any)
			if msg, _ := e["message"].(string); !strings.Contains(msg, c.want) {
				t.Fatalf("message = %q, want %q", msg, c.want)
			}
			if code := e["extensions"].(map[string]any)["code"]; code != c.code {
				t.Fatalf("code = %v, want %s", code, c.code)
			}
			if c.name == "syntax" {
				if l, _ := json.Marshal(e["locations"]); string(l) != `[{"column":12,"line":1}]` {
					t.Fatalf("locations = %s", l)
				}
			}
			if c.path != "" {
				if p, _ := json.Marshal(e["path"]); string(p) != c.path {
					t.Fatalf("path = %s, want %s", p, c.path)
				}
			}
		})
	}
}

func TestHandlerBodyForms(t *testing.T) {
	r, _ := newTestRecorder()
	r.Record(Invocation{Script: "api", Version: "v", Status: 200, At: t0})
	srv := httptest.NewServer(r.Handler(testAccount))
	defer srv.Close()
	for name, body := range map[string]string{
		"variables as a JSON string": `{"query":"query($a: string) { viewer { accounts(filter: {accountTag: $a}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } } }","variables":"{\"a\":\"` + testAccount + `\"}"}`,
		"operationName picks one":    `{"operationName":"B","query":"query A { viewer { __typename } } query B { viewer { accounts(filter: {accountTag: \"` + testAccount + `\"}) { workersInvocationsAdaptive(limit: 1) { sum { requests } } } } }"}`,
	} {
		resp, err := http.Post(srv.URL, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		b, _ := json.Marshal(out)
		if !strings.Contains(string(b), `"requests":1`) || !strings.Contains(string(b), `"errors":null`) {
			t.Errorf("%s: response %s", name, b)
		}
	}
	resp, err := http.Post(srv.URL, "application/json", strings.NewReader(`not json`))
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out["data"] != nil || out["errors"] == nil {
		t.Errorf("malformed body: %v", out)
	}
}
