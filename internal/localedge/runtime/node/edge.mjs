// Runs the deployed Workers of the servicesdo local edge in Miniflare.
//
// Driven by the Go package internal/localedge/runtime over JSON lines on stdin and stdout.
// The first line on stdin is the settings, {persistDir, apiAddress, apiToken, accountId,
// drainMs} (on stdin, not the command line, so that the API token is not in the process
// list). Then one request per line, answered by one line on stdout with the same id. stdout
// carries nothing else (console output and workerd's own output go to stderr, which Go
// forwards to its log).
//
//   {"id":1,"op":"apply","snapshot":{...}}   →  {"id":1,"ok":true,"address":"127.0.0.1:p","failed":{}}
//   {"id":2,"op":"validate","script":{...}}  →  {"id":2,"ok":true}  or  {"id":2,"ok":true,"scriptError":"…"}
//   {"id":4,"op":"workflows","method":"GET","path":"/workflows/w/instances","body":""}
//                                             →  {"id":4,"ok":true,"status":200,"body":"…"}
//   {"id":3,"op":"close"}                    →  {"id":3,"ok":true}   (then the process exits)
//   any failure                              →  {"id":n,"ok":false,"error":"…"}
//
// The snapshot is the Go deploy.Snapshot; bindings are the API's own binding objects, and
// each binding type is one module in bindings/ exporting { type, add(worker, binding, ctx) }.
//
// Every apply builds a NEW Miniflare instance from the whole snapshot on a fresh port; once it
// is ready its address is returned and the previous instance is disposed after drainMs, so that
// requests in flight on it complete. setOptions would restart workerd in place and refuse
// connections meanwhile. Applies run one at a time, in order.
//
// Workflows are the exception: two instances must never run Workflow engines on the same
// persisted state (both would run an instance's steps). An apply with "handover": true (Go sends
// it when both the running and the new snapshot run Workflows, after holding new requests)
// disposes of the current instance BEFORE the new one starts; if the new one cannot start, the
// previous snapshot is started again. Every instance that runs Workflows then wakes the Workflow
// instances left unfinished (see wakeWorkflows). Workflow instance operations (the local Cloudflare API's
// instances endpoints) go to Miniflare's local explorer API of the current instance, which
// drives the engines through their bindings and reads their persisted state; the Go front
// keeps that API unreachable from edge traffic. Validations (an upload's
// candidate version started alone, with stand-ins for what it binds to) run beside them, and
// the candidates that arrive while one validation runs are validated together in the next.
import { Miniflare, Log, LogLevel } from "miniflare";
import { readFileSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";

const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
console.log = console.info = console.debug = console.error;

const here = dirname(fileURLToPath(import.meta.url));
let settings = { persistDir: "", apiAddress: "", apiToken: "", accountId: "", drainMs: 2000 };

// Worker sources. A wrapped binding must be a single module, so the KV, R2 and queue shims get the
// shared API helpers inlined.
const source = (file) => readFileSync(join(here, "workers", file), "utf8");
const apiHelpers = source("api.js").replace(/^export /gm, "");
const shim = (file) => apiHelpers + source(file).replace(/^import .*$/m, "");
const SOURCES = {
  entry: source("entry.js"),
  router: source("router.js"),
  missing: source("missing.js"),
  kv: shim("kv.js"),
  r2: shim("r2.js"),
  queue: shim("queue.js"),
};

// One module per binding type.
const BINDINGS = new Map();
for (const file of readdirSync(join(here, "bindings")).filter((f) => f.endsWith(".js")).sort()) {
  const mod = await import(pathToFileURL(join(here, "bindings", file)).href);
  BINDINGS.set(mod.type, mod);
}

const ENTRY = "servicesdo:entry";
const WORKFLOWS = "servicesdo:workflows";
const shimWorker = (kind) => `servicesdo:${kind}`;
const versionWorker = (script, id) => `v:${script}:${id}`;
const routerWorker = (script) => `r:${script}`;
const missingWorker = (script) => `missing:${script}`;

const MODULE_TYPES = {
  "application/javascript+module": "ESModule",
  "text/javascript+module": "ESModule",
  "application/javascript": "CommonJS",
  "text/javascript": "CommonJS",
  "application/wasm": "CompiledWasm",
  "text/plain": "Text",
  "application/octet-stream": "Data",
};

// hostVersion is the version whose Worker runs the script's Durable Object classes (a class
// lives in exactly one Worker): the one with the highest percentage, the first on a tie.
function hostVersion(script) {
  return script.deployment.reduce((a, b) => (b.percentage > a.percentage ? b : a)).versionId;
}

// doKey names a Durable Object namespace's storage (directory under the persist dir and seed of
// its object ids). It does not depend on the version, so state survives new versions.
function doKey(scriptName, cls) {
  return cls && cls.namespaceId ? cls.namespaceId : `${scriptName}-${cls ? cls.class : ""}`;
}

function moduleOf(m) {
  const type = MODULE_TYPES[(m.contentType || "").split(";")[0].trim()] || "Data";
  const bytes = Buffer.from(m.content || "", "base64");
  const contents = type === "ESModule" || type === "CommonJS" || type === "Text" ? bytes.toString("utf8") : new Uint8Array(bytes);
  return { type, path: "/" + m.name, contents };
}

// buildOptions turns the scripts of the snapshot named in `include` into Miniflare options.
// Bindings to scripts left out get a stand-in that answers 503. When validating, every binding
// to something outside the candidate gets a stand-in (or is left out): only the candidate's own
// code and Durable Object classes are being judged.
function buildOptions(snapshot, include, validating) {
  const scripts = snapshot.scripts.filter((s) => include.has(s.name) && s.deployment.length > 0);
  const byName = new Map(scripts.map((s) => [s.name, s]));
  const missing = new Set();
  const shims = new Set(); // "kv" / "r2" when some binding uses them
  const workers = [];

  const missingTarget = (name) => {
    missing.add(name);
    return { name: missingWorker(name) };
  };
  // A service binding without entrypoint goes to the target's router when its deployment holds
  // two versions (a split, or a version at 0 % that the version-override header reaches); with
  // a single version it goes straight to that version (so RPC methods work too): an override can
  // only name a version in the deployment, so the router would pick the same one.
  const serviceTarget = (name, entrypoint) => {
    const target = byName.get(name);
    if (!target || validating) return missingTarget(name);
    if (entrypoint) return { name: versionWorker(name, hostVersion(target)), entrypoint };
    if (target.deployment.length > 1) return { name: routerWorker(name) };
    return { name: versionWorker(name, target.deployment[0].versionId) };
  };

  // Workflow engines: one per registered Workflow whose script runs here, declared on a helper
  // Worker so that an engine exists whether or not a Worker binds to it (Miniflare keeps the
  // first declaration of a workflow name, so the registered class wins over a binding's).
  const registered = new Map((snapshot.workflows || []).map((w) => [w.name, w]));
  const engine = (name, className, scriptName) => {
    const owner = byName.get(scriptName);
    return owner ? { name, className, scriptName: versionWorker(owner.name, hostVersion(owner)) } : null;
  };
  const engines = {};
  if (!validating) {
    [...registered.values()].forEach((w, i) => {
      const designator = engine(w.name, w.className, w.scriptName);
      if (designator) engines[`W${i}`] = designator;
    });
  }

  const entryRouters = {};
  const entryServices = {};
  scripts.forEach((s, i) => {
    entryRouters[s.name] = `R${i}`;
    entryServices[`R${i}`] = { name: routerWorker(s.name), entrypoint: "FromEdge" };
  });
  workers.push({
    name: ENTRY,
    modules: true,
    script: SOURCES.entry,
    compatibilityDate: "2025-01-01",
    bindings: { ROUTERS: entryRouters },
    serviceBindings: entryServices,
  });
  if (Object.keys(engines).length > 0) {
    workers.push({ name: WORKFLOWS, modules: true, script: SOURCES.missing, compatibilityDate: "2025-01-01", bindings: { TARGET: WORKFLOWS }, workflows: engines });
  }

  for (const s of scripts) {
    const versions = s.deployment.map((d, i) => ({ id: d.versionId, percentage: d.percentage, binding: `V${i}` }));
    workers.push({
      name: routerWorker(s.name),
      modules: true,
      script: SOURCES.router,
      compatibilityDate: "2025-01-01",
      // Fetcher.scheduled() runs the version's scheduled handler and reports its outcome
      // (without the flag it would be an RPC call of a method named "scheduled").
      compatibilityFlags: ["service_binding_extra_handlers"],
      bindings: { CONFIG: { script: s.name, versions } },
      serviceBindings: Object.fromEntries(versions.map((v) => [v.binding, versionWorker(s.name, v.id)])),
    });

    const host = hostVersion(s);
    for (const d of s.deployment) {
      const v = s.versions.find((v) => v.id === d.versionId);
      if (!v) throw new Error(`script ${s.name}: deployment names version ${d.versionId} that the snapshot does not carry`);
      const name = versionWorker(s.name, v.id);
      const worker = {
        name,
        compatibilityDate: v.compatibilityDate || "2021-11-02",
        compatibilityFlags: v.compatibilityFlags || [],
        bindings: {},
        serviceBindings: {},
        durableObjects: {},
        wrappedBindings: {},
        ratelimits: {},
        workflows: {},
      };
      const main = v.modules.find((m) => m.name === v.mainModule);
      if (!main) throw new Error(`script ${s.name} version ${v.id}: main module ${v.mainModule} is not among its modules`);
      if (v.serviceWorker) {
        worker.script = Buffer.from(main.content || "", "base64").toString("utf8");
        worker.modules = false;
      } else {
        worker.modulesRoot = "/";
        worker.modules = [main, ...v.modules.filter((m) => m !== main)].map(moduleOf);
      }
      if (v.id === host && s.classes?.length) {
        worker.additionalUnboundDurableObjects = s.classes.map((c) => ({ className: c.class, useSQLite: Boolean(c.sqlite), unsafeUniqueKey: doKey(s.name, c) }));
      }
      const ctx = {
        script: s,
        service: serviceTarget,
        durableObject(worker, className, scriptName) {
          const own = !scriptName || scriptName === (s.origin || s.name);
          if (validating && !own) return null;
          const owner = own ? s : byName.get(scriptName);
          if (!owner) {
            console.error(`local edge: ${worker.name}: a binding names Durable Object class ${className} of Worker ${scriptName}, which is not running`);
            return null;
          }
          const cls = (owner.classes || []).find((c) => c.class === className);
          const designator = { className, useSQLite: Boolean(cls && cls.sqlite), unsafeUniqueKey: doKey(owner.name, cls || { class: className }) };
          const hostWorker = versionWorker(owner.name, hostVersion(owner));
          if (hostWorker !== worker.name) designator.scriptName = hostWorker;
          return designator;
        },
        // workflow resolves a workflow binding: the registered Workflow of that name, else the
        // class the binding names in its script (this one by default). A candidate being
        // validated runs its own classes only, under a name of its own.
        workflow(worker, b) {
          const own = s.origin || s.name;
          if (validating) {
            if (b.script_name && b.script_name !== own) return null;
            return b.class_name ? { name: `${b.workflow_name}@${s.name}`, className: b.class_name, scriptName: name } : null;
          }
          const w = registered.get(b.workflow_name);
          const designator = w ? engine(w.name, w.className, w.scriptName) : b.class_name ? engine(b.workflow_name, b.class_name, b.script_name || own) : null;
          if (!designator) console.error(`local edge: ${worker.name}: workflow binding ${b.name} names Workflow ${b.workflow_name}, whose Worker is not running; left out`);
          return designator;
        },
        api(kind, bindings) {
          if (validating) return null;
          if (!settings.apiAddress) {
            console.error(`local edge: ${name}: a ${kind} binding is left out: no API address configured`);
            return null;
          }
          shims.add(kind);
          return { scriptName: shimWorker(kind), bindings };
        },
      };
      for (const b of v.bindings || []) {
        const mod = BINDINGS.get(b.type);
        if (mod) mod.add(worker, b, ctx);
        else if (!validating) console.error(`local edge: ${name}: binding ${b.name} of type ${b.type} is not supported locally; left out`);
      }
      workers.push(worker);
    }
  }

  // Only the shims in use: a wrapped-binding Worker that nothing wraps would run as a Worker of
  // its own, whose default export (a function) workerd rejects.
  const api = { API: { external: { address: settings.apiAddress, http: {} } } };
  const account = { ACCOUNT: settings.accountId, TOKEN: settings.apiToken };
  for (const kind of shims) {
    workers.push({ name: shimWorker(kind), modulesRoot: "/", modules: [{ type: "ESModule", path: `/${kind}.js`, contents: SOURCES[kind] }], bindings: account, serviceBindings: api });
  }
  for (const name of missing) {
    workers.push({ name: missingWorker(name), modules: true, script: SOURCES.missing, compatibilityDate: "2025-01-01", bindings: { TARGET: name } });
  }
  return workers;
}

// start builds and starts one instance; it resolves to {mf, address} or rejects with an Error
// whose message includes workerd's output (the exception of a Worker that threw at startup).
// persist is false for throwaway instances (validations, and the ones that find which script
// fails to start), which must not touch the persisted Durable Object and Workflow state that
// the current instance uses.
async function start(snapshot, include, validating = false, persist = !validating) {
  let output = "";
  const workers = buildOptions(snapshot, include, validating);
  const workflowNames = [...new Set(workers.flatMap((w) => Object.values(w.workflows || {}).map((d) => d.name)))];
  const runsWorkflows = workflowNames.length > 0;
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new Log(LogLevel.WARN),
    cf: false, // no fetch of Cloudflare's request.cf sample from the network
    durableObjectsPersist: persist ? join(settings.persistDir, "do") : false,
    cachePersist: persist ? join(settings.persistDir, "cache") : false,
    workflowsPersist: persist ? join(settings.persistDir, "workflows") : false,
    // The local explorer serves the Workflows instances API that the Go side calls.
    unsafeLocalExplorer: runsWorkflows && !validating,
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        stream.on("data", (chunk) => {
          output += chunk;
          if (!validating) process.stderr.write(chunk);
        });
      }
    },
    workers,
  });
  try {
    const url = await mf.ready;
    return { mf, address: url.host, output: () => output, snapshot, include, runsWorkflows, workflowNames };
  } catch (err) {
    await mf.dispose().catch(() => {});
    // Miniflare's message may already quote workerd's output; blame from the output alone.
    const e = new Error(err.message.includes(output.trim()) ? err.message : `${err.message}\n${output}`.trim());
    e.output = output || err.message;
    throw e;
  }
}

