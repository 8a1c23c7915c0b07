// Package rollout is the state machine of servicesdo_deployment: progressive rollouts of a
// Worker's versions (immediate, rolling, canary, blue/green) as Terraform plan/apply
// transitions. It decides and never acts: no I/O, no clock, no Terraform types. The resource
// reads and writes Cloudflare, and this package tells it what to read, write, wait for and
// check, and what to show in the plan and save in state.
//
// # Model
//
// The platform is the source of truth. A Workers deployment is an immutable split of one or
// two versions; every step of a rollout is "make the active deployment equal to split X",
// written with a marker in the deployment's workers/message annotation, so the position of a
// rollout can always be rebuilt from the active deployment alone (Observe) and a killed apply
// resumes where it stopped. Every split lists the stable version first and the candidate
// second, so Durable Objects keep their version while the percentages move (Split), and a
// split never holds more than two versions: a new target replaces the in-flight candidate.
//
// A configuration expands into stages (Stages), numbered as the step attribute shows them:
//
//	canary      steps 1..N as configured, then N+1: 100 % (the promotion)
//	rolling     batches of batch_percent (25 → 25, 50, 75 %), then 100 %
//	immediate   step 1: 100 %
//	blue_green  step 0: the candidate at 0 % (reachable only with the
//	            Cloudflare-Workers-Version-Overrides header), held auto_promote_after;
//	            step 1: the switch to 100 %, a manual gate without auto_promote_after
//
// A manual gate on step k is approved by approved_through_step ≥ k; entering step k waits for
// it. Each stage holds for its hold while the analysis (if configured) checks the candidate
// every analysis.interval and once more when the hold ends.
//
// # States and transitions
//
// Between applies a rollout rests in one of four phases; previewing and progressing exist only
// while an apply runs (Observe reports a deployment marked with them, with no apply running,
// as paused(interrupted)):
//
//	stable      one version at 100 %, not reached by a rollout (adopted, rolled back)
//	promoted    a rollout finished; the candidate is the new stable version
//	paused      a rollout rests between steps: reason gate | inconclusive | budget |
//	            interrupted | external_change | failed (on_failure = "pause")
//	aborted     the analysis failed; 100 % stable, the configuration still asks for the
//	            candidate: the plan is empty with a warning until retry_token, version_id
//	            set back to the stable version, or a new version_id
//
// The transitions (numbered as in the design's state machine) and where they are decided:
//
//	T1   stable/promoted, new version_id            PlanApply → KindStart
//	T2   hold passed, next step not gated           Run: next write
//	T3   next step gated, not approved              PlanApply: path ends, Expect paused(gate)
//	T4   paused(gate), approval given               PlanApply → KindResume
//	T5   failure_limit failed checks                Run: rollback write, aborted, error
//	                                                (on_failure = "pause": paused(failed))
//	T6   hold ended inconclusive, policy pause      Run: paused(inconclusive), error
//	T7   max_apply_duration reached                 PlanApply: path ends, paused(budget)
//	T8   context cancelled (SIGINT)                 Run: paused(interrupted), traffic kept
//	T9   apply killed (SIGKILL)                     Observe: marker → paused(interrupted)
//	T10  paused(*), plain apply                     PlanApply → KindResume (rest of hold)
//	T11  version_id = stable version                PlanApply → KindRollback, one write
//	T12  new version_id mid-rollout                 PlanApply → KindSupersede, step 1
//	T13  post-promotion bake                        not implemented (no bake attribute)
//	T14  promoted, version_id = previous stable     PlanApply → KindRollback, no steps
//	T15  aborted, retry_token changed               PlanApply → KindRetry, step 1
//	T16  deployment changed outside Terraform       Observe → paused(external_change);
//	                                                PlanApply re-asserts the configuration
//	T17  DO migration, > 2 versions, bad input      Validate: plan-time errors
//
// # Marker
//
// Each deployment this package writes carries, at the start of workers/message (at most
// MaxMessageBytes = 100 bytes):
//
//	tfr:<pair>-<attempt>:<step>:<phase>[/<reason>] <note>
//	tfr:3f9a1c2e7b-01d4e2:2:progressing servicesdo canary: step 2/4, 25 % to bbbbbbbb
//
// pair (10 hex digits of SHA-256 of stable and candidate) names the rollout, attempt (6 hex
// digits of SHA-256 of retry_token) one try of it; step and phase place it. Observe needs no
// more: the versions and percentages are in the deployment itself, the time a hold started is
// its created_on, and an aborted deployment (100 % stable) still names the failed candidate
// through pair, so a killed abort is not retried by accident. Pause reasons come from state:
// the marker says where the rollout is, state says why it stopped there, and a marker that
// state does not explain is an interrupted apply.
//
// # How a resource calls it
//
// Read: Observe(active deployment, status in state) → the status to save. When the active
// deployment is the one state was built from, the status stands as it is (no perpetual diff).
//
// ModifyPlan: Validate(…) for plan-time errors (each Problem names its attribute); then
// PlanApply(config, status, now). Kind NoChange means: keep the state's values, the plan is
// empty (show Warnings). Otherwise planned_path comes from Path (PathStep.String), traffic
// from Expect.Traffic, phase from Expect.Phase. Keep now in private state: the apply calls
// PlanApply again with the same clock and gets the same plan (planning is deterministic). On
// create there is no state: read the active deployment and Observe it with a zero prior.
//
// Apply: run := Begin(plan, time.Now()); then loop run, d = run.Tick(in) and perform d:
//
//	ReadLive  read the active deployment           → Input{Now, Live}
//	Write     create the deployment d.Split with   → Input{Now, Live: created}
//	          d.Message (on error: read again      → Input{Now, Live: read, Err})
//	Wait      sleep until d.Until or ctx.Done()    → Input{Now} or Input{Now, Cancelled}
//	Analyse   analytics over d.Window for d.Stable → Input{Now, Evidence} (or Err)
//	          and d.Candidate; probes if d.Probe
//	Finish    save d.Status; add d.Outcome as a diagnostic of its Severity
//
// Log d.Logs and send d.Events (notify.webhook_url) as they come. A run writes only right
// after it has seen the live deployment, so every write is checked against a concurrent
// change (which ends the run as paused(external_change), writing nothing over it).
//
// # Consistency with the plan
//
// A run that walks its plan ends with Expect, so the state matches the plan. Anything else
// (a failure, an inconclusive pause, an interrupt, an external change) leaves the state
// different from the plan, which Terraform accepts only with an error diagnostic: those
// outcomes are SeverityError, with the state saved; the next plan shows how to continue.
//
// # Budget and analysis
//
// max_apply_duration bounds the holds of one apply: a stage is entered only if its whole hold
// fits in what is left, except a hold longer than the whole budget, which the first stage of
// an apply starts and later applies continue (holds count from the deployment's created_on,
// across applies). A resumed hold checks first, on the whole window since its split was set.
// A hold never ends on a failed check: while failures are below failure_limit (counted over
// the rollout attempt; a pass does not reset them) it holds one more interval.
package rollout
