// The saga definition: its defaults (normalizeDefinition), its rules (validateDefinition) and
// its hash. The Go package (internal/workers/saga.go) generates the definition JSON, applies
// the same defaults and rules with the same messages, and computes the same hash;
// test/vectors/definitions.json holds the cases both pass. README.md documents the format.

import { canonicalJSON, sha256Hex } from "./canonical.js";
import { DurationError, parseDuration } from "./duration.js";
import { TemplateError, bodyStrings, parseTemplate, references } from "./template.js";

export const DEFINITION_VERSION = 1;
export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
export const BACKOFFS = ["constant", "linear", "exponential"];
export const DEFAULT_TIMEOUT = "30s";
export const DEFAULT_RETENTION = "7d";
export const DEFAULT_RETRY = { attempts: 3, backoff: "exponential", delay: "1s", jitter: 0 };

const SAGA_NAME = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
const STEP_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;
const BINDING_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

const FIELDS = {
  root: ["version", "name", "steps", "pivot_step", "retention"],
  step: ["name", "service", "action", "compensate", "timeout", "retry"],
  action: ["method", "path", "body"],
  compensate: ["method", "path", "body", "timeout", "retry"],
  retry: ["attempts", "backoff", "delay", "max_delay", "jitter", "non_retryable_statuses"],
};

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const present = (v) => v !== undefined && v !== null;

function normalizeRetry(retry, base) {
  const r = isObject(retry) ? retry : {};
  const out = {
    attempts: r.attempts ?? base.attempts,
    backoff: r.backoff ?? base.backoff,
    delay: r.delay ?? base.delay,
    jitter: r.jitter ?? base.jitter,
  };
  const maxDelay = present(r.max_delay) && r.max_delay !== "" ? r.max_delay : base.max_delay;
  if (present(maxDelay) && maxDelay !== "") out.max_delay = maxDelay;
  const statuses = present(r.non_retryable_statuses) ? r.non_retryable_statuses : base.non_retryable_statuses;
  if (present(statuses)) out.non_retryable_statuses = [...statuses].sort((a, b) => a - b);
  return out;
}

function normalizeRequest(req) {
  const out = { method: req.method, path: req.path };
  if (present(req.body)) out.body = req.body;
  return out;
}

// normalizeDefinition returns the definition with every default written out: the form the Go
// resource deploys and hashes. It expects a definition that validateDefinition accepts.
export function normalizeDefinition(def) {
  const out = {
    version: def.version ?? DEFINITION_VERSION,
    name: def.name,
    retention: present(def.retention) && def.retention !== "" ? def.retention : DEFAULT_RETENTION,
    steps: def.steps.map((s) => {
      const timeout = present(s.timeout) && s.timeout !== "" ? s.timeout : DEFAULT_TIMEOUT;
      const retry = normalizeRetry(s.retry, DEFAULT_RETRY);
      const step = { name: s.name, service: s.service, action: normalizeRequest(s.action), timeout, retry };
      if (present(s.compensate)) {
        step.compensate = {
          ...normalizeRequest(s.compensate),
          timeout: present(s.compensate.timeout) && s.compensate.timeout !== "" ? s.compensate.timeout : timeout,
          retry: normalizeRetry(s.compensate.retry, retry),
        };
      }
      return step;
    }),
  };
  if (present(def.pivot_step) && def.pivot_step !== "") out.pivot_step = def.pivot_step;
  return out;
}

// definitionSha256 is the SHA-256 of the canonical JSON of the normalized definition.
export async function definitionSha256(normalized) {
  return sha256Hex(canonicalJSON(normalized));
}

// pivotIndex is the index of the last step whose failure compensates: the pivot step, or the
// last step when there is none.
export function pivotIndex(def) {
  return present(def.pivot_step) && def.pivot_step !== "" ? def.steps.findIndex((s) => s.name === def.pivot_step) : def.steps.length - 1;
}

