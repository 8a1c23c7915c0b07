// Runs the deployed Workers of the servicesdo local edge in Miniflare.
//
// Driven by the Go package internal/localedge/runtime over JSON lines: one request per line on
// stdin, one response per line on stdout with the same id. stdout carries nothing else
// (console output and workerd's own output go to stderr, which Go forwards to its log).
//
//   {"id":1,"op":"apply","snapshot":{...}}  →  {"id":1,"ok":true,"address":"127.0.0.1:p","failed":{}}
//   {"id":2,"op":"close"}                   →  {"id":2,"ok":true}   (then the process exits)
//   any failure                             →  {"id":n,"ok":false,"error":"…"}
//
// Settings come as JSON in argv[2]: {persistDir, apiAddress, apiToken, accountId, drainMs}.
//
// Every apply builds a NEW Miniflare instance from the whole snapshot on a fresh port; once it
// is ready its address is returned and the previous instance is disposed after drainMs, so that
// requests in flight on it complete. setOptions would restart workerd in place and refuse
// connections meanwhile.
import { Miniflare, Log, LogLevel } from "miniflare";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const send = (msg) => process.stdout.write(JSON.stringify(msg) + "\n");
console.log = console.info = console.debug = console.error;

const settings = { persistDir: "", apiAddress: "", apiToken: "", accountId: "", drainMs: 2000, ...JSON.parse(process.argv[2] || "{}") };

// Worker sources. A wrapped binding must be a single module, so the KV and R2 shims get the
// shared API helpers inlined.
const here = dirname(fileURLToPath(import.meta.url));
const source = (file) => readFileSync(join(here, "workers", file), "utf8");
const apiHelpers = source("api.js").replace(/^export /gm, "");
const shim = (file) => apiHelpers + source(file).replace(/^import .*$/m, "");
const SOURCES = {
  entry: source("entry.js"),
  router: source("router.js"),
  missing: source("missing.js"),
  kv: shim("kv.js"),
  r2: shim("r2.js"),
};

