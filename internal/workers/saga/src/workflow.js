// The saga's Workflow: each step's action is a step.do that calls the participant; a terminal
// failure at or before the pivot compensates, in reverse start order, every step that took (or
// may have taken) effect; after the pivot a failure parks the execution for an operator; a
// compensation that exhausts its retries parks it too. README.md explains why the compensation
// of a failed execution is our own control flow while terminate-with-compensation (and any
// failure that escapes run()) uses Workflows' native step rollbacks, and how both share one
// record of what was compensated so that nothing is compensated twice.
//
// All state below is rebuilt from step results on every replay: the run body is deterministic
// in the params (which pin the definition) and the cached step results.

import { WorkflowEntrypoint } from "cloudflare:workers";
import { bootId } from "./boot.js";
import { normalizeDefinition, pivotIndex } from "./definition.js";
import { parseDuration } from "./duration.js";
import { callParticipant, classifyStepError } from "./participant.js";
import { retryBudgetMs, retryDelayMs, stepConfig } from "./retry.js";
import { indexStub } from "./store.js";
import { DECISION_EVENT, OPERATOR_ACTIONS } from "./constants.js";

const DECISION_WAIT = "24 hours";

// Thrown when step.do returns nothing: only Workflows' rollback replay does that (it re-runs
// run() to register rollback handlers and returns undefined for steps without a result). The
// replay stops there; the engine then runs the registered handlers.
class ReplayStop extends Error {
  constructor() {
    super("rollback replay reached a step without a result");
  }
}

// settled waits for a call's step and returns {result} or {failure}: a failure is a failure
// result, or an error that classifyStepError recognises. Other errors (the engine pausing or
// terminating the instance, fatal engine errors) propagate.
async function settled(stepPromise) {
  let result;
  try {
    result = await stepPromise;
  } catch (err) {
    const failure = classifyStepError(err);
    if (!failure) throw err;
    return { failure };
  }
  if (result === undefined) throw new ReplayStop();
  if (result.failed) return { failure: result.failed };
  return { result };
}

export class SagaWorkflow extends WorkflowEntrypoint {
  async run(event, step) {
    return new SagaRun(this.env, step, event).execute();
  }
}

class SagaRun {
  constructor(env, step, event) {
    const params = event.payload;
    this.env = env;
    this.step = step;
    this.def = normalizeDefinition(params.definition);
    this.id = params.execution_id ?? event.instanceId;
    this.pivot = pivotIndex(this.def);
    this.context = { input: structuredClone(params.input ?? {}), steps: {}, execution: { id: this.id } };
    // Per step: what its action did ("none" | "applied" | "rejected" | "unknown") and its
    // compensation ("none" | "done" | "skipped" | "failed"). Shared by our compensation and
    // the native rollback handlers.
    this.state = this.def.steps.map(() => ({ effect: "none", compensation: "none", compensationRounds: 0 }));
    this.pivotPassed = false;
    this.seq = 0;
    this.parks = 0;
    this.index = indexStub(env);
  }

  // report records a change of the execution's phase. Reports are best effort (the record is a
  // view; Workflows holds the truth) and ordered by seq, which replays repeat exactly, so a
  // replayed report never rolls the record back. boot, when given, is recorded regardless.
  async report(patch, boot) {
    const seq = ++this.seq;
    try {
      await this.index.progress(this.id, seq, patch, boot);
    } catch (e) {
      console.error(`saga ${this.id}: recording progress failed: ${e.message}`);
    }
  }

  async record(method, ...args) {
    try {
      await this.index[method](this.id, ...args);
    } catch (e) {
      console.error(`saga ${this.id}: ${method} failed: ${e.message}`);
    }
  }

  async execute() {
    // Every run (a first run, or a replay after a restart) records the boot it runs in.
    await this.report({ status: "running" }, bootId());
    for (let i = 0; i < this.def.steps.length; i++) {
      const outcome = await this.forward(i);
      if (outcome === "resolve") return this.finish("resolved", {});
      if (outcome === "failed") {
        const failed = this.def.steps[i].name;
        const result = await this.compensateFrom(i);
        return this.finish(result === "resolve" ? "resolved" : "compensated", { failed_step: failed });
      }
    }
    return this.finish("completed", {});
  }

  async finish(outcome, detail) {
    await this.report({ status: outcome, ...detail });
    return { outcome, ...detail };
  }

