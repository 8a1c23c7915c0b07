package edge

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/runtime"
)

// Clock tells the cron scheduler the time; tests drive one by hand (edgetest.Clock).
type Clock interface {
	Now() time.Time
	// At returns a channel that receives once the clock reaches t (at once if it has).
	At(t time.Time) <-chan time.Time
}

type wallClock struct{}

func (wallClock) Now() time.Time                  { return time.Now() }
func (wallClock) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }

// ScheduledRun is one cron trigger the edge ran.
type ScheduledRun struct {
	Script, Cron string
	// At is the scheduled time the handler saw.
	At time.Time
	// Outcome is the handler's ("ok", "exception"), empty when it could not be run (Err).
	Outcome string
	Version string
	Err     error
}

// cronJob is one cron trigger of a deployed script.
type cronJob struct {
	script, cron string
	schedule     cron.Schedule
}

// cronParser reads Cloudflare's five-field cron expressions, in UTC. Cloudflare also takes L,
// W and # (last day, nearest weekday, nth weekday), which the local edge cannot schedule: such
// a trigger is reported in the log and can still be fired by hand (see isScheduledPath).
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// cronJobs parses the crons of the snapshot's scripts.
func (e *Edge) cronJobs(snap deploy.Snapshot) []cronJob {
	var jobs []cronJob
	for _, s := range snap.Scripts {
		for _, expr := range s.Crons {
			sched, err := cronParser.Parse(cronExpr(expr))
			if err != nil {
				fmt.Fprintf(e.cfg.Log, "servicesdo local edge: Worker %q: cron %q is not scheduled locally (%v); fire it with GET /__scheduled?cron=...\n", s.Name, expr, err)
				continue
			}
			if spec, ok := sched.(*cron.SpecSchedule); ok {
				spec.Location = time.UTC
			}
			jobs = append(jobs, cronJob{script: s.Name, cron: expr, schedule: sched})
		}
	}
	return jobs
}

// cronExpr maps Cloudflare's spelling to the parser's: day of week 7 is Sunday, like 0.
func cronExpr(expr string) string {
	fields := strings.Fields(expr)
	if len(fields) == 5 {
		dow := strings.Split(fields[4], ",")
		for i, d := range dow {
			if d == "7" {
				dow[i] = "0"
			}
		}
		fields[4] = strings.Join(dow, ",")
	}
	return strings.Join(fields, " ")
}

// maxCatchUp bounds how many missed activations of one trigger are looked at when the clock
// jumps; only the latest runs, as Cloudflare does not replay missed triggers.
const maxCatchUp = 100_000

// runCrons fires each deployed script's cron triggers on the clock. Each trigger keeps its
// own cursor (the time up to which it has run), so a deploy does not skip a trigger that was
// due; a trigger new to the snapshot starts from the time it appeared.
func (e *Edge) runCrons() {
	defer e.wg.Done()
	cursors := map[string]time.Time{}
	for {
		jobs := e.state.Load().crons
		now := e.clock.Now()
		live := map[string]bool{}
		var next time.Time
		for _, j := range jobs {
			k := j.script + "\x00" + j.cron
			live[k] = true
			from, ok := cursors[k]
			if !ok {
				from = now
			}
			var due time.Time
			for t, n := j.schedule.Next(from), 0; !t.IsZero() && !t.After(now) && n < maxCatchUp; t, n = j.schedule.Next(t), n+1 {
				due = t
			}
			if !due.IsZero() {
				e.wg.Add(1)
				go func() {
					defer e.wg.Done()
					e.fireCron(j.script, j.cron, due)
				}()
			}
			cursors[k] = now
			if n := j.schedule.Next(now); !n.IsZero() && (next.IsZero() || n.Before(next)) {
				next = n
			}
		}
		for k := range cursors {
			if !live[k] {
				delete(cursors, k)
			}
		}
		var fire <-chan time.Time
		if !next.IsZero() {
			fire = e.clock.At(next)
		}
		select {
		case <-e.done:
			return
		case <-e.cronsChanged:
		case <-fire:
		}
	}
}

// fireCron runs one trigger and reports it.
func (e *Edge) fireCron(script, cronExpr string, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := e.rt.Scheduled(ctx, script, cronExpr, at)
	run := ScheduledRun{Script: script, Cron: cronExpr, At: at, Outcome: res.Outcome, Version: res.Version, Err: err}
	switch {
	case err != nil:
		fmt.Fprintf(e.cfg.Log, "servicesdo local edge: cron %q of Worker %q: %v\n", cronExpr, script, err)
	case res.Outcome != "ok":
		fmt.Fprintf(e.cfg.Log, "servicesdo local edge: cron %q of Worker %q: the scheduled handler ended with %q\n", cronExpr, script, res.Outcome)
	}
	e.publishScheduled(run)
	if e.cfg.OnScheduled != nil {
		e.cfg.OnScheduled(run)
	}
}

// isScheduledPath reports whether a request asks to fire a cron trigger now: GET
// /__scheduled?cron=<expr> (what `wrangler dev --test-scheduled` offers) or Miniflare's
// /cdn-cgi/handler/scheduled, on any address that reaches the script.
func isScheduledPath(path string) bool {
	return path == "/__scheduled" || path == "/cdn-cgi/handler/scheduled"
}

// serveScheduled runs the script's scheduled handler with the query's cron (default "") and
// time (Unix ms, default now) and answers its outcome, 200 for "ok" and 500 otherwise, as text
// or, with format=json, as {"outcome":…,"noRetry":…}.
func (e *Edge) serveScheduled(w http.ResponseWriter, r *http.Request, script string) {
	q := r.URL.Query()
	at := e.clock.Now()
	if ms, err := strconv.ParseInt(q.Get("time"), 10, 64); err == nil {
		at = time.UnixMilli(ms)
	}
	res, err := e.rt.Scheduled(r.Context(), script, q.Get("cron"), at)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	run := ScheduledRun{Script: script, Cron: q.Get("cron"), At: at, Outcome: res.Outcome, Version: res.Version}
	e.publishScheduled(run)
	if e.cfg.OnScheduled != nil {
		e.cfg.OnScheduled(run)
	}
	status := http.StatusOK
	if res.Outcome != "ok" {
		status = http.StatusInternalServerError
	}
	w.Header().Set(runtime.VersionHeader, res.Version)
	if q.Get("format") == "json" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `{"outcome":%q,"noRetry":%t}`+"\n", res.Outcome, res.NoRetry)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, res.Outcome)
}
