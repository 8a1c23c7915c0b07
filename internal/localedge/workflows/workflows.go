package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// putBody is a Workflow as PUT takes it.
type putBody struct {
	ClassName  string  `json:"class_name"`
	ScriptName string  `json:"script_name"`
	Limits     *limits `json:"limits"`
}

func (s *Workflows) putWorkflow(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("workflow_name")
	if err := validateWorkflowName(name); err != nil {
		return err
	}
	var body putBody
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	switch {
	case body.ClassName == "":
		return errBadRequest("class_name is required: the WorkflowEntrypoint class that runs the Workflow")
	case body.ScriptName == "":
		return errBadRequest("script_name is required: the Worker whose main module exports class_name")
	case s.cfg.ScriptExists != nil && !s.cfg.ScriptExists(body.ScriptName):
		return api.Errorf(http.StatusBadRequest, 10007, "Worker '%s' not found: upload it before creating a Workflow that it runs", body.ScriptName)
	}
	now := s.now()
	return api.Update(w, s.cfg.Store, func(tx *api.Tx) (map[string]any, error) {
		wf, err := workflowByName(tx, name)
		exists := err == nil
		if !exists {
			wf = workflow{ID: api.NewUUID(), Name: name, CreatedOn: now}
		}
		changed := !exists || wf.ClassName != body.ClassName || wf.ScriptName != body.ScriptName || !limitsEqual(wf.Limits, body.Limits)
		if changed {
			v := version{ID: api.NewUUID(), WorkflowID: wf.ID, ClassName: body.ClassName, CreatedOn: now, ModifiedOn: now, Language: "javascript", Limits: body.Limits}
			n, err := api.All[version](tx, bucketVersions, wf.ID+"/")
			if err != nil {
				return nil, err
			}
			if err := tx.Put(bucketVersions, versionKey(wf.ID, len(n)), v); err != nil {
				return nil, err
			}
			wf.VersionID, wf.ClassName, wf.ScriptName, wf.Limits = v.ID, body.ClassName, body.ScriptName, body.Limits
		}
		wf.ModifiedOn = now
		if err := tx.Put(bucketWorkflows, name, wf); err != nil {
			return nil, err
		}
		return map[string]any{
			"id": wf.ID, "name": wf.Name, "class_name": wf.ClassName, "script_name": wf.ScriptName,
			"created_on": wf.CreatedOn, "modified_on": wf.ModifiedOn, "triggered_on": wf.TriggeredOn,
			"version_id": wf.VersionID, "is_deleted": 0, "terminator_running": 0,
		}, nil
	})
}

func limitsEqual(a, b *limits) bool {
	steps := func(l *limits) int64 {
		if l == nil {
			return 0
		}
		return l.Steps
	}
	return steps(a) == steps(b)
}

// instanceCounts are a Workflow's instances by status, as GET and list report them.
var instanceStatuses = []string{"queued", "running", "paused", "errored", "terminated", "complete", "waitingForPause", "waiting", "rollingBack"}

func (s *Workflows) described(ctx context.Context, wf workflow) map[string]any {
	counts := map[string]int{}
	for _, st := range instanceStatuses {
		counts[st] = 0
	}
	var detail struct {
		Instances map[string]int `json:"instances"`
	}
	if _, err := s.engineResult(ctx, http.MethodGet, "/workflows/"+url.PathEscape(wf.Name), nil, &detail); err == nil {
		for k, v := range detail.Instances {
			counts[k] = v
		}
	}
	return map[string]any{
		"id": wf.ID, "name": wf.Name, "class_name": wf.ClassName, "script_name": wf.ScriptName,
		"created_on": wf.CreatedOn, "modified_on": wf.ModifiedOn, "triggered_on": wf.TriggeredOn,
		"instances": counts, "schedules": []any{},
	}
}

func (s *Workflows) getWorkflow(w http.ResponseWriter, r *http.Request) error {
	var wf workflow
	if err := s.cfg.Store.View(func(tx *api.Tx) (err error) {
		wf, err = workflowByName(tx, r.PathValue("workflow_name"))
		return err
	}); err != nil {
		return err
	}
	api.WriteResult(w, s.described(r.Context(), wf))
	return nil
}