// versionErrors picks out of workerd's output the errors of each version Worker, keyed
// "<script>:<version>": workerd prefixes them with "service core:user:v:<script>:<version>: "
// (and continues a stack on indented lines).
function versionErrors(output) {
  const errors = {};
  let current = null;
  for (const line of output.split("\n")) {
    const m = line.match(/^service core:user:v:([A-Za-z0-9_-]+):([^:]+): (.*)$/);
    if (m) {
      current = `${m[1]}:${m[2]}`;
      errors[current] = (errors[current] ? errors[current] + "\n" : "") + m[3];
    } else if (current && /^\s+\S/.test(line)) {
      errors[current] += "\n" + line.trimEnd();
    } else {
      current = null;
    }
  }
  return errors;
}

// scriptErrors groups versionErrors by script, naming the version in each message.
function scriptErrors(output) {
  const errors = {};
  for (const [key, text] of Object.entries(versionErrors(output))) {
    const [script, version] = key.split(":");
    errors[script] = (errors[script] ? errors[script] + "\n" : "") + `version ${version}: ${text}`;
  }
  return errors;
}

let current = null; // { mf, address }
const draining = new Set(); // replaced instances, disposed once their requests had time to finish

// workflowStorage is where Miniflare keeps a Workflow's instances.
const workflowStorage = (name) => join(settings.persistDir, "workflows", `miniflare-workflows-${name}`);

