package runtime_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// descendants returns pid and every process below it, from /proc.
func descendants(t *testing.T, pid int) []int {
	t.Helper()
	children := map[int][]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, stat := range stats {
		raw, err := os.ReadFile(stat)
		if err != nil {
			continue // the process ended
		}
		// pid (comm) state ppid …; comm may hold spaces, so read after the last ")".
		fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
		child, _ := strconv.Atoi(filepath.Base(filepath.Dir(stat)))
		if len(fields) > 1 {
			ppid, _ := strconv.Atoi(fields[1])
			children[ppid] = append(children[ppid], child)
		}
	}
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		out = append(out, children[out[i]]...)
	}
	return out
}

// The API token reaches the runtime on its stdin: no process of the runtime (Node and the
// workerd processes Miniflare starts) carries it on its command line, which any local user
// can read.
func TestTokenIsNotOnTheCommandLine(t *testing.T) {
	if _, err := os.Stat("/proc/self/cmdline"); err != nil {
		t.Skip("needs /proc")
	}
	e := newEnv(t)
	// A KV binding makes the runtime hand the token to a Worker.
	var ns struct{ ID string }
	e.apiResult("POST", "/storage/kv/namespaces", "application/json", []byte(`{"title":"cmdline"}`), &ns)
	e.apply(deploy.Snapshot{Scripts: []deploy.Script{single("kv", esVersion(versionID(1), kvJS, kvBinding(ns.ID)))}})
	if got := e.getOK("kv", "/put?key=k&value=v"); got != "ok" {
		t.Fatalf("the KV binding does not work: %q", got)
	}
	pids := descendants(t, e.rt.PID())
	if len(pids) < 2 {
		t.Fatalf("found %v: want Node and the workerd it started", pids)
	}
	for _, pid := range pids {
		cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if err != nil {
			continue
		}
		if bytes.Contains(cmdline, []byte(testToken)) {
			t.Fatalf("process %d has the API token on its command line: %q", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
		if environ, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ"); err == nil && bytes.Contains(environ, []byte(testToken)) {
			t.Fatalf("process %d has the API token in its environment", pid)
		}
	}
}
