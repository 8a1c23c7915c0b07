// Package runtime runs the Workers deployed on the local edge in Miniflare 4, driven as a Node
// child process (node/edge.mjs) over JSON lines on its stdin and stdout.
//
// Apply takes the deploy.Snapshot the API builds, bindings in the API's own JSON; the Node
// program adds each binding type through its module in node/bindings. The settings (the API
// token among them) go to the program on its stdin, never on its command line.
//
// One Miniflare instance serves every deployed script: its entry Worker dispatches a request to
// the script named in its x-servicesdo-script header; that script's router picks
// the version (deployment percentages, Cloudflare-Workers-Version-Overrides and
// Cloudflare-Workers-Version-Key) and tags the response with x-servicesdo-version. KV and R2
// bindings call the local Cloudflare API, so its store stays the one source of truth; Durable
// Objects persist under Options.PersistDir.
//
// Apply starts a new instance for the new snapshot and, once it is ready, switches to it: the
// runtime's own stable Address (and ServeHTTP) forward to the current instance, and hold new
// requests for a moment until those in flight on the old instance are done (two instances must
// not run the same Durable Object at once). The old instance is disposed after a drain delay.
// No request is dropped.
//
// Workflows: two instances must not run Workflow engines on the same persisted state, so when
// both the running and the new snapshot run Workflows, Apply holds new requests, waits for
// those in flight, and has the old instance disposed of before the new one starts (a handover);
// requests wait meanwhile rather than fail. Workflows calls the Workflows API of the current
// instance (Miniflare's local explorer), which the runtime's address never serves to clients.
package runtime

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"sync"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// Options configures the runtime.
type Options struct {
	// NodeDir holds edge.mjs and its node_modules. Empty means $SERVICESDO_RUNTIME_DIR, else
	// internal/localedge/runtime/node of the module found from the working directory upwards
	// (or next to this source file).
	NodeDir string
	// PersistDir is Miniflare's persistence root (Durable Objects, cache).
	PersistDir string
	// APIAddress is host:port of the local Cloudflare API, which KV and R2 bindings call with
	// APIToken for AccountID. Empty leaves KV and R2 bindings out.
	APIAddress string
	APIToken   string
	AccountID  string
	// Log receives the runtime's diagnostics: Workers' console output and startup errors.
	Log io.Writer
	// DrainDelay is how long a replaced instance keeps serving the requests it already has;
	// 0 means 2 s.
	DrainDelay time.Duration
}

// ApplyResult reports an Apply.
type ApplyResult struct {
	// Address is where the new Miniflare instance itself serves (for diagnostics; clients use
	// Runtime.Address, which stays the same).
	Address string
	// Failed maps each script that could not start (it threw at startup, say) to the error,
	// with the exception. Those scripts are not served; the others are.
	Failed map[string]string
}

// Runtime is a running Node process with the current Miniflare instance.
type Runtime struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	log  io.Writer
	done chan struct{} // closed when the process has exited
	err  error         // why it exited; set before done is closed

	writeMu sync.Mutex
	mu      sync.Mutex
	nextID  int64
	waiting map[int64]chan response
	front   *front

	applyMu       sync.Mutex // Applys in order, each knowing whether the running one has Workflows
	workflowsLive bool
}

type response struct {
	ID          int64             `json:"id"`
	OK          bool              `json:"ok"`
	Error       string            `json:"error"`
	Address     string            `json:"address"`
	Failed      map[string]string `json:"failed"`
	ScriptError string            `json:"scriptError"`
	Status      int               `json:"status"`
	Body        string            `json:"body"`
}

// Errors for a missing Node.js or Miniflare.
var (
	ErrNodeMissing      = errors.New("node not found on PATH: install Node.js 20 (e.g. apt-get install nodejs) to run Workers locally")
	errMiniflareMissing = "Miniflare is not installed: run `npm ci` in %s (make demo does it)"
)