func (s *Workflows) listWorkflows(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := api.PageParams(r, 50, 100)
	if err != nil {
		return err
	}
	var all []workflow
	if err := s.cfg.Store.View(func(tx *api.Tx) (err error) {
		all, err = api.All[workflow](tx, bucketWorkflows, "")
		return err
	}); err != nil {
		return err
	}
	search := r.URL.Query().Get("search")
	matched := []workflow{}
	for _, wf := range all {
		if strings.Contains(wf.Name, search) {
			matched = append(matched, wf)
		}
	}
	window := api.PageSlice(matched, page, perPage)
	out := make([]map[string]any, 0, len(window))
	for _, wf := range window {
		out = append(out, s.described(r.Context(), wf))
	}
	api.WritePage(w, out, api.PageInfo(page, perPage, len(out), len(matched)))
	return nil
}

// deleteWorkflow deletes a Workflow and its versions; the runtime then stops its engine and
// deletes its instances.
func (s *Workflows) deleteWorkflow(w http.ResponseWriter, r *http.Request) error {
	return api.Update(w, s.cfg.Store, func(tx *api.Tx) (map[string]any, error) {
		wf, err := workflowByName(tx, r.PathValue("workflow_name"))
		if err != nil {
			return nil, err
		}
		if _, err := tx.DeletePrefix(bucketVersions, wf.ID+"/"); err != nil {
			return nil, err
		}
		return map[string]any{"status": "ok", "success": true}, tx.Delete(bucketWorkflows, wf.Name)
	})
}

func (s *Workflows) listVersions(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := api.PageParams(r, 50, 100)
	if err != nil {
		return err
	}
	var versions []version
	if err := s.cfg.Store.View(func(tx *api.Tx) error {
		wf, err := workflowByName(tx, r.PathValue("workflow_name"))
		if err != nil {
			return err
		}
		versions, err = api.All[version](tx, bucketVersions, wf.ID+"/")
		return err
	}); err != nil {
		return err
	}
	slices.Reverse(versions) // newest first
	api.WritePaged(w, versions, page, perPage)
	return nil
}

func (s *Workflows) getVersion(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, s.cfg.Store, func(tx *api.Tx) (version, error) {
		wf, err := workflowByName(tx, r.PathValue("workflow_name"))
		if err != nil {
			return version{}, err
		}
		id := r.PathValue("version_id")
		versions, err := api.All[version](tx, bucketVersions, wf.ID+"/")
		for _, v := range versions {
			if v.ID == id {
				return v, err
			}
		}
		if err == nil {
			err = errVersionNotFound(id)
		}
		return version{}, err
	})
}

// The instances API, served by the runtime's engine.

// explorerEnvelope is the runtime's answer.
type explorerEnvelope struct {
	Success bool `json:"success"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Result     json.RawMessage `json:"result"`
	ResultInfo struct {
		TotalCount int `json:"total_count"`
	} `json:"result_info"`
}

var notFoundInstance = lazyregexp.New(`^Workflow instance '`)

// engineResult calls the engine and decodes its result into into (when not nil). A refusal
// becomes the API's error; a missing Workflow or instance becomes the not-found error.
func (s *Workflows) engineResult(ctx context.Context, method, path string, body []byte, into any) (explorerEnvelope, error) {
	s.engineMu.Lock()
	engine := s.engine
	s.engineMu.Unlock()
	var env explorerEnvelope
	if engine == nil {
		return env, errNoRuntime()
	}
	status, answer, err := engine(ctx, method, path, body)
	if err != nil {
		return env, api.Errorf(http.StatusServiceUnavailable, 10503, "the Workers runtime did not answer: %v", err)
	}
	if err := json.Unmarshal(answer, &env); err != nil {
		return env, api.Errorf(http.StatusBadGateway, 10001, "the Workers runtime answered HTTP %d: %s", status, bytes.TrimSpace(answer))
	}
	if status >= 300 || !env.Success {
		msg := fmt.Sprintf("the Workers runtime refused %s %s (HTTP %d)", method, path, status)
		code := codeBadRequest
		if len(env.Errors) > 0 {
			msg, code = env.Errors[0].Message, env.Errors[0].Code
		}
		if status == http.StatusNotFound && !notFoundInstance.MatchString(msg) {
			// The Workflow exists (callers check) but no engine runs it: its Worker is not
			// deployed, so it has no instances either.
			return env, &api.Error{Status: http.StatusNotFound, Code: codeNotFound, Message: msg}
		}
		return env, &api.Error{Status: status, Code: code, Message: msg}
	}
	if into != nil && len(env.Result) > 0 {
		if err := json.Unmarshal(env.Result, into); err != nil {
			return env, api.Errorf(http.StatusBadGateway, 10001, "the Workers runtime answered an unexpected result: %v", err)
		}
	}
	return env, nil
}

func (s *Workflows) loadWorkflow(r *http.Request) (workflow, error) {
	var wf workflow
	err := s.cfg.Store.View(func(tx *api.Tx) (err error) {
		wf, err = workflowByName(tx, r.PathValue("workflow_name"))
		return err
	})
	return wf, err
}

func instancePath(wf workflow, id string) string {
	return "/workflows/" + url.PathEscape(wf.Name) + "/instances/" + url.PathEscape(id)
}

// newInstance is one instance to create, as POST (and each item of a batch) takes it.
type newInstance struct {
	InstanceID string          `json:"instance_id"`
	Params     json.RawMessage `json:"params"`
	// Accepted and not enforced locally: Miniflare keeps instances until they are deleted.
	InstanceRetention json.RawMessage `json:"instance_retention"`
	LocationHint      string          `json:"location_hint"`
}

// payload is the instance's event payload: params is a JSON-encoded string (as wrangler and
// the SDK send it) or a JSON value; none means {}.
func (n newInstance) payload() (json.RawMessage, error) {
	raw := bytes.TrimSpace(n.Params)
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(`{}`), nil
	}
	if raw[0] == '"' {
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return nil, errBadRequest("params: %v", err)
		}
		if !json.Valid([]byte(text)) {
			return nil, errBadRequest("params must be JSON (or a JSON-encoded string): %q is not", text)
		}
		raw = []byte(text)
	}
	if len(raw) > MaxParamsBytes {
		return nil, api.Errorf(http.StatusRequestEntityTooLarge, codeBadRequest, "params are %d bytes: an instance's params are at most %d bytes", len(raw), MaxParamsBytes)
	}
	return raw, nil
}

