package runtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

const helloJS = `
export default {
  fetch(request, env) {
    return Response.json({ greeting: env.GREETING, secret: env.SECRET, conf: env.CONF, path: new URL(request.url).pathname,
      scriptHeader: request.headers.get("x-servicesdo-script") });
  },
};`

const targetJS = `
import { WorkerEntrypoint } from "cloudflare:workers";
export class Greeter extends WorkerEntrypoint {
  fetch(request) { return new Response("greeter fetch " + new URL(request.url).pathname); }
  hello(name) { return "hello " + name + " from Greeter"; }
}
export default {
  fetch(request) { return new Response("target default " + new URL(request.url).pathname); },
};`

const callerJS = `
export default {
  async fetch(request, env) {
    const plain = await (await env.TARGET.fetch("http://target/a")).text();
    const named = await (await env.GREETER.fetch("http://target/b")).text();
    const rpc = await env.GREETER.hello("caller");
    return Response.json({ plain, named, rpc });
  },
};`

const kvJS = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = url.searchParams.get("key");
    switch (url.pathname) {
      case "/get": {
        const value = await env.KV.get(key);
        return value === null ? new Response("missing", { status: 404 }) : new Response(value);
      }
      case "/types": {
        const json = await env.KV.get(key, "json");
        const buf = await env.KV.get(key, { type: "arrayBuffer" });
        const stream = await new Response(await env.KV.get(key, "stream")).text();
        const meta = await env.KV.getWithMetadata(key, "json");
        return Response.json({ json, bytes: buf.byteLength, stream, meta });
      }
      case "/put":
        await env.KV.put(key, url.searchParams.get("value"), { metadata: { by: "worker" }, expirationTtl: 3600 });
        return new Response("ok");
      case "/delete":
        await env.KV.delete(key);
        return new Response("ok");
      case "/list": {
        const first = await env.KV.list({ prefix: url.searchParams.get("prefix"), limit: 2 });
        const rest = first.list_complete ? { keys: [] } : await env.KV.list({ prefix: url.searchParams.get("prefix"), cursor: first.cursor });
        return Response.json({ first: first.keys.map((k) => k.name), complete: first.list_complete, rest: rest.keys.map((k) => k.name) });
      }
    }
    return new Response("no route", { status: 400 });
  },
};`

const r2JS = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const key = url.searchParams.get("key");
    switch (url.pathname) {
      case "/get": {
        const o = await env.BUCKET.get(key);
        if (o === null) return new Response("missing", { status: 404 });
        return Response.json({ key: o.key, size: o.size, etag: o.etag, type: o.httpMetadata.contentType, text: await o.text() });
      }
      case "/head": {
        const o = await env.BUCKET.head(key);
        return Response.json(o && { key: o.key, size: o.size, etag: o.etag });
      }
      case "/put": {
        const o = await env.BUCKET.put(key, await request.text(), { httpMetadata: { contentType: "text/plain" } });
        return Response.json({ key: o.key, size: o.size, etag: o.etag });
      }
      case "/delete":
        await env.BUCKET.delete(key);
        return new Response("ok");
      case "/list": {
        const l = await env.BUCKET.list({ prefix: url.searchParams.get("prefix") });
        return Response.json({ keys: l.objects.map((o) => o.key), truncated: l.truncated });
      }
    }
    return new Response("no route", { status: 400 });
  },
};`