// NodeDir returns the directory of the Node program: dir if set, else $SERVICESDO_RUNTIME_DIR,
// else the package's node directory in the source tree.
func NodeDir(dir string) string {
	if dir != "" {
		return dir
	}
	if env := os.Getenv("SERVICESDO_RUNTIME_DIR"); env != "" {
		return env
	}
	rel := filepath.Join("internal", "localedge", "runtime", "node")
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if mod, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil &&
				bytes.Contains(mod, []byte("module github.com/dot-do/terraform-provider-servicesdo\n")) {
				return filepath.Join(d, rel)
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if _, file, _, ok := goruntime.Caller(0); ok {
		return filepath.Join(filepath.Dir(file), "node")
	}
	return rel
}

// CheckInstalled reports whether Node.js and Miniflare are there, with the error to show if not.
func CheckInstalled(nodeDir string) error {
	if _, err := exec.LookPath("node"); err != nil {
		return ErrNodeMissing
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "miniflare", "package.json")); err != nil {
		return fmt.Errorf(errMiniflareMissing, nodeDir)
	}
	return nil
}

// Start runs the Node program and an (empty) first instance.
func Start(ctx context.Context, opts Options) (*Runtime, error) {
	dir := NodeDir(opts.NodeDir)
	if err := CheckInstalled(dir); err != nil {
		return nil, err
	}
	if opts.PersistDir == "" {
		return nil, errors.New("runtime: Options.PersistDir is required")
	}
	persist, err := filepath.Abs(opts.PersistDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(persist, 0o700); err != nil {
		return nil, fmt.Errorf("creating %s: %w", persist, err)
	}
	drain := opts.DrainDelay
	if drain <= 0 {
		drain = 2 * time.Second
	}
	settings, err := json.Marshal(map[string]any{
		"persistDir": persist, "apiAddress": opts.APIAddress, "apiToken": opts.APIToken,
		"accountId": opts.AccountID, "drainMs": drain.Milliseconds(),
	})
	if err != nil {
		return nil, err
	}
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	log = &lockedWriter{w: log}

	// Not CommandContext: ctx bounds the start, not the life of the runtime.
	cmd := exec.Command("node", "edge.mjs")
	cmd.Dir = dir
	cmd.Stderr = log
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node: %w", err)
	}
	front, err := newFront(drain)
	if err != nil {
		_ = in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, err
	}
	r := &Runtime{cmd: cmd, in: in, log: log, done: make(chan struct{}), waiting: map[int64]chan response{}, front: front}
	go r.read(out)
	// The settings are the first line on stdin, before any request.
	if _, err := in.Write(append(settings, '\n')); err != nil {
		_ = r.kill()
		front.close()
		return nil, fmt.Errorf("starting Miniflare: %w", err)
	}
	if _, err := r.Apply(ctx, deploy.Snapshot{}); err != nil {
		_ = r.kill()
		front.close()
		return nil, fmt.Errorf("starting Miniflare: %w", err)
	}
	return r, nil
}

// read dispatches the responses on the program's stdout until it exits.
func (r *Runtime) read(out io.Reader) {
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var resp response
		if err := json.Unmarshal(sc.Bytes(), &resp); err != nil || resp.ID == 0 {
			// Not a response (stray output): it is a diagnostic.
			fmt.Fprintf(r.log, "%s\n", sc.Bytes())
			continue
		}
		r.mu.Lock()
		if resp.Address != "" {
			// Node serves from this instance now, whether or not the caller still waits (a failed
			// handover answers the address of the previous Workers, started again).
			r.front.switchTo(resp.Address)
		}
		ch := r.waiting[resp.ID]
		delete(r.waiting, resp.ID)
		r.mu.Unlock()
		if ch != nil {
			ch <- resp
		}
	}
	err := r.cmd.Wait()
	if err == nil {
		err = errors.New("exited")
	}
	r.err = fmt.Errorf("the Workers runtime (node edge.mjs) stopped: %w", err)
	close(r.done)
}