// forgetWorkflows removes the instances of the Workflows that `from` has and `to` does not
// (deleting a Workflow deletes its instances), once no instance runs their engines.
function forgetWorkflows(from, to) {
  const kept = new Set((to?.workflows || []).map((w) => w.name));
  for (const w of from?.workflows || []) {
    if (!kept.has(w.name)) rmSync(workflowStorage(w.name), { recursive: true, force: true });
  }
}

// apply starts the snapshot's Workers; scripts that fail to start are left out and reported.
// With handover, the current instance is disposed of first (see the header).
async function apply(snapshot, handover = false) {
  snapshot.scripts = snapshot.scripts || [];
  const old = current;
  if (handover && old) {
    current = null;
    await old.mf.dispose().catch((e) => console.error(`local edge: disposing the replaced instance: ${e.message}`));
    forgetWorkflows(old.snapshot, snapshot);
  }
  const include = new Set(snapshot.scripts.map((s) => s.name));
  const failed = {};
  let started = null;
  let lastError = null;
  // Each round either starts or removes at least one failing script, so it ends.
  for (let round = 0; round <= snapshot.scripts.length + 1 && !started; round++) {
    try {
      started = await start(snapshot, include);
    } catch (err) {
      lastError = err;
      let blamed = Object.entries(scriptErrors(err.output || err.message)).filter(([s]) => include.has(s));
      if (blamed.length === 0) {
        // Not attributable from the output: start each script alone to find the culprits.
        for (const name of include) {
          try {
            const alone = await start(snapshot, new Set([name]), false, false);
            await alone.mf.dispose();
          } catch (e) {
            blamed.push([name, scriptErrors(e.output || e.message)[name] || e.message]);
          }
        }
      }
      if (blamed.length === 0) break;
      for (const [name, text] of blamed) {
        failed[name] = text;
        include.delete(name);
      }
    }
  }
  if (!started) {
    if (handover && old) {
      // Serve what served before rather than nothing.
      try {
        current = await start(old.snapshot, old.include);
        lastError.address = current.address;
      } catch (e) {
        console.error(`local edge: restarting the previous Workers: ${e.message}`);
      }
    }
    throw lastError;
  }
  current = started;
  if (started.runsWorkflows) wakeWorkflows(started);
  if (old && !handover) {
    draining.add(old);
    setTimeout(() => {
      draining.delete(old);
      old.mf
        .dispose()
        .then(() => forgetWorkflows(old.snapshot, current?.snapshot))
        .catch((e) => console.error(`local edge: disposing a replaced instance: ${e.message}`));
    }, settings.drainMs).unref();
  }
  return { address: started.address, failed };
}