  // forward runs step i's action until it completes; a failure returns "failed" at or before
  // the pivot, and parks the execution after it.
  async forward(i) {
    const s = this.def.steps[i];
    const compensable = i <= this.pivot && s.compensate;
    const timeoutMs = parseDuration(s.timeout);
    for (let round = 0; ; round++) {
      const name = round === 0 ? `action:${s.name}` : `action:${s.name}#${round}`;
      // A rollback handler is registered on the first round only: steps after the pivot (the only
      // ones with more rounds) have none.
      const rollback =
        compensable && round === 0
          ? {
              rollback: () => this.rollbackCompensation(i),
              rollbackConfig: { retries: { limit: 0, delay: 0, backoff: "constant" }, timeout: retryBudgetMs(parseDuration(s.compensate.timeout), s.compensate.retry) + 5000 },
            }
          : undefined;
      this.state[i].effect = "unknown"; // started, outcome not yet known
      const { result, failure } = await settled(this.step.do(name, stepConfig(timeoutMs, s.retry), (ctx) => this.attempt(i, "action", round, ctx, s.action, timeoutMs, s.retry), rollback));
      if (failure) {
        this.state[i].effect = failure.effect;
        await this.record("stepResult", s.name, "action", round, { state: "failed", error: failure.message, status: failure.status ?? null, effect: failure.effect });
        if (i <= this.pivot) return "failed";
        const decision = await this.park({ reason: "step_failed", step: s.name, error: failure.message });
        if (decision === "retry") {
          await this.report({ status: "running" });
          continue;
        }
        if (decision === "skip") {
          this.context.steps[s.name] = { output: null };
          await this.record("stepResult", s.name, "action", round, { state: "skipped", error: failure.message, status: failure.status ?? null, effect: failure.effect });
          await this.report({ status: "running" });
          return "skipped";
        }
        return "resolve";
      }
      this.completed(i, result);
      await this.record("stepResult", s.name, "action", round, { state: "completed", output: result.output, status: result.status, effect: "applied", output_dropped: result.output_dropped, attempt: result.attempt });
      return "completed";
    }
  }

  completed(i, result) {
    this.state[i].effect = "applied";
    this.context.steps[this.def.steps[i].name] = { output: result.output };
    if (i === this.pivot) this.pivotPassed = true;
  }

  // attempt is the body of a step.do: one call, recorded as an attempt.
  async attempt(i, kind, round, ctx, request, timeoutMs, retry) {
    const s = this.def.steps[i];
    const started = Date.now();
    await this.record("attemptStarted", s.name, kind, round, ctx.attempt, started);
    try {
      const result = await callParticipant({ env: this.env, saga: this.def.name, executionId: this.id, step: s, kind, request, timeoutMs, retry, attempt: ctx.attempt, context: this.context });
      // Set before the step returns: a pause right after the step can stop run() before the
      // code after step.do runs, and a rollback handler must still know.
      if (kind === "action") this.completed(i, result);
      else this.state[i].compensation = "done";
      // The successful attempt is recorded with the step's result, after the step.
      return { ...result, attempt: { attempt: ctx.attempt, started_at: started, ended_at: Date.now(), outcome: "ok", status: result.status } };
    } catch (err) {
      const failure = classifyStepError(err) ?? { kind: "error", effect: "unknown", message: String(err?.message ?? err) };
      if (kind === "action") this.state[i].effect = failure.effect;
      await this.record("attemptEnded", s.name, kind, round, ctx.attempt, { started_at: started, ended_at: Date.now(), outcome: failure.kind, status: failure.status ?? null, error: failure.message });
      // A failure that must not be retried ends the step with a failure result: retrying
      // cannot help, and the result is as durable as an error.
      if (failure.final) return { failed: failure };
      throw err;
    }
  }

  // compensateFrom compensates, in reverse start order, each step up to the failed one whose
  // action took or may have taken effect and that has a compensation.
  async compensateFrom(failed) {
    await this.report({ status: "compensating", failed_step: this.def.steps[failed].name });
    for (let j = failed; j >= 0; j--) {
      const effect = this.state[j].effect;
      if (!this.def.steps[j].compensate || (effect !== "applied" && effect !== "unknown")) continue;
      if ((await this.compensate(j)) === "resolve") return "resolve";
    }
    return "compensated";
  }