// call sends one request and waits for its response.
func (r *Runtime) call(ctx context.Context, req map[string]any) (response, error) {
	ch := make(chan response, 1)
	r.mu.Lock()
	r.nextID++
	id := r.nextID
	r.waiting[id] = ch
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		delete(r.waiting, id)
		r.mu.Unlock()
	}()
	req["id"] = id
	line, err := json.Marshal(req)
	if err != nil {
		return response{}, err
	}
	r.writeMu.Lock()
	_, err = r.in.Write(append(line, '\n'))
	r.writeMu.Unlock()
	if err != nil {
		select {
		case <-r.done:
			return response{}, r.err
		default:
			return response{}, fmt.Errorf("writing to the Workers runtime: %w", err)
		}
	}
	select {
	case resp := <-ch:
		if !resp.OK {
			return resp, errors.New(resp.Error)
		}
		return resp, nil
	case <-r.done:
		return response{}, r.err
	case <-ctx.Done():
		return response{}, ctx.Err()
	}
}

// Apply makes the running Workers match snap: it starts a new instance with them, switches
// traffic to it once it serves, and retires the previous one after the drain delay. Scripts
// that fail to start are left out and reported in Failed; the others serve. When no instance
// can start at all, the previous one keeps serving and Apply returns the error. If ctx ends
// first, Apply returns ctx's error but the switch may still happen.
func (r *Runtime) Apply(ctx context.Context, snap deploy.Snapshot) (ApplyResult, error) {
	if snap.Scripts == nil {
		snap.Scripts = []deploy.Script{}
	}
	r.applyMu.Lock()
	defer r.applyMu.Unlock()
	live := runsWorkflows(snap)
	handover := live && r.workflowsLive
	if handover {
		r.front.hold()
	}
	resp, err := r.call(ctx, map[string]any{"op": "apply", "snapshot": snap, "handover": handover})
	if handover && resp.Address == "" {
		r.front.release() // nothing new serves: the held requests go where they would have
	}
	if err != nil {
		if handover {
			r.workflowsLive = resp.Address != "" // the previous Workers serve again, or nothing does
		}
		return ApplyResult{}, err
	}
	r.workflowsLive = live
	failed := resp.Failed
	if failed == nil {
		failed = map[string]string{}
	}
	return ApplyResult{Address: resp.Address, Failed: failed}, nil
}

// runsWorkflows reports whether an instance of snap runs Workflow engines: it has Workflows, or
// a Worker with a workflow binding.
func runsWorkflows(snap deploy.Snapshot) bool {
	if len(snap.Workflows) > 0 {
		return true
	}
	for _, s := range snap.Scripts {
		for _, v := range s.Versions {
			for _, b := range v.Bindings {
				if b.Type() == "workflow" {
					return true
				}
			}
		}
	}
	return false
}

// Workflows serves one request of the Workflows API from the current instance: method and path
// under /accounts/{account_id} (e.g. "GET", "/workflows/w/instances?status=running"), a JSON
// body or nil. It answers the status and body of Miniflare's local explorer (Cloudflare's
// envelope), or an error when the runtime could not be asked.
func (r *Runtime) Workflows(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	resp, err := r.call(ctx, map[string]any{"op": "workflows", "method": method, "path": path, "body": string(body)})
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, []byte(resp.Body), nil
}

// Validate starts candidate (one script, one version) alone in a throwaway instance, with
// stand-ins for the Workers, KV namespaces and R2 buckets it binds to, and its Durable Object
// classes in memory. It returns a *deploy.ScriptError when the candidate does not start (a
// syntax error, an exception at startup, a Durable Object class it does not export), with
// workerd's message; another error when the runtime could not judge. Candidates that arrive
// while a validation runs are validated together in the next one.
func (r *Runtime) Validate(ctx context.Context, candidate deploy.Script) error {
	resp, err := r.call(ctx, map[string]any{"op": "validate", "script": candidate})
	if err != nil {
		return err
	}
	if resp.ScriptError != "" {
		return &deploy.ScriptError{Message: resp.ScriptError}
	}
	return nil
}