// Instances in these states were stopped mid-run by the previous instance (or process).
const UNFINISHED = new Set(["queued", "running", "waiting", "waitingForPause"]);
// WAKE_EVENT is an event type no Workflow waits for: sending it only starts the engine.
const WAKE_EVENT = "servicesdo-edge-resume";

// wakeWorkflows resumes the unfinished Workflow instances of a newly started instance. The
// local engine sets no alarms: an engine that was running when its workerd stopped stays idle
// until something calls it, whereas on Cloudflare it resumes by itself. An event starts the
// engine, which replays run() (completed steps come from its cache; a paused instance stays
// paused; one waiting for a pause becomes paused). It runs beside later requests; if the
// instance is replaced meanwhile, the next apply wakes them again.
async function wakeWorkflows(instance) {
  const call = async (method, path) => {
    const res = await instance.mf.dispatchFetch(`http://localhost/cdn-cgi/explorer/api${path}`, { method, headers: { "content-type": "application/json" }, ...(method === "POST" ? { body: "{}" } : {}) });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(body.errors || body)}`);
    return body;
  };
  for (const name of instance.workflowNames) {
    try {
      const unfinished = [];
      for (let page = 1; ; page++) {
        const listed = await call("GET", `/workflows/${encodeURIComponent(name)}/instances?per_page=100&page=${page}`);
        for (const i of listed.result || []) if (UNFINISHED.has(i.status)) unfinished.push(i.id);
        if (page >= (listed.result_info?.total_pages || 1)) break;
      }
      for (const id of unfinished) {
        // One that cannot be woken (its engine never started, say) does not stop the others.
        await call("POST", `/workflows/${encodeURIComponent(name)}/instances/${encodeURIComponent(id)}/events/${WAKE_EVENT}`).catch((err) => {
          if (current === instance) console.error(`local edge: resuming instance ${id} of Workflow ${name}: ${err.message}`);
        });
      }
    } catch (err) {
      if (current === instance) console.error(`local edge: resuming the instances of Workflow ${name}: ${err.message}`);
    }
  }
}

// validateAll starts each candidate script (one version each) and returns, per candidate, the
// runtime's error or "" when it starts. Candidates are started together; when that fails and
// the output does not say which one is to blame, each is started alone.
async function validateAll(candidates) {
  const verdicts = candidates.map(() => "");
  const keyOf = (c) => `${c.name}:${c.deployment[0].versionId}`;
  const named = candidates.map((c, i) => ({ ...c, origin: c.origin || c.name, name: `${c.origin || c.name}-candidate${i}` }));
  const tryStart = async (list) => {
    const snapshot = { scripts: list };
    const started = await start(snapshot, new Set(list.map((c) => c.name)), true);
    const output = started.output();
    await started.mf.dispose();
    return output;
  };
  try {
    const output = await tryStart(named);
    // workerd only warns about a Durable Object class that the code does not export;
    // Cloudflare refuses such an upload.
    for (const [, cls] of output.matchAll(/referenced the class "([^"]+)", but no such Durable Object class is exported/g)) {
      named.forEach((c, i) => {
        if (!verdicts[i] && declaresClass(c, cls)) {
          verdicts[i] = `Durable Object class "${cls}" is not exported by the Worker's main module: export a class named ${cls} that extends DurableObject, or remove it from the bindings and migrations.`;
        }
      });
    }
    return verdicts;
  } catch (err) {
    const blamed = versionErrors(err.output || err.message);
    if (Object.keys(blamed).length > 0) {
      named.forEach((c, i) => (verdicts[i] = blamed[keyOf(c)] || ""));
      const rest = named.filter((_, i) => verdicts[i] === "");
      if (rest.length === named.length) throw err;
      if (rest.length > 0) {
        const again = await validateAll(rest);
        rest.forEach((c, j) => (verdicts[named.indexOf(c)] = again[j]));
      }
      return verdicts;
    }
    if (candidates.length === 1) return [err.output || err.message];
    for (let i = 0; i < named.length; i++) {
      try {
        await tryStart([named[i]]);
      } catch (e) {
        verdicts[i] = Object.values(versionErrors(e.output || e.message))[0] || e.output || e.message;
      }
    }
    return verdicts;
  }
}

