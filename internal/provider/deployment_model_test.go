package provider

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/dot-do/terraform-provider-servicesdo/internal/rollout"
)

func TestKeptSplit(t *testing.T) {
	t.Parallel()
	promoted := func(traffic rollout.Split) rollout.Status {
		return rollout.Status{Phase: rollout.PhasePromoted, Stable: "b", Traffic: traffic}
	}
	for name, c := range map[string]struct {
		st    rollout.Status
		keep  string
		want  string
		write bool
	}{
		"settled, nothing kept":        {promoted(rollout.Only("b")), "", "100 % b", false},
		"keep the version before":      {promoted(rollout.Only("b")), "a", "100 % b, 0 % a", true},
		"already kept":                 {promoted(rollout.TwoWay("b", "a", 0)), "a", "100 % b, 0 % a", false},
		"keep removed":                 {promoted(rollout.TwoWay("b", "a", 0)), "", "100 % b", true},
		"keep is the stable version":   {promoted(rollout.Only("b")), "b", "100 % b", false},
		"a rollout in flight: nothing": {rollout.Status{Phase: rollout.PhasePaused, Stable: "a", Traffic: rollout.TwoWay("a", "b", 10)}, "a", "", false},
		"aborted: nothing":             {rollout.Status{Phase: rollout.PhaseAborted, Stable: "a", Traffic: rollout.Only("a")}, "c", "", false},
	} {
		want, write := keptSplit(c.st, c.keep)
		if want.String() != c.want || write != c.write {
			t.Errorf("%s: %q, write %v; want %q, %v", name, want, write, c.want, c.write)
		}
	}
	if got := keepStep(rollout.TwoWay("b", "0123456789abcdef", 0)); got != "keep 01234567 at 0 % (version-override header only)" {
		t.Errorf("keepStep = %q", got)
	}
}

func TestProblemPath(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		p    rollout.Path
		want string
	}{
		{rollout.Path{Root: "strategy", Index: -1}, "strategy"},
		{rollout.Path{Root: "steps", Index: 2, Child: "percent"}, "steps[2].percent"},
		{rollout.Path{Root: "analysis", Index: -1, Child: "metric.error_rate.max"}, "analysis.metric.error_rate.max"},
		{rollout.Path{Root: "notify", Index: -1, Child: "webhook_url"}, "notify.webhook_url"},
	} {
		if got := problemPath(c.p).String(); got != c.want {
			t.Errorf("%v → %s, want %s", c.p, got, c.want)
		}
	}
}

func TestEffectiveBudget(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ configured, timeout, want time.Duration }{
		{0, 60 * time.Minute, 59 * time.Minute},
		{15 * time.Minute, 60 * time.Minute, 15 * time.Minute},
		{2 * time.Hour, 60 * time.Minute, 59 * time.Minute},
		{0, 90 * time.Second, 45 * time.Second}, // a short timeout keeps half for itself
	} {
		if got := effectiveBudget(c.configured, c.timeout); got != c.want {
			t.Errorf("effectiveBudget(%v, %v) = %v, want %v", c.configured, c.timeout, got, c.want)
		}
	}
}

// The signature is the hex HMAC-SHA256 of the body (vector computed independently).
func TestEventSignature(t *testing.T) {
	t.Parallel()
	if got := signature([]byte("k3y"), []byte(`{"event":"started"}`)); got != "e0483747c9f3009dd33560f61d8395c47c233e84940a10972f38586477562978" {
		t.Fatalf("signature = %s", got)
	}
}

// serviceRollout reads the rollout of a service planned in the same command; unset is the
// default, immediate; a service not planned here is unknown.
func TestServiceRolloutLookup(t *testing.T) {
	t.Parallel()
	obj := func(rollout tftypes.Value) tftypes.Value {
		return tftypes.NewValue(tftypes.Object{AttributeTypes: map[string]tftypes.Type{"name": tftypes.String, "rollout": tftypes.String}},
			map[string]tftypes.Value{"name": tftypes.NewValue(tftypes.String, "x"), "rollout": rollout})
	}
	var l planLookups
	l.claimService("managed", obj(tftypes.NewValue(tftypes.String, "managed")), true)
	l.claimService("default", obj(tftypes.NewValue(tftypes.String, nil)), true)
	l.claimService("unknown", obj(tftypes.NewValue(tftypes.String, tftypes.UnknownValue)), true)
	for name, want := range map[string]string{"managed": "managed", "default": "immediate", "unknown": "", "elsewhere": ""} {
		if got := l.serviceRollout(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// Probes reach <name>.localhost on loopback (as browsers resolve it), keep the Host, send the
// version override, and do not follow redirects.
func TestProbeClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		if r.URL.Path == "/health" && r.Header.Get("Cloudflare-Workers-Version-Overrides") != `orders="v2"` {
			w.WriteHeader(http.StatusTeapot)
		}
		_, _ = io.WriteString(w, r.Host)
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	x := &deploymentRun{s: settings{service: "orders", probe: &probeSettings{url: "http://orders.localhost:" + port, path: "/health", status: 200, timeout: 5 * time.Second, count: 2}}}
	got := x.probe(t.Context(), "v2")
	if len(got) != 2 || got[0].Status != 200 || got[0].Err != "" {
		t.Fatalf("probes = %+v", got)
	}
	res, err := probeClient().Get("http://orders.localhost:" + port + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if string(body) != "orders.localhost:"+port {
		t.Fatalf("body = %q", body)
	}
	x.s.probe.path = "/moved"
	if got := x.probe(t.Context(), "v2"); len(got) != 1 || got[0].Status != http.StatusFound {
		t.Fatalf("a redirect is the answer: %+v", got)
	}
}