func (s *Workflows) create(ctx context.Context, wf workflow, n newInstance) (map[string]any, error) {
	id := n.InstanceID
	if id == "" {
		id = api.NewUUID()
	} else if err := validateInstanceID(id); err != nil {
		return nil, err
	}
	payload, err := n.payload()
	if err != nil {
		return nil, err
	}
	// The local engine would re-initialise an existing instance with the new params.
	if _, err := s.engineResult(ctx, http.MethodGet, instancePath(wf, id)+"?simple=true", nil, nil); err == nil {
		return nil, errInstanceExists(id)
	} else if ae, ok := err.(*api.Error); !ok || ae.Status != http.StatusNotFound {
		return nil, err
	}
	body, _ := json.Marshal(map[string]any{"id": id, "params": payload})
	if _, err := s.engineResult(ctx, http.MethodPost, "/workflows/"+url.PathEscape(wf.Name)+"/instances", body, nil); err != nil {
		return nil, err
	}
	return map[string]any{"id": id, "status": "queued", "version_id": wf.VersionID, "workflow_id": wf.ID, "trigger_source": "api"}, nil
}

func (s *Workflows) triggered(name string) {
	now := s.now()
	_ = s.cfg.Store.Update(func(tx *api.Tx) error {
		wf, err := workflowByName(tx, name)
		if err != nil {
			return err // deleted meanwhile: nothing to record
		}
		wf.TriggeredOn = &now
		return tx.Put(bucketWorkflows, name, wf)
	})
}

func (s *Workflows) createInstance(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	var n newInstance
	if r.ContentLength != 0 {
		if err := api.DecodeJSON(w, r, &n); err != nil {
			return err
		}
	}
	out, err := s.create(r.Context(), wf, n)
	if err != nil {
		return err
	}
	s.triggered(wf.Name)
	api.WriteResult(w, out)
	return nil
}

func (s *Workflows) createBatch(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	var batch []newInstance
	if err := api.DecodeJSON(w, r, &batch); err != nil {
		return err
	}
	if len(batch) == 0 || len(batch) > MaxBatch {
		return errBadRequest("a batch creates 1 to %d instances, got %d", MaxBatch, len(batch))
	}
	ids := map[string]bool{}
	for i, n := range batch {
		if n.InstanceID != "" && ids[n.InstanceID] {
			return errBadRequest("instance_id %q appears twice in the batch (items %d)", n.InstanceID, i)
		}
		ids[n.InstanceID] = true
	}
	out := make([]map[string]any, 0, len(batch))
	for _, n := range batch {
		one, err := s.create(r.Context(), wf, n)
		if err != nil {
			return err
		}
		out = append(out, one)
	}
	s.triggered(wf.Name)
	api.WriteResult(w, out)
	return nil
}

