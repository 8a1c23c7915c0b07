package runtime_test

import (
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// A rate-limit binding admits `limit` calls per key and period, then refuses, per key.
func TestRateLimitBinding(t *testing.T) {
	e := newEnv(t)
	src := `export default {
  async fetch(request, env) {
    const key = new URL(request.url).searchParams.get("key");
    const { success } = await env.LIMITER.limit({ key });
    return new Response(success ? "allowed" : "limited");
  },
};`
	v := esVersion(versionID(1), src, api.Binding{"type": "ratelimit", "name": "LIMITER", "namespace_id": "1001", "simple": map[string]any{"limit": 3, "period": 60}})
	if res := e.apply(deploy.Snapshot{Scripts: []deploy.Script{single("limited", v)}}); len(res.Failed) > 0 {
		t.Fatalf("apply: %v", res.Failed)
	}
	var got []string
	for range 5 {
		got = append(got, e.getOK("limited", "/?key=alice"))
	}
	want := []string{"allowed", "allowed", "allowed", "limited", "limited"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("alice's five calls: %v, want %v", got, want)
		}
	}
	if other := e.getOK("limited", "/?key=bob"); other != "allowed" {
		t.Fatalf("another key is limited too: %q", other)
	}
}