// declaresClass reports whether a candidate implements or binds the Durable Object class
// (a binding to a class of its own).
function declaresClass(candidate, cls) {
  if ((candidate.classes || []).some((c) => c.class === cls)) return true;
  const v = candidate.versions[0];
  return (v.bindings || []).some((b) => b.type === "durable_object_namespace" && b.class_name === cls && (!b.script_name || b.script_name === candidate.origin));
}

// Validations wait here; whenever none runs, the waiting ones are validated together.
const pendingValidations = [];
let validating = false;

function validate(script) {
  return new Promise((resolve, reject) => {
    pendingValidations.push({ script, resolve, reject });
    if (!validating) runValidations();
  });
}

async function runValidations() {
  validating = true;
  while (pendingValidations.length) {
    const batch = pendingValidations.splice(0);
    try {
      const verdicts = await validateAll(batch.map((b) => b.script));
      batch.forEach((b, i) => b.resolve(verdicts[i]));
    } catch (err) {
      batch.forEach((b) => b.reject(err));
    }
  }
  validating = false;
}

// workflowsCall serves one request of the Workflows API (a path under /workflows) from the
// current instance's local explorer; it waits for an apply that is replacing the instance.
async function workflowsCall(req) {
  if (!current) await queue;
  if (!current || !current.runsWorkflows) return { status: 404, body: JSON.stringify({ success: false, errors: [{ code: 10500, message: "no Workflow runs on the local edge" }] }) };
  const init = { method: req.method || "GET", headers: { "content-type": "application/json" } };
  if (req.body) init.body = req.body;
  const res = await current.mf.dispatchFetch(`http://localhost/cdn-cgi/explorer/api${req.path}`, init);
  return { status: res.status, body: await res.text() };
}