// listedInstance is one instance of the runtime's listing.
type listedInstance struct {
	ID        string `json:"id"`
	Status    string `json:"status"`
	CreatedOn string `json:"created_on"`
}

func (s *Workflows) listInstances(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, perPage, err := api.PageParams(r, 50, 100)
	if err != nil {
		return err
	}
	status := q.Get("status")
	if status != "" && !slices.Contains(instanceStatuses, status) {
		return errBadRequest("status must be one of %s, got %q", strings.Join(instanceStatuses, ", "), status)
	}
	direction := q.Get("direction")
	if direction != "" && direction != "asc" && direction != "desc" {
		return errBadRequest("direction must be asc or desc, got %q", direction)
	}
	var from, to time.Time
	for _, p := range []struct {
		name string
		into *time.Time
	}{{"date_start", &from}, {"date_end", &to}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return errBadRequest("%s must be an ISO 8601 time in UTC, got %q", p.name, v)
			}
			*p.into = t
		}
	}
	all, err := s.allInstances(r.Context(), wf, status)
	if err != nil {
		return err
	}
	items := []map[string]any{}
	for _, inst := range all {
		created, _ := time.Parse(time.RFC3339Nano, inst.CreatedOn)
		if (!from.IsZero() && created.Before(from)) || (!to.IsZero() && created.After(to)) {
			continue
		}
		var started any = created
		if inst.Status == "queued" {
			started = nil
		}
		items = append(items, map[string]any{
			"id": inst.ID, "status": inst.Status, "created_on": created, "modified_on": created, "started_on": started,
			"ended_on": nil, "version_id": wf.VersionID, "workflow_id": wf.ID, "trigger_source": "unknown",
		})
	}
	// Newest first unless asked otherwise (the runtime lists newest first).
	if direction == "asc" {
		slices.Reverse(items)
	}
	api.WritePaged(w, items, page, perPage)
	return nil
}

// allInstances reads every instance of the Workflow (with the status, when given) from the
// runtime, page by page; a Workflow that no engine runs has none.
func (s *Workflows) allInstances(ctx context.Context, wf workflow, status string) ([]listedInstance, error) {
	var all []listedInstance
	for page := 1; ; page++ {
		q := url.Values{"page": {fmt.Sprint(page)}, "per_page": {"100"}}
		if status != "" {
			q.Set("status", status)
		}
		var batch []listedInstance
		env, err := s.engineResult(ctx, http.MethodGet, "/workflows/"+url.PathEscape(wf.Name)+"/instances?"+q.Encode(), nil, &batch)
		if err != nil {
			if ae, ok := err.(*api.Error); ok && ae.Status == http.StatusNotFound {
				return nil, nil
			}
			return nil, err
		}
		all = append(all, batch...)
		if len(batch) == 0 || len(all) >= env.ResultInfo.TotalCount {
			return all, nil
		}
	}
}

// engineStep is one step of an instance as the runtime details it.
type engineStep struct {
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Start    *string         `json:"start"`
	End      *string         `json:"end"`
	Success  *bool           `json:"success"`
	Finished *bool           `json:"finished"`
	Output   json.RawMessage `json:"output"`
	Error    json.RawMessage `json:"error"`
	Config   json.RawMessage `json:"config"`
	Attempts json.RawMessage `json:"attempts"`
}

type engineInstance struct {
	Status string          `json:"status"`
	Params json.RawMessage `json:"params"`
	Queued *string         `json:"queued"`
	Start  *string         `json:"start"`
	End    *string         `json:"end"`
	Output json.RawMessage `json:"output"`
	Error  json.RawMessage `json:"error"`
	Steps  []engineStep    `json:"steps"`
}

// stepCount is the engine's suffix on a step's name: its occurrence ("call-1").
var stepCount = lazyregexp.New(`-[0-9]+$`)

func rawOrNull(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return json.RawMessage("null")
	}
	return raw
}

// outputText is a step output as Cloudflare returns it: its JSON text, null for none.
func outputText(raw json.RawMessage) any {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return string(raw)
}