// PID is the Node program's process id (for diagnostics).
func (r *Runtime) PID() int { return r.cmd.Process.Pid }

// Address is the loopback host:port where the Workers serve; it does not change across Applys.
// A request names its script in the x-servicesdo-script header. Requests are forwarded to the
// current Miniflare instance (see proxy.go); ServeHTTP does the same in process.
func (r *Runtime) Address() string { return r.front.ln.Addr().String() }

// ServeHTTP serves a request for the script named in its x-servicesdo-script header, as
// Address does, without the extra hop.
func (r *Runtime) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.front.ServeHTTP(w, req) }

// ScriptHeader is the request header that names the script to run.
const ScriptHeader = "x-servicesdo-script"

// VersionHeader is the response header that names the version that served a request.
const VersionHeader = "x-servicesdo-version"

// OutcomeHeader marks an edge request whose Worker did not produce a response: the router
// answers like Cloudflare (500, "error code: 1101") and says why, so that analytics count the
// invocation as Cloudflare does. A response the Worker returns, whatever its status, has none.
const OutcomeHeader = "x-servicesdo-outcome"

// OutcomeException is OutcomeHeader's value for an uncaught exception (Cloudflare's invocation
// status scriptThrewException).
const OutcomeException = "exception"

// OutcomeInternal is OutcomeHeader's value when the runtime itself did not answer (Cloudflare's
// invocation status internalError).
const OutcomeInternal = "internal"

// Close disposes every Miniflare instance and stops Node (killing it after 10 s).
func (r *Runtime) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r.front.close()
	select {
	case <-r.done:
		return nil
	default:
	}
	_, err := r.call(ctx, map[string]any{"op": "close"})
	_ = r.in.Close()
	select {
	case <-r.done:
		if err != nil && errors.Is(err, r.err) {
			err = nil // it stopped as asked, before its answer was read
		}
	case <-ctx.Done():
		_ = r.kill()
		<-r.done
	}
	return err
}

func (r *Runtime) kill() error {
	_ = r.in.Close()
	return r.cmd.Process.Kill()
}

// lockedWriter serialises writes from the stderr copier and the stdout reader.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Headers of a scheduled run, shared with the runtime's router worker.
const (
	TriggerHeader       = "x-servicesdo-trigger"
	CronHeader          = "x-servicesdo-cron"
	ScheduledTimeHeader = "x-servicesdo-scheduled-time"
)

// ScheduledResult is what a Worker's scheduled handler did.
type ScheduledResult struct {
	// Outcome is workerd's: "ok", or "exception" when the handler threw.
	Outcome string `json:"outcome"`
	NoRetry bool   `json:"noRetry"`
	// Version is the id of the version that ran.
	Version string `json:"-"`
}

// Scheduled runs the scheduled handler of script's deployed version (picked by the
// deployment's percentages), as a cron trigger does, with the cron expression and the
// scheduled time the handler sees in its controller.
func (r *Runtime) Scheduled(ctx context.Context, script, cron string, at time.Time) (ScheduledResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+r.Address()+"/", nil)
	if err != nil {
		return ScheduledResult{}, err
	}
	req.Header.Set(ScriptHeader, script)
	req.Header.Set(TriggerHeader, "scheduled")
	req.Header.Set(CronHeader, cron)
	req.Header.Set(ScheduledTimeHeader, strconv.FormatInt(at.UnixMilli(), 10))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return ScheduledResult{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return ScheduledResult{}, err
	}
	var out ScheduledResult
	if res.StatusCode != http.StatusOK || json.Unmarshal(body, &out) != nil {
		return ScheduledResult{}, fmt.Errorf("running the scheduled handler of %q: HTTP %d %s", script, res.StatusCode, bytes.TrimSpace(body))
	}
	out.Version = res.Header.Get(VersionHeader)
	return out, nil
}