  async compensate(j) {
    const s = this.def.steps[j];
    const c = s.compensate;
    const timeoutMs = parseDuration(c.timeout);
    for (let round = 0; ; round++) {
      if (this.state[j].compensation === "done") return "done";
      const name = round === 0 ? `compensate:${s.name}` : `compensate:${s.name}#${round}`;
      this.state[j].compensationRounds = round + 1;
      const { result, failure } = await settled(this.step.do(name, stepConfig(timeoutMs, c.retry), (ctx) => this.attempt(j, "compensate", round, ctx, c, timeoutMs, c.retry)));
      if (failure) {
        this.state[j].compensation = "failed";
        await this.record("stepResult", s.name, "compensate", round, { state: "failed", error: failure.message, status: failure.status ?? null });
        const decision = await this.park({ reason: "compensation_failed", step: s.name, error: failure.message });
        if (decision === "retry") {
          await this.report({ status: "compensating" });
          continue;
        }
        if (decision === "skip") {
          this.state[j].compensation = "skipped";
          await this.record("stepResult", s.name, "compensate", round, { state: "skipped", error: failure.message, status: failure.status ?? null });
          await this.report({ status: "compensating" });
          return "skipped";
        }
        return "resolve";
      }
      this.state[j].compensation = "done";
      await this.record("stepResult", s.name, "compensate", round, { state: "completed", output: result.output, status: result.status, attempt: result.attempt });
      return "done";
    }
  }

  // park waits for an operator's decision on a parked execution: retry, skip or resolve. A
  // decision names the park it answers, so a late or repeated one is ignored.
  async park(parked) {
    const park = ++this.parks;
    await this.report({ status: "parked", parked: { park, ...parked } });
    for (let wait = 0; ; wait++) {
      let event;
      try {
        event = await this.step.waitForEvent(`decision:${park}:${wait}`, { type: DECISION_EVENT, timeout: DECISION_WAIT });
      } catch (err) {
        const failure = classifyStepError(err);
        if (failure?.kind === "timeout") continue; // still parked: wait again
        throw err;
      }
      if (event === undefined) throw new ReplayStop();
      const decision = event.payload;
      if (decision?.park !== park || !OPERATOR_ACTIONS.includes(decision.action)) continue;
      await this.record("decided", park, decision.action);
      return decision.action;
    }
  }

  // rollbackCompensation is step i's native rollback handler. Workflows calls it when the
  // instance is terminated with rollback or when run() fails, in reverse step-start order, after
  // run() has stopped (the saga API pauses the instance before terminating it). It compensates
  // only what is still uncompensated, so it never repeats a compensation run() already made.
  async rollbackCompensation(i) {
    const s = this.def.steps[i];
    const st = this.state[i];
    if (st.compensation === "done" || st.compensation === "skipped") return;
    const round = st.compensationRounds;
    const note = (state, error) => this.record("stepResult", s.name, "compensate", round, { state, error: error ?? null, source: "rollback" });
    if (this.pivotPassed) return note("not_run", `the execution passed its pivot step "${this.def.steps[this.pivot].name}"`);
    if (st.effect !== "applied" && st.effect !== "unknown") return note("not_needed", `the action ${st.effect === "rejected" ? "was rejected" : "never ran"}`);
    const c = s.compensate;
    const timeoutMs = parseDuration(c.timeout);
    st.compensationRounds++;
    // Workflows does not retry a rollback of a paused instance (its retry wait sees the pause),
    // so the attempts of the compensation's retry policy run inside this one rollback attempt.
    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      await this.record("attemptStarted", s.name, "compensate", round, attempt, started);
      try {
        const result = await callParticipant({ env: this.env, saga: this.def.name, executionId: this.id, step: s, kind: "compensate", request: c, timeoutMs, retry: c.retry, attempt, context: this.context });
        st.compensation = "done";
        await this.record("attemptEnded", s.name, "compensate", round, attempt, { started_at: started, ended_at: Date.now(), outcome: "ok", status: result.status });
        await this.record("stepResult", s.name, "compensate", round, { state: "completed", output: result.output, status: result.status, source: "rollback" });
        return;
      } catch (err) {
        const failure = classifyStepError(err) ?? { kind: "error", message: String(err?.message ?? err) };
        await this.record("attemptEnded", s.name, "compensate", round, attempt, { started_at: started, ended_at: Date.now(), outcome: failure.kind, status: failure.status ?? null, error: failure.message });
        if (failure.final || attempt >= c.retry.attempts) {
          st.compensation = "failed";
          await note("failed", failure.message);
          throw new Error(`compensation of step "${s.name}" failed: ${failure.message}`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, retryDelayMs(c.retry, attempt)));
    }
  }
}