// validateDefinition returns the definition's errors as {field, rule, message}; formatError
// joins field and message. options.services, when given, is the list of service bindings the
// saga's Worker has.
export function validateDefinition(def, options = {}) {
  const errors = [];
  const add = (field, rule, message) => errors.push({ field, rule, message });
  if (!isObject(def)) {
    add("", "type", "the saga definition must be a JSON object");
    return errors;
  }
  unknownFields(def, FIELDS.root, "", add);

  if (present(def.version) && def.version !== DEFINITION_VERSION) {
    add("version", "version", `unsupported definition version ${JSON.stringify(def.version)}: this program understands version ${DEFINITION_VERSION}`);
  }
  if (!present(def.name) || def.name === "") add("name", "required", "a saga needs a name");
  else if (typeof def.name !== "string") add("name", "type", "must be a string");
  else if (!SAGA_NAME.test(def.name)) {
    add("name", "pattern", `${JSON.stringify(def.name)} is not a valid saga name: use 1 to 64 letters, digits, "_" or "-", starting with a letter, digit or "_"`);
  }

  const steps = Array.isArray(def.steps) ? def.steps : [];
  if (present(def.steps) && !Array.isArray(def.steps)) add("steps", "type", "must be a list of steps");
  else if (steps.length === 0) add("steps", "required", "a saga needs at least one step");
  const names = steps.map((s) => (isObject(s) && typeof s.name === "string" ? s.name : ""));
  const pivotGiven = present(def.pivot_step) && def.pivot_step !== "";
  const pivot = pivotGiven ? names.indexOf(def.pivot_step) : steps.length - 1;

  steps.forEach((s, i) => {
    const at = `steps[${i}]`;
    if (!isObject(s)) {
      add(at, "type", "must be an object");
      return;
    }
    unknownFields(s, FIELDS.step, at, add);
    if (!present(s.name) || s.name === "") add(`${at}.name`, "required", "a step needs a name");
    else if (typeof s.name !== "string") add(`${at}.name`, "type", "must be a string");
    else if (!STEP_NAME.test(s.name)) {
      add(`${at}.name`, "pattern", `${JSON.stringify(s.name)} is not a valid step name: use 1 to 64 letters, digits, "_" or "-", starting with a letter or "_"`);
    } else {
      const first = names.indexOf(s.name);
      if (first < i) add(`${at}.name`, "unique", `step name "${s.name}" is already used by steps[${first}]: step names must be unique, rename one of them`);
    }
    if (!present(s.service) || s.service === "") add(`${at}.service`, "required", "a step needs the service binding it calls");
    else if (typeof s.service !== "string") add(`${at}.service`, "type", "must be a string");
    else if (!BINDING_NAME.test(s.service)) {
      add(`${at}.service`, "pattern", `${JSON.stringify(s.service)} is not a valid service binding name: use letters, digits and "_", starting with a letter or "_"`);
    } else if (options.services && !options.services.includes(s.service)) {
      const known = options.services.length ? options.services.join(", ") : "none";
      add(`${at}.service`, "unknown_service", `service "${s.service}" is not bound to the saga's Worker (bound: ${known}): bind it or fix the name`);
    }

    const ctx = { names, index: i, name: names[i] || at };
    if (!present(s.action)) add(`${at}.action`, "required", "a step needs an action");
    else checkRequest(s.action, `${at}.action`, false, ctx, add);
    if (present(s.compensate)) {
      checkRequest(s.compensate, `${at}.compensate`, true, ctx, add);
      if (isObject(s.compensate)) {
        if (present(s.compensate.timeout)) checkDuration(s.compensate.timeout, `${at}.compensate.timeout`, true, add);
        if (present(s.compensate.retry)) checkRetry(s.compensate.retry, `${at}.compensate.retry`, add);
      }
      if (pivot >= 0 && i > pivot) {
        add(`${at}.compensate`, "after_pivot", `step "${names[i]}" comes after the pivot step "${def.pivot_step}" and is never compensated (failures after the pivot retry forward): remove compensate or move pivot_step`);
      }
    }
    if (present(s.timeout)) checkDuration(s.timeout, `${at}.timeout`, true, add);
    if (present(s.retry)) checkRetry(s.retry, `${at}.retry`, add);
  });

  if (pivotGiven) {
    if (typeof def.pivot_step !== "string") add("pivot_step", "type", "must be a string");
    else if (pivot < 0) add("pivot_step", "unknown_step", `"${def.pivot_step}" is not a step of this saga (steps: ${names.filter(Boolean).join(", ")}): name one of them`);
  }
  if (present(def.retention)) checkDuration(def.retention, "retention", true, add);
  return errors;
}

export function formatError(e) {
  return e.field ? `${e.field}: ${e.message}` : e.message;
}

function unknownFields(obj, known, at, add) {
  for (const k of Object.keys(obj).sort()) {
    if (!known.includes(k)) add(at ? `${at}.${k}` : k, "unknown_field", `unknown field: the fields here are ${known.join(", ")}`);
  }
}

