package wranglertest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// testTail: wrangler tail streams the Worker's real invocations (a request and a cron) from
// the runtime over the trace-v1 WebSocket, and deletes its session when it stops.
func testTail(t *testing.T, s *suite) {
	const name = "tail-w"
	host := devHost(name)
	dir := s.project(t, map[string]string{"wrangler.toml": toml(name, "workers_dev = true"), "index.js": worker("tailed")})
	version := versionIDAfter(t, s.wrangler(t, dir, "deploy"), "Current Version ID:")

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := s.command(ctx, dir, "tail", name, "--format", "json")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	}()
	tails := s.env.Server.Tails()
	waitFor(t, 90*time.Second, "wrangler tail to connect", func() bool { return tails.Listening(name) })

	s.wantServes(t, host, "tailed")
	if status, body := s.get(t, host, "/__scheduled?cron=0+*+*+*+*"); status != 200 {
		t.Fatalf("firing a cron: %d %s", status, body)
	}

	events := make(chan map[string]any, 16)
	go decodeEvents(stdout, events)
	var request, scheduled map[string]any
	deadline := time.After(60 * time.Second)
	for request == nil || scheduled == nil {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("wrangler tail ended before streaming both events; stderr:\n%s", stderr.String())
			}
			inner, _ := ev["event"].(map[string]any)
			if _, ok := inner["request"]; ok {
				request = ev
			}
			if _, ok := inner["cron"]; ok {
				scheduled = ev
			}
		case <-deadline:
			t.Fatalf("no request and cron events from wrangler tail within 60 s (got request %v, cron %v); stderr:\n%s", request, scheduled, stderr.String())
		}
	}
	req := request["event"].(map[string]any)["request"].(map[string]any)
	if request["outcome"] != "ok" || request["scriptName"] != name || req["url"] != "http://"+host+"/" || req["method"] != "GET" {
		t.Errorf("request event: %v", request)
	}
	if res, _ := request["event"].(map[string]any)["response"].(map[string]any); res["status"] != float64(200) {
		t.Errorf("request event's response: %v", res)
	}
	if v, _ := request["scriptVersion"].(map[string]any); v["id"] != version {
		t.Errorf("request event's version: %v, want %s", v, version)
	}
	if scheduled["event"].(map[string]any)["cron"] != "0 * * * *" || scheduled["outcome"] != "ok" {
		t.Errorf("cron event: %v", scheduled)
	}

	// Stopped, wrangler deletes its session.
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	stopped = true
	waitFor(t, 30*time.Second, "the tail session to end", func() bool { return !tails.Listening(name) })
}

// decodeEvents decodes the JSON values wrangler tail prints, one after another.
func decodeEvents(r io.Reader, out chan<- map[string]any) {
	defer close(out)
	dec := json.NewDecoder(bufio.NewReader(r))
	for {
		var ev map[string]any
		if err := dec.Decode(&ev); err != nil {
			return
		}
		out <- ev
	}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