const ENTRY = "servicesdo:entry";
const KV_SHIM = "servicesdo:kv";
const R2_SHIM = "servicesdo:r2";
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
// Bindings to scripts left out get a stand-in that answers 503.
function buildOptions(snapshot, include) {
  const scripts = snapshot.scripts.filter((s) => include.has(s.name) && s.deployment.length > 0);
  const byName = new Map(scripts.map((s) => [s.name, s]));
  const missing = new Set();
  const shims = new Set(); // KV_SHIM / R2_SHIM when some binding uses them
  const workers = [];

  // A service binding without entrypoint goes to the target's router when its deployment is
  // split; with a single version it goes straight to that version (so RPC methods work too).
  const serviceTarget = (name, entrypoint) => {
    const target = byName.get(name);
    if (!target) {
      missing.add(name);
      return { name: missingWorker(name) };
    }
    if (entrypoint) return { name: versionWorker(name, hostVersion(target)), entrypoint };
    if (target.deployment.length > 1) return { name: routerWorker(name) };
    return { name: versionWorker(name, target.deployment[0].versionId) };
  };

  const entryRouters = {};
  const entryServices = {};
  scripts.forEach((s, i) => {
    entryRouters[s.name] = `R${i}`;
    entryServices[`R${i}`] = routerWorker(s.name);
  });
  workers.push({
    name: ENTRY,
    modules: true,
    script: SOURCES.entry,
    compatibilityDate: "2025-01-01",
    bindings: { ROUTERS: entryRouters },
    serviceBindings: entryServices,
  });

  for (const s of scripts) {
    const versions = s.deployment.map((d, i) => ({ id: d.versionId, percentage: d.percentage, binding: `V${i}` }));
    workers.push({
      name: routerWorker(s.name),
      modules: true,
      script: SOURCES.router,
      compatibilityDate: "2025-01-01",
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
      if (v.id === host && s.doClasses?.length) {
        worker.additionalUnboundDurableObjects = s.doClasses.map((c) => ({ className: c.class, useSQLite: Boolean(c.sqlite), unsafeUniqueKey: doKey(s.name, c) }));
      }
      for (const b of v.bindings || []) addBinding(worker, s, b);
      workers.push(worker);
    }
  }

  function addBinding(worker, script, b) {
    switch (b.type) {
      case "plain_text":
      case "secret_text":
        worker.bindings[b.name] = b.text ?? "";
        break;
      case "json":
        worker.bindings[b.name] = b.json ?? null;
        break;
      case "service":
        worker.serviceBindings[b.name] = serviceTarget(b.service, b.entrypoint);
        break;
      case "durable_object_namespace": {
        const owner = byName.get(b.scriptName || script.name);
        if (!owner) {
          console.error(`local edge: ${worker.name}: binding ${b.name} names Durable Object class ${b.className} of Worker ${b.scriptName}, which is not running`);
          break;
        }
        const cls = (owner.doClasses || []).find((c) => c.class === b.className);
        const designator = { className: b.className, useSQLite: Boolean(cls && cls.sqlite), unsafeUniqueKey: doKey(owner.name, cls || { class: b.className }) };
        const hostWorker = versionWorker(owner.name, hostVersion(owner));
        if (hostWorker !== worker.name) designator.scriptName = hostWorker;
        worker.durableObjects[b.name] = designator;
        break;
      }
      case "ratelimit":
        worker.ratelimits[b.name] = { namespace_id: b.namespaceId || `${script.name}/${b.name}`, simple: { limit: b.limit, period: b.period || 60 } };
        break;
      case "kv_namespace":
      case "r2_bucket":
        if (!settings.apiAddress) {
          console.error(`local edge: ${worker.name}: binding ${b.name} (${b.type}) left out: no API address configured`);
          break;
        }
        shims.add(b.type === "kv_namespace" ? KV_SHIM : R2_SHIM);
        worker.wrappedBindings[b.name] =
          b.type === "kv_namespace"
            ? { scriptName: KV_SHIM, bindings: { NAMESPACE: b.namespaceId } }
            : { scriptName: R2_SHIM, bindings: { BUCKET: b.bucketName, JURISDICTION: b.jurisdiction && b.jurisdiction !== "default" ? b.jurisdiction : "" } };
        break;
      default:
        console.error(`local edge: ${worker.name}: binding ${b.name} of type ${b.type} is not supported locally; left out`);
    }
  }

  // Only the shims in use: a wrapped-binding Worker that nothing wraps would run as a Worker of
  // its own, whose default export (a function) workerd rejects.
  const api = { API: { external: { address: settings.apiAddress, http: {} } } };
  const account = { ACCOUNT: settings.accountId, TOKEN: settings.apiToken };
  for (const [name, file] of [
    [KV_SHIM, "kv.js"],
    [R2_SHIM, "r2.js"],
  ]) {
    if (!shims.has(name)) continue;
    const contents = name === KV_SHIM ? SOURCES.kv : SOURCES.r2;
    workers.push({ name, modulesRoot: "/", modules: [{ type: "ESModule", path: "/" + file, contents }], bindings: account, serviceBindings: api });
  }
  for (const name of missing) {
    workers.push({ name: missingWorker(name), modules: true, script: SOURCES.missing, compatibilityDate: "2025-01-01", bindings: { TARGET: name } });
  }
  return workers;
}

// start builds and starts one instance; it resolves to {mf, address} or rejects with an Error
// whose message includes workerd's output (the exception of a Worker that threw at startup).
async function start(snapshot, include) {
  let output = "";
  const mf = new Miniflare({
    host: "127.0.0.1",
    port: 0,
    log: new Log(LogLevel.WARN),
    cf: false, // no fetch of Cloudflare's request.cf sample from the network
    durableObjectsPersist: join(settings.persistDir, "do"),
    cachePersist: join(settings.persistDir, "cache"),
    handleRuntimeStdio(stdout, stderr) {
      for (const stream of [stdout, stderr]) {
        stream.on("data", (chunk) => {
          output += chunk;
          process.stderr.write(chunk);
        });
      }
    },
    workers: buildOptions(snapshot, include),
  });
  try {
    const url = await mf.ready;
    return { mf, address: url.host };
  } catch (err) {
    await mf.dispose().catch(() => {});
    // Miniflare's message may already quote workerd's output; blame from the output alone.
    const e = new Error(err.message.includes(output.trim()) ? err.message : `${err.message}\n${output}`.trim());
    e.output = output || err.message;
    throw e;
  }
}

// scriptErrors picks out of workerd's output the errors of each version Worker, by script:
// workerd prefixes them with "service core:user:v:<script>:<version>: " (and continues a stack
// on indented lines).
function scriptErrors(output) {
  const errors = {};
  let current = null;
  for (const line of output.split("\n")) {
    const m = line.match(/^service core:user:v:([A-Za-z0-9_-]+):([^:]+): (.*)$/);
    if (m) {
      current = m[1];
      errors[current] = (errors[current] ? errors[current] + "\n" : "") + `version ${m[2]}: ${m[3]}`;
    } else if (current && /^\s+\S/.test(line)) {
      errors[current] += "\n" + line.trimEnd();
    } else {
      current = null;
    }
  }
  return errors;
}

let current = null; // { mf, address }
const draining = new Set(); // replaced instances, disposed once their requests had time to finish

// apply starts the snapshot's Workers; scripts that fail to start are left out and reported.
async function apply(snapshot) {
  snapshot.scripts = snapshot.scripts || [];
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
            const alone = await start(snapshot, new Set([name]));
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
  if (!started) throw lastError;
  const old = current;
  current = started;
  if (old) {
    draining.add(old);
    setTimeout(() => {
      draining.delete(old);
      old.mf.dispose().catch((e) => console.error(`local edge: disposing a replaced instance: ${e.message}`));
    }, settings.drainMs).unref();
  }
  return { address: started.address, failed };
}

async function close() {
  const all = [...draining, ...(current ? [current] : [])];
  draining.clear();
  current = null;
  await Promise.all(all.map((i) => i.mf.dispose().catch(() => {})));
}

// Requests run one at a time, in order.
let queue = Promise.resolve();
const lines = createInterface({ input: process.stdin });
lines.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let req;
    try {
      req = JSON.parse(line);
      if (req.op === "apply") {
        send({ id: req.id, ok: true, ...(await apply(req.snapshot || {})) });
      } else if (req.op === "close") {
        await close();
        send({ id: req.id, ok: true });
        process.exit(0);
      } else {
        throw new Error(`unknown op ${JSON.stringify(req.op)}`);
      }
    } catch (err) {
      send({ id: req ? req.id : 0, ok: false, error: err.message });
    }
  });
});
// Go went away: stop workerd too.
lines.on("close", () => queue.then(close).then(() => process.exit(0)));