function checkRequest(req, at, compensation, ctx, add) {
  if (!isObject(req)) {
    add(at, "type", "must be an object with method, path and body");
    return;
  }
  unknownFields(req, compensation ? FIELDS.compensate : FIELDS.action, at, add);
  if (!present(req.method) || req.method === "") add(`${at}.method`, "required", `a request needs a method: one of ${METHODS.join(", ")}`);
  else if (!METHODS.includes(req.method)) {
    add(`${at}.method`, "method", `${JSON.stringify(req.method)} is not supported: use ${METHODS.slice(0, -1).join(", ")} or ${METHODS.at(-1)}`);
  }
  if (!present(req.path) || req.path === "") add(`${at}.path`, "required", `a request needs a path starting with "/"`);
  else if (typeof req.path !== "string") add(`${at}.path`, "type", "must be a string");
  else {
    if (!req.path.startsWith("/")) add(`${at}.path`, "path", `${JSON.stringify(req.path)} must start with "/"`);
    checkTemplates(req.path, `${at}.path`, compensation, ctx, add);
  }
  if (present(req.body)) {
    if (req.method === "GET") add(`${at}.body`, "get_body", "a GET request cannot have a body: remove body or use another method");
    bodyStrings(req.body, `${at}.body`, (field, text) => checkTemplates(text, field, compensation, ctx, add));
  }
}

function checkTemplates(text, field, compensation, ctx, add) {
  let parts;
  try {
    parts = parseTemplate(text);
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    add(field, "template_syntax", e.message);
    return;
  }
  for (const ref of references(parts)) {
    if (ref.root !== "steps") continue;
    const j = ctx.names.indexOf(ref.step);
    const shown = `{{${ref.text}}}`;
    if (j < 0) {
      add(field, "unknown_step", `${shown} refers to "${ref.step}", which is not a step of this saga (steps: ${ctx.names.filter(Boolean).join(", ")})`);
    } else if (j > ctx.index) {
      const who = compensation ? "a compensation can use only the input and the outputs of its own and earlier steps" : "an action can use only the input and the outputs of earlier steps";
      add(field, "later_step", `${shown} refers to step "${ref.step}", which runs after "${ctx.name}": ${who}; reference an earlier step or reorder the steps`);
    } else if (j === ctx.index && !compensation) {
      add(field, "own_output", `${shown} refers to "${ctx.name}" itself: an action cannot use its own output (its compensation can)`);
    }
  }
}

function checkDuration(value, field, positive, add) {
  let ms;
  try {
    ms = parseDuration(value);
  } catch (e) {
    if (!(e instanceof DurationError)) throw e;
    add(field, "duration", e.message);
    return undefined;
  }
  if (positive && ms === 0) add(field, "duration", `must be longer than 0`);
  return ms;
}

function checkRetry(retry, at, add) {
  if (!isObject(retry)) {
    add(at, "type", "must be an object");
    return;
  }
  unknownFields(retry, FIELDS.retry, at, add);
  if (present(retry.attempts)) {
    if (typeof retry.attempts !== "number" || !Number.isInteger(retry.attempts)) add(`${at}.attempts`, "type", "must be a whole number");
    else if (retry.attempts < 1) add(`${at}.attempts`, "attempts", `must be at least 1 (the first call counts as an attempt), got ${retry.attempts}`);
  }
  if (present(retry.backoff) && !BACKOFFS.includes(retry.backoff)) {
    add(`${at}.backoff`, "backoff", `${JSON.stringify(retry.backoff)} is not supported: use constant, linear or exponential`);
  }
  const delay = present(retry.delay) ? checkDuration(retry.delay, `${at}.delay`, false, add) : parseDuration(DEFAULT_RETRY.delay);
  if (present(retry.max_delay) && retry.max_delay !== "") {
    const max = checkDuration(retry.max_delay, `${at}.max_delay`, false, add);
    if (max !== undefined && delay !== undefined && max < delay) {
      add(`${at}.max_delay`, "max_delay", `${retry.max_delay} is shorter than the delay ${retry.delay ?? DEFAULT_RETRY.delay}: max_delay caps the growing delay, so it must be at least delay`);
    }
  }
  if (present(retry.jitter)) {
    if (typeof retry.jitter !== "number") add(`${at}.jitter`, "type", "must be a number");
    else if (!(retry.jitter >= 0 && retry.jitter <= 1)) add(`${at}.jitter`, "jitter", `${retry.jitter} is out of range: use a fraction from 0 (no jitter) to 1 (full jitter)`);
  }
  if (present(retry.non_retryable_statuses)) {
    if (!Array.isArray(retry.non_retryable_statuses)) add(`${at}.non_retryable_statuses`, "type", "must be a list of HTTP statuses");
    else {
      const seen = new Set();
      retry.non_retryable_statuses.forEach((s, k) => {
        const field = `${at}.non_retryable_statuses[${k}]`;
        if (typeof s !== "number" || !Number.isInteger(s)) add(field, "type", "must be a whole number");
        else if (s < 400 || s > 599) add(field, "status", `${s} is not an error status: list statuses from 400 to 599`);
        else if (seen.has(s)) add(field, "status", `${s} is listed twice`);
        seen.add(s);
      });
    }
  }
}