// TestWorkersAndBindings runs plain Workers with text, secret and JSON bindings, service
// bindings (default and named entrypoint, fetch and RPC), KV and R2 backed by the local API.
func TestWorkersAndBindings(t *testing.T) {
	e := newEnv(t)

	var ns struct{ ID string }
	e.apiResult("POST", "/storage/kv/namespaces", "application/json", []byte(`{"title":"runtime-test"}`), &ns)
	e.apiResult("POST", "/r2/buckets", "application/json", []byte(`{"name":"runtime-bucket"}`), nil)

	res := e.apply(deploy.Snapshot{Scripts: []deploy.Script{
		single("hello", esVersion(versionID(1), helloJS,
			api.Binding{"type": "plain_text", "name": "GREETING", "text": "hi there"},
			api.Binding{"type": "secret_text", "name": "SECRET", "text": "s3cret"},
			api.Binding{"type": "json", "name": "CONF", "json": json.RawMessage(`{"n":1,"list":["a"]}`)},
		)),
		single("target", esVersion(versionID(2), targetJS)),
		single("caller", esVersion(versionID(3), callerJS,
			api.Binding{"type": "service", "name": "TARGET", "service": "target"},
			api.Binding{"type": "service", "name": "GREETER", "service": "target", "entrypoint": "Greeter"},
		)),
		single("kv", esVersion(versionID(4), kvJS, api.Binding{"type": "kv_namespace", "name": "KV", "namespace_id": ns.ID})),
		single("r2", esVersion(versionID(5), r2JS, api.Binding{"type": "r2_bucket", "name": "BUCKET", "bucket_name": "runtime-bucket"})),
	}})
	if len(res.Failed) != 0 {
		t.Fatalf("failed scripts: %v", res.Failed)
	}

	t.Run("plain worker and text, secret, json bindings", func(t *testing.T) {
		r := e.get("hello", "/some/path")
		if r.status != http.StatusOK || r.version != versionID(1) {
			t.Fatalf("got %d version %q: %s", r.status, r.version, r.body)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(r.body), &got); err != nil {
			t.Fatal(err)
		}
		want := `{"conf":{"list":["a"],"n":1},"greeting":"hi there","path":"/some/path","scriptHeader":null,"secret":"s3cret"}`
		if b, _ := json.Marshal(got); string(b) != want {
			t.Fatalf("got %s, want %s", b, want)
		}
	})

	t.Run("unknown script is a 404", func(t *testing.T) {
		if r := e.get("nope", "/"); r.status != http.StatusNotFound || !strings.Contains(r.body, `no Worker named \"nope\"`) {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})

	t.Run("service bindings", func(t *testing.T) {
		want := `{"plain":"target default /a","named":"greeter fetch /b","rpc":"hello caller from Greeter"}`
		if got := e.getOK("caller", "/"); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	})

	t.Run("kv round trip", func(t *testing.T) {
		e.apiResult("PUT", "/storage/kv/namespaces/"+ns.ID+"/values/dir%2Fa%20b", "application/octet-stream", []byte(`{"from":"api"}`), nil)
		if got := e.getOK("kv", "/get?key=dir/a%20b"); got != `{"from":"api"}` {
			t.Fatalf("worker read %q", got)
		}
		if got := e.getOK("kv", "/types?key=dir/a%20b"); got != `{"json":{"from":"api"},"bytes":14,"stream":"{\"from\":\"api\"}","meta":{"value":{"from":"api"},"metadata":null,"cacheStatus":null}}` {
			t.Fatalf("typed reads: %s", got)
		}
		if r := e.get("kv", "/get?key=absent"); r.status != http.StatusNotFound {
			t.Fatalf("absent key: %d %s", r.status, r.body)
		}
		e.getOK("kv", "/put?key=dir/w&value=from-worker")
		status, body := e.apiCall("GET", "/storage/kv/namespaces/"+ns.ID+"/values/dir%2Fw", "", nil)
		if status != http.StatusOK || string(body) != "from-worker" {
			t.Fatalf("API read %d %q", status, body)
		}
		var meta map[string]string
		e.apiResult("GET", "/storage/kv/namespaces/"+ns.ID+"/metadata/dir%2Fw", "", nil, &meta)
		if meta["by"] != "worker" {
			t.Fatalf("metadata %v", meta)
		}
		e.getOK("kv", "/put?key=dir/x&value=3")
		if got := e.getOK("kv", "/list?prefix=dir/"); got != `{"first":["dir/a b","dir/w"],"complete":false,"rest":["dir/x"]}` {
			t.Fatalf("list: %s", got)
		}
		e.getOK("kv", "/delete?key=dir/w")
		if status, _ := e.apiCall("GET", "/storage/kv/namespaces/"+ns.ID+"/values/dir%2Fw", "", nil); status != http.StatusNotFound {
			t.Fatalf("deleted key still there: %d", status)
		}
	})

	t.Run("r2 round trip", func(t *testing.T) {
		e.apiResult("PUT", "/r2/buckets/runtime-bucket/objects/docs%2Fa.txt", "text/markdown", []byte("# from api"), nil)
		got := e.getOK("r2", "/get?key=docs/a.txt")
		if !strings.Contains(got, `"key":"docs/a.txt","size":10,`) || !strings.Contains(got, `"type":"text/markdown","text":"# from api"`) {
			t.Fatalf("worker read %s", got)
		}
		if r := e.get("r2", "/get?key=docs/none"); r.status != http.StatusNotFound {
			t.Fatalf("absent object: %d %s", r.status, r.body)
		}
		r, err := e.send("POST", "r2", "/put?key=docs/b.txt", []byte("from worker"))
		if err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"size":11`) {
			t.Fatalf("worker put: %v %d %s", err, r.status, r.body)
		}
		status, body := e.apiCall("GET", "/r2/buckets/runtime-bucket/objects/docs%2Fb.txt", "", nil)
		if status != http.StatusOK || string(body) != "from worker" {
			t.Fatalf("API read %d %q", status, body)
		}
		if got := e.getOK("r2", "/head?key=docs/b.txt"); !strings.Contains(got, `"key":"docs/b.txt","size":11`) {
			t.Fatalf("head: %s", got)
		}
		if got := e.getOK("r2", "/head?key=docs/b"); got != "null" {
			t.Fatalf("head of a prefix: %s", got)
		}
		if got := e.getOK("r2", "/list?prefix=docs/"); got != `{"keys":["docs/a.txt","docs/b.txt"],"truncated":false}` {
			t.Fatalf("list: %s", got)
		}
		e.getOK("r2", "/delete?key=docs/a.txt")
		if status, _ := e.apiCall("GET", "/r2/buckets/runtime-bucket/objects/docs%2Fa.txt", "", nil); status != http.StatusNotFound {
			t.Fatalf("deleted object still there: %d", status)
		}
	})
}

const counterJS = `
import { DurableObject } from "cloudflare:workers";
export class Counter extends DurableObject {
  async fetch() {
    const n = ((await this.ctx.storage.get("n")) ?? 0) + 1;
    await this.ctx.storage.put("n", n);
    return new Response(String(n));
  }
}
export default {
  fetch(request, env) {
    const name = new URL(request.url).searchParams.get("name") ?? "default";
    return env.COUNTER.get(env.COUNTER.idFromName(name)).fetch(request);
  },
};`

func counterScript(versions ...int) deploy.Script {
	s := deploy.Script{Name: "counter", Classes: []deploy.Class{{Class: "Counter", SQLite: true}}}
	for i, n := range versions {
		s.Versions = append(s.Versions, esVersion(versionID(n), counterJS, api.Binding{"type": "durable_object_namespace", "name": "COUNTER", "class_name": "Counter"}))
		pct := 100.0
		if len(versions) == 2 {
			pct = []float64{90, 10}[i]
		}
		s.Deployment = append(s.Deployment, deploy.Split{VersionID: versionID(n), Percentage: pct})
	}
	return s
}

// TestDurableObjectState keeps a Durable Object's state across requests, new versions (also
// split ones, where both versions reach the same object) and a restart of the runtime.
func TestDurableObjectState(t *testing.T) {
	e := newEnv(t)
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{counterScript(1)}})
	for want := 1; want <= 3; want++ {
		if got := e.getOK("counter", "/?name=a"); got != fmt.Sprint(want) {
			t.Fatalf("request %d: got %s", want, got)
		}
	}
	if got := e.getOK("counter", "/?name=b"); got != "1" {
		t.Fatalf("another object: got %s", got)
	}

	// A new split deployment: the class now runs in version 2's Worker; version 3 reaches it too.
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{counterScript(2, 3)}})
	if got := e.getOK("counter", "/?name=a", "Cloudflare-Workers-Version-Overrides", `counter="`+versionID(3)+`"`); got != "4" {
		t.Fatalf("after a new deployment, through the 10%% version: got %s", got)
	}
	if got := e.getOK("counter", "/?name=a", "Cloudflare-Workers-Version-Overrides", `counter="`+versionID(2)+`"`); got != "5" {
		t.Fatalf("after a new deployment, through the 90%% version: got %s", got)
	}

	if err := e.rt.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	e.start()
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{counterScript(2, 3)}})
	if got := e.getOK("counter", "/?name=a"); got != "6" {
		t.Fatalf("after a restart: got %s", got)
	}
	if got := e.getOK("counter", "/?name=b"); got != "2" {
		t.Fatalf("other object after a restart: got %s", got)
	}
}

const versionJS = `export default { fetch() { return new Response(VERSION_BODY); } };`

func versioned(n int) deploy.Version {
	return esVersion(versionID(n), strings.Replace(versionJS, "VERSION_BODY", fmt.Sprintf("%q", fmt.Sprint("v", n)), 1))
}

func splitScript(name string, a, b int, pctA float64) deploy.Script {
	return deploy.Script{
		Name:       name,
		Versions:   []deploy.Version{versioned(a), versioned(b)},
		Deployment: []deploy.Split{{VersionID: versionID(a), Percentage: pctA}, {VersionID: versionID(b), Percentage: 100 - pctA}},
	}
}

// TestVersionSelection checks a 90/10 split statistically, version overrides (also of a 0 %
// version) and the stickiness of version keys.
func TestVersionSelection(t *testing.T) {
	e := newEnv(t)
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{splitScript("split", 1, 2, 90), splitScript("zero", 3, 4, 100)}})

	t.Run("90/10 split", func(t *testing.T) {
		const total = 2000
		body := map[string]string{versionID(1): "v1", versionID(2): "v2"}
		var minority, bad atomic.Int64
		var wg sync.WaitGroup
		jobs := make(chan int)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range jobs {
					r, err := e.send("GET", "split", "/", nil)
					switch {
					case err != nil || r.status != http.StatusOK || r.body != body[r.version]:
						bad.Add(1)
					case r.version == versionID(2):
						minority.Add(1)
					}
				}
			}()
		}
		for i := 0; i < total; i++ {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
		share := float64(minority.Load()) / total
		t.Logf("10%% version served %.1f%% of %d requests", 100*share, total)
		if bad.Load() != 0 {
			t.Fatalf("%d requests failed or carried the wrong version header", bad.Load())
		}
		// ±3 points is 4.5 standard deviations at n=2000.
		if share < 0.07 || share > 0.13 {
			t.Fatalf("10%% version served %.1f%%, want 10%% ± 3", 100*share)
		}
	})

	t.Run("overrides", func(t *testing.T) {
		for i := 0; i < 20; i++ {
			if r := e.get("split", "/", "Cloudflare-Workers-Version-Overrides", `split="`+versionID(2)+`"`); r.body != "v2" || r.version != versionID(2) {
				t.Fatalf("override to the 10%% version: got %s (%s)", r.body, r.version)
			}
			if r := e.get("zero", "/", "Cloudflare-Workers-Version-Overrides", `other="x", zero="`+versionID(4)+`"`); r.body != "v4" {
				t.Fatalf("override to the 0%% version: got %s", r.body)
			}
			if r := e.get("zero", "/"); r.body != "v3" {
				t.Fatalf("without override the 0%% version must not serve: got %s", r.body)
			}
			if r := e.get("zero", "/", "Cloudflare-Workers-Version-Overrides", `zero="`+versionID(9)+`"`); r.body != "v3" {
				t.Fatalf("an override naming an undeployed version is ignored: got %s", r.body)
			}
		}
	})

	t.Run("version key stickiness", func(t *testing.T) {
		first := e.get("split", "/", "Cloudflare-Workers-Version-Key", "user-42").version
		for i := 0; i < 50; i++ {
			if v := e.get("split", "/", "Cloudflare-Workers-Version-Key", "user-42").version; v != first {
				t.Fatalf("request %d with the same key went to %s, first to %s", i, v, first)
			}
		}
		seen := map[string]int{}
		for i := 0; i < 300; i++ {
			seen[e.get("split", "/", "Cloudflare-Workers-Version-Key", fmt.Sprint("key-", i)).version]++
		}
		t.Logf("300 keys: %v", seen)
		if seen[versionID(1)] == 0 || seen[versionID(2)] == 0 || seen[versionID(2)] > 90 {
			t.Fatalf("keys do not spread over the split: %v", seen)
		}
	})
}

// TestHotApplyUnderTraffic replaces the running version while requests keep coming: none fails.
func TestHotApplyUnderTraffic(t *testing.T) {
	e := newEnv(t)
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{single("live", versioned(1))}})

	var sent, failed atomic.Int64
	var lastErr atomic.Value
	var sawV2 atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				r, err := e.send("GET", "live", "/", nil)
				sent.Add(1)
				switch {
				case err != nil:
					failed.Add(1)
					lastErr.Store(err.Error())
				case r.status != http.StatusOK || (r.body != "v1" && r.body != "v2" && r.body != "v3"):
					failed.Add(1)
					lastErr.Store(fmt.Sprintf("%d %s", r.status, r.body))
				case r.body == "v2":
					sawV2.Store(true)
				}
			}
		}()
	}
	eventually(t, 10*time.Second, "traffic to start", func() bool { return sent.Load() > 50 })

	for round := 2; round <= 3; round++ {
		begin := time.Now()
		want := fmt.Sprint("v", round)
		res, err := e.rt.Apply(context.Background(), deploy.Snapshot{Scripts: []deploy.Script{single("live", versioned(round))}})
		if err != nil || len(res.Failed) != 0 {
			t.Fatalf("Apply: %v %v", err, res.Failed)
		}
		applied := time.Since(begin)
		eventually(t, 10*time.Second, want+" to serve", func() bool { return e.getOK("live", "/") == want })
		t.Logf("Apply returned after %v; %s served %v after the Apply call", applied.Round(time.Millisecond), want, time.Since(begin).Round(time.Millisecond))
		if round == 2 {
			sawV2.Store(false)
			eventually(t, 10*time.Second, "traffic to reach v2", sawV2.Load)
		}
	}
	// Keep the traffic going past the drain of the last replaced instance.
	before := sent.Load()
	eventually(t, 20*time.Second, "more traffic after the last apply", func() bool { return sent.Load() > before+200 })
	close(stop)
	wg.Wait()
	t.Logf("%d requests during two hot applies, %d failed", sent.Load(), failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d of %d requests failed; last: %v", failed.Load(), sent.Load(), lastErr.Load())
	}
}

// TestStartupFailureIsolated reports a Worker that throws at startup by name, with its
// exception, while the other Workers keep serving.
func TestStartupFailureIsolated(t *testing.T) {
	e := newEnv(t)
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{single("good", versioned(1))}})

	boom := esVersion(versionID(2), `throw new Error("kaboom at startup"); export default {};`)
	res := e.apply(deploy.Snapshot{Scripts: []deploy.Script{
		single("good", versioned(3)),
		single("boom", boom),
		{Name: "broken", Versions: []deploy.Version{versioned(6)}, Deployment: []deploy.Split{{VersionID: versionID(7), Percentage: 100}}},
		single("uses-boom", esVersion(versionID(4), `export default { fetch(r, env) { return env.BOOM.fetch(r) } };`,
			api.Binding{"type": "service", "name": "BOOM", "service": "boom"})),
	}})
	if len(res.Failed) != 2 || !strings.Contains(res.Failed["broken"], "does not carry") || !strings.Contains(res.Failed["boom"], "kaboom at startup") || !strings.Contains(res.Failed["boom"], versionID(2)) {
		t.Fatalf("Failed = %q, want boom with its exception", res.Failed)
	}
	t.Logf("reported: %q", res.Failed)
	if got := e.getOK("good", "/"); got != "v3" {
		t.Fatalf("good script: got %s", got)
	}
	if r := e.get("boom", "/"); r.status != http.StatusNotFound {
		t.Fatalf("failed script: %d %s", r.status, r.body)
	}
	if r := e.get("uses-boom", "/"); r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `Worker \"boom\" is not running`) {
		t.Fatalf("binding to the failed script: %d %s", r.status, r.body)
	}

	// A snapshot whose only script fails still starts (serving nothing); fixing it serves again.
	res = e.apply(deploy.Snapshot{Scripts: []deploy.Script{single("boom", boom)}})
	if _, ok := res.Failed["boom"]; !ok {
		t.Fatalf("Failed = %q", res.Failed)
	}
	res = e.apply(deploy.Snapshot{Scripts: []deploy.Script{single("boom", versioned(5))}})
	if len(res.Failed) != 0 || e.getOK("boom", "/") != "v5" {
		t.Fatalf("fixed script does not serve: %v", res.Failed)
	}
}

// TestMissingInstall gives the instructions when Node.js or Miniflare is missing.
func TestMissingInstall(t *testing.T) {
	dir := t.TempDir()
	_, err := runtime.Start(context.Background(), runtime.Options{NodeDir: dir, PersistDir: filepath.Join(dir, "p")})
	if err == nil {
		t.Fatal("Start without node_modules succeeded")
	}
	if !errors.Is(err, runtime.ErrNodeMissing) && err.Error() != "Miniflare is not installed: run `npm ci` in "+dir+" (make demo does it)" {
		t.Fatalf("error: %v", err)
	}

	t.Setenv("PATH", dir)
	_, err = runtime.Start(context.Background(), runtime.Options{NodeDir: runtime.NodeDir(""), PersistDir: filepath.Join(dir, "p")})
	if !errors.Is(err, runtime.ErrNodeMissing) {
		t.Fatalf("error without node on PATH: %v", err)
	}
}

// TestDurableObjectHotApply increments a Durable Object from continuous traffic while a new
// version is applied: the old and the new instance share the storage during the drain, and no
// increment may be lost.
func TestDurableObjectHotApply(t *testing.T) {
	e := newEnv(t)
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{counterScript(1)}})
	var ok, failed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if r, err := e.send("GET", "counter", "/?name=hot", nil); err == nil && r.status == http.StatusOK {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		}()
	}
	eventually(t, 10*time.Second, "traffic to start", func() bool { return ok.Load() > 50 })
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{counterScript(2)}})
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{counterScript(3)}})
	before := ok.Load()
	eventually(t, 20*time.Second, "traffic after the applies", func() bool { return ok.Load() > before+300 })
	close(stop)
	wg.Wait()
	got := e.getOK("counter", "/?name=hot")
	t.Logf("%d increments during two hot applies, %d failed; counter now %s", ok.Load(), failed.Load(), got)
	if failed.Load() != 0 || got != fmt.Sprint(ok.Load()+1) {
		t.Fatalf("%d requests failed; counter is %s after %d successful increments (+1)", failed.Load(), got, ok.Load())
	}
}