func (s *Workflows) getInstance(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	order := r.URL.Query().Get("order")
	if order != "" && order != "asc" && order != "desc" {
		return errBadRequest("order must be asc or desc, got %q", order)
	}
	id := r.PathValue("instance_id")
	var inst engineInstance
	if _, err := s.engineResult(r.Context(), http.MethodGet, instancePath(wf, id), nil, &inst); err != nil {
		if ae, ok := err.(*api.Error); ok && ae.Status == http.StatusNotFound {
			return errInstanceNotFound(id)
		}
		return err
	}
	steps := []map[string]any{}
	for _, st := range inst.Steps {
		step := map[string]any{"name": stepCount.ReplaceAllString(st.Name, ""), "type": st.Type, "start": st.Start, "end": st.End}
		switch st.Type {
		case "step":
			step["success"], step["output"], step["config"], step["attempts"] = st.Success, outputText(st.Output), rawOrNull(st.Config), rawOrNull(st.Attempts)
		case "waitForEvent":
			step["finished"], step["error"], step["output"] = st.Finished, rawOrNull(st.Error), outputText(st.Output)
		default:
			step["finished"], step["error"] = st.Finished, rawOrNull(st.Error)
		}
		steps = append(steps, step)
	}
	if order == "desc" {
		slices.Reverse(steps)
	}
	stepCount := len(steps)
	if r.URL.Query().Get("simple") == "true" {
		steps = []map[string]any{}
	}
	var success any
	switch inst.Status {
	case "complete":
		success = true
	case "errored", "terminated":
		success = false
	}
	api.WriteResult(w, map[string]any{
		"status": inst.Status, "params": rawOrNull(inst.Params), "queued": inst.Queued, "start": inst.Start, "end": inst.End,
		"output": rawOrNull(inst.Output), "error": rawOrNull(inst.Error), "rollback": nil, "success": success,
		"trigger": map[string]string{"source": "unknown"}, "versionId": wf.VersionID, "step_count": stepCount, "steps": steps,
	})
	return nil
}

// statusChange is PATCH …/status: the action, and for terminate whether to roll back first,
// for restart the step to restart from.
type statusChange struct {
	Status   string          `json:"status"`
	Rollback *bool           `json:"rollback"`
	From     json.RawMessage `json:"from"`
}

func (s *Workflows) changeStatus(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	var body statusChange
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	actions := []string{"pause", "resume", "terminate", "restart"}
	if !slices.Contains(actions, body.Status) {
		return errBadRequest("status must be one of %s, got %q", strings.Join(actions, ", "), body.Status)
	}
	if body.Rollback != nil && body.Status != "terminate" {
		return errBadRequest("rollback is only valid with status terminate")
	}
	change := map[string]any{"action": body.Status}
	if body.Rollback != nil {
		change["rollback"] = *body.Rollback
	}
	if len(body.From) > 0 && string(body.From) != "null" {
		if body.Status != "restart" {
			return errBadRequest("from is only valid with status restart")
		}
		change["from"] = body.From
	}
	raw, _ := json.Marshal(change)
	id := r.PathValue("instance_id")
	if _, err := s.engineResult(r.Context(), http.MethodPatch, instancePath(wf, id)+"/status", raw, nil); err != nil {
		return err
	}
	var inst engineInstance
	if _, err := s.engineResult(r.Context(), http.MethodGet, instancePath(wf, id)+"?simple=true", nil, &inst); err != nil {
		return err
	}
	api.WriteResult(w, map[string]any{"status": inst.Status, "timestamp": s.now()})
	return nil
}

func (s *Workflows) sendEvent(w http.ResponseWriter, r *http.Request) error {
	wf, err := s.loadWorkflow(r)
	if err != nil {
		return err
	}
	eventType := r.PathValue("event_type")
	if len(eventType) > MaxNameLength || !validName.MatchString(eventType) {
		return errBadRequest("event type %q is invalid: use 1 to %d letters, digits, '_' or '-'", eventType, MaxNameLength)
	}
	var payload json.RawMessage
	if r.ContentLength != 0 {
		if err := api.DecodeJSON(w, r, &payload); err != nil {
			return err
		}
	}
	id := r.PathValue("instance_id")
	if _, err := s.engineResult(r.Context(), http.MethodPost, instancePath(wf, id)+"/events/"+url.PathEscape(eventType), rawOrNull(payload), nil); err != nil {
		return err
	}
	api.WriteResult(w, nil)
	return nil
}