async function close() {
  const all = [...draining, ...(current ? [current] : [])];
  draining.clear();
  current = null;
  await Promise.all(all.map((i) => i.mf.dispose().catch(() => {})));
}

let queue = Promise.resolve();
let configured = false;
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  if (!configured) {
    configured = true;
    settings = { ...settings, ...JSON.parse(line) };
    return;
  }
  let req;
  try {
    req = JSON.parse(line);
  } catch (err) {
    send({ id: 0, ok: false, error: err.message });
    return;
  }
  if (req.op === "workflows") {
    workflowsCall(req).then(
      (res) => send({ id: req.id, ok: true, ...res }),
      (err) => send({ id: req.id, ok: false, error: err.message }),
    );
    return;
  }
  if (req.op === "validate") {
    validate(req.script).then(
      (scriptError) => send(scriptError ? { id: req.id, ok: true, scriptError } : { id: req.id, ok: true }),
      (err) => send({ id: req.id, ok: false, error: err.message }),
    );
    return;
  }
  queue = queue.then(async () => {
    try {
      if (req.op === "apply") {
        send({ id: req.id, ok: true, ...(await apply(req.snapshot || {}, Boolean(req.handover))) });
      } else if (req.op === "close") {
        await close();
        send({ id: req.id, ok: true });
        process.exit(0);
      } else {
        throw new Error(`unknown op ${JSON.stringify(req.op)}`);
      }
    } catch (err) {
      send({ id: req.id, ok: false, error: err.message, ...(err.address ? { address: err.address } : {}) });
    }
  });
});
// Go went away: stop workerd too.
lines.on("close", () => queue.then(close).then(() => process.exit(0)));
