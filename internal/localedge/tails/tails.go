package tails

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// session is one tail: who it tails, until when, which events it wants, and the sockets
// connected to it.
type session struct {
	id, script string
	expires    time.Time
	filter     filter
	mu         sync.Mutex
	conns      map[chan []byte]struct{}
}

// filter is the subset of a tail's filters the local edge applies: by method and by outcome
// ("ok", "error"); the others (sampling, headers, client IPs, queries) pass every event.
type filter struct {
	methods  map[string]bool
	outcomes map[string]bool
}

func parseFilters(raw []byte) filter {
	var body struct {
		Filters []struct {
			Method  []string `json:"method"`
			Outcome []string `json:"outcome"`
		} `json:"filters"`
	}
	f := filter{}
	if json.Unmarshal(raw, &body) != nil {
		return f
	}
	for _, item := range body.Filters {
		for _, m := range item.Method {
			if f.methods == nil {
				f.methods = map[string]bool{}
			}
			f.methods[strings.ToUpper(m)] = true
		}
		for _, o := range item.Outcome {
			if f.outcomes == nil {
				f.outcomes = map[string]bool{}
			}
			f.outcomes[o] = true
		}
	}
	return f
}

func (f filter) wants(ev Event) bool {
	if f.outcomes != nil {
		kind := "error"
		if ev.Outcome == "ok" {
			kind = "ok"
		}
		if !f.outcomes[kind] && !f.outcomes[ev.Outcome] {
			return false
		}
	}
	if f.methods != nil {
		req, ok := ev.Event.(RequestEvent)
		if !ok || !f.methods[req.Request.Method] {
			return false
		}
	}
	return true
}

func (t *Tails) tailObject(s *session, r *http.Request) map[string]any {
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	return map[string]any{
		"id":         s.id,
		"url":        scheme + "://" + r.Host + PathPrefix + s.id,
		"expires_at": s.expires.Format(time.RFC3339),
	}
}

func (t *Tails) create(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	body, err := api.LimitBody(w, r, 64<<10)
	if err != nil {
		return api.Errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
	}
	var raw json.RawMessage
	if err := json.NewDecoder(body).Decode(&raw); err != nil && err.Error() != "EOF" {
		return api.Errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
	}
	if !t.cfg.ScriptExists(name) {
		return errScriptNotFound()
	}
	s := &session{
		id: api.NewHexID(), script: name, expires: t.cfg.Now().UTC().Add(sessionLifetime),
		filter: parseFilters(raw), conns: map[chan []byte]struct{}{},
	}
	t.mu.Lock()
	t.sessions[s.id] = s
	t.mu.Unlock()
	api.WriteResult(w, t.tailObject(s, r))
	return nil
}

// get answers the script's tail (the newest live one), as cloudflare-go's ScriptTail.Get.
func (t *Tails) get(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	if !t.cfg.ScriptExists(name) {
		return errScriptNotFound()
	}
	now := t.cfg.Now()
	t.mu.Lock()
	var newest *session
	for _, s := range t.sessions {
		if s.script == name && now.Before(s.expires) && (newest == nil || s.expires.After(newest.expires)) {
			newest = s
		}
	}
	t.mu.Unlock()
	if newest == nil {
		return errTailNotFound("")
	}
	api.WriteResult(w, t.tailObject(newest, r))
	return nil
}

// delete ends a session and closes its sockets.
func (t *Tails) delete(w http.ResponseWriter, r *http.Request) error {
	name, id := r.PathValue("script_name"), r.PathValue("tail_id")
	t.mu.Lock()
	s, ok := t.sessions[id]
	if ok && s.script == name {
		delete(t.sessions, id)
	}
	t.mu.Unlock()
	if !ok || s.script != name {
		return errTailNotFound(id)
	}
	s.mu.Lock()
	for c := range s.conns {
		close(c)
		delete(s.conns, c)
	}
	s.mu.Unlock()
	api.WriteResult(w, nil)
	return nil
}

// byConsumer lists the Workers whose tail_consumers send their events to the script.
func (t *Tails) byConsumer(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("script_name")
	if !t.cfg.ScriptExists(name) {
		return errScriptNotFound()
	}
	producers, err := t.cfg.Producers(name)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, p := range producers {
		out = append(out, map[string]any{"producer": map[string]string{"script": p}, "consumer": map[string]string{"script": name}})
	}
	api.WriteResult(w, out)
	return nil
}

// ServeHTTP serves a session's WebSocket (PathPrefix + id): it streams the session's events
// as JSON text messages until the session is deleted or the client goes.
func (t *Tails) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, PathPrefix)
	t.mu.Lock()
	s, ok := t.sessions[id]
	t.mu.Unlock()
	if !ok || !t.cfg.Now().Before(s.expires) {
		http.Error(w, "tail session not found or expired", http.StatusNotFound)
		return
	}
	sock, err := acceptSocket(w, r, Protocol)
	if err != nil {
		return
	}
	events := make(chan []byte, 256)
	s.mu.Lock()
	s.conns[events] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, events)
		s.mu.Unlock()
	}()
	for {
		select {
		case msg, open := <-events:
			if !open {
				sock.close("tail deleted")
				return
			}
			if err := sock.writeText(msg); err != nil {
				_ = sock.conn.Close()
				return
			}
		case <-sock.closed:
			sock.close("")
			return
		}
	}
}

// Publish sends an invocation of a script to every connected tail of it that wants it. A
// socket that cannot keep up loses events rather than slowing the edge.
func (t *Tails) Publish(ev Event) {
	t.mu.Lock()
	var targets []*session
	for _, s := range t.sessions {
		if s.script == ev.ScriptName && s.filter.wants(ev) {
			targets = append(targets, s)
		}
	}
	t.mu.Unlock()
	if len(targets) == 0 {
		return
	}
	msg, err := json.Marshal(ev)
	if err != nil {
		return
	}
	for _, s := range targets {
		s.mu.Lock()
		for c := range s.conns {
			select {
			case c <- msg:
			default:
			}
		}
		s.mu.Unlock()
	}
}

// Listening reports whether a socket is connected to a tail of the script (so the edge
// builds events only when someone listens).
func (t *Tails) Listening(script string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.sessions {
		if s.script == script {
			s.mu.Lock()
			n := len(s.conns)
			s.mu.Unlock()
			if n > 0 {
				return true
			}
		}
	}
	return false
}
