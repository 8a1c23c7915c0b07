package wranglertest

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWrangler runs wrangler's commands against one local edge. The subtests are
// independent (each has its own Worker, namespace or bucket) and run concurrently, a few at a
// time: each wrangler start costs about a CPU-second, so more at once only contend.
func TestWrangler(t *testing.T) {
	start := time.Now()
	s := newSuite(t)
	subtests := []struct {
		name string
		run  func(*testing.T, *suite)
	}{
		// Longest first.
		{"secrets_and_rollback", testSecretsAndRollback},
		{"kv", testKV},
		{"versions", testVersions},
		{"r2", testR2},
		{"deploy", testDeploy},
		{"tail", testTail},
		{"delete", testDelete},
		{"triggers", testTriggers},
		{"whoami", testWhoami},
		{"invalid_upload", testInvalidUpload},
	}
	slots := make(chan struct{}, concurrentSubtests)
	var wg sync.WaitGroup
	for _, st := range subtests {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			t.Run(st.name, func(t *testing.T) { st.run(t, s) })
		}()
	}
	wg.Wait()
	t.Logf("wrangler suite: %s", time.Since(start).Round(time.Millisecond))
}

// concurrentSubtests is how many subtests run at once (t.Run from goroutines: go test's
// -parallel, the number of CPUs, would be too few for subtests that mostly wait).
const concurrentSubtests = 4

func testWhoami(t *testing.T, s *suite) {
	out := s.wrangler(t, "", "whoami")
	for _, want := range []string{"developer@localedge.localhost", s.env.Config.AccountID, "Local edge account"} {
		if !strings.Contains(out, want) {
			t.Errorf("whoami does not print %q:\n%s", want, out)
		}
	}
}
