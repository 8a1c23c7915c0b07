// The shared vectors (test/vectors/*.json) against the JS implementation. The Go package
// (internal/workers/saga_test.go) runs the same files, so both render templates, parse
// durations, compute delays, validate, normalize and hash definitions identically.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { canonicalJSON } from "../src/canonical.js";
import { definitionSha256, formatError, normalizeDefinition, validateDefinition } from "../src/definition.js";
import { parseDuration } from "../src/duration.js";
import { executionIdFor } from "../src/ids.js";
import { parseKeyHash } from "../src/auth.js";
import { retryDelayMs } from "../src/retry.js";
import { parseTemplate, renderBody, renderPath } from "../src/template.js";

const load = (name) => JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), "utf8"));

test("template vectors", async (t) => {
  const { context, cases } = load("templates.json");
  for (const c of cases) {
    await t.test(c.name, () => {
      const render = () => (c.kind === "path" ? renderPath(c.template, context) : renderBody(c.template, context));
      if (c.error !== undefined) assert.throws(render, (e) => e.message === c.error || assert.equal(e.message, c.error));
      else assert.deepEqual(render(), c.expect);
    });
  }
});

test("duration and delay vectors", () => {
  const { durations, delays } = load("durations.json");
  for (const d of durations) {
    if (d.error !== undefined) assert.throws(() => parseDuration(d.text), { message: d.error }, d.text);
    else assert.equal(parseDuration(d.text), d.ms, d.text);
  }
  for (const d of delays) {
    assert.deepEqual(
      d.after_attempts.map((n) => retryDelayMs(d.retry, n)),
      d.ms,
      JSON.stringify(d.retry),
    );
  }
});

test("definition vectors: valid definitions normalize and hash", async (t) => {
  for (const v of load("definitions.json").valid) {
    await t.test(v.name, async () => {
      assert.deepEqual(validateDefinition(v.definition), []);
      const normalized = normalizeDefinition(v.definition);
      assert.deepEqual(normalized, v.normalized);
      assert.deepEqual(normalizeDefinition(normalized), normalized, "normalizing is idempotent");
      if (v.canonical !== undefined) assert.equal(canonicalJSON(normalized), v.canonical);
      assert.equal(await definitionSha256(normalized), v.sha256);
    });
  }
});

test("definition vectors: invalid definitions", async (t) => {
  for (const v of load("definitions.json").invalid) {
    await t.test(v.name, () => {
      const errors = validateDefinition(v.definition, v.services ? { services: v.services } : {});
      assert.deepEqual(
        errors.map((e) => [e.field, e.rule, e.message]),
        v.errors,
      );
      for (const e of errors) assert.equal(formatError(e), `${e.field}: ${e.message}`);
    });
  }
});

test("every body string is parsed once per template", () => {
  assert.deepEqual(parseTemplate("a{{input.x}}b"), ["a", { ref: { root: "input", path: ["x"], text: "input.x" } }, "b"]);
});

test("execution id and API key hash vectors", async () => {
  const { execution_ids, api_key_hashes } = load("ids.json");
  for (const v of execution_ids) assert.equal(await executionIdFor(v.key), v.id, v.key);
  for (const v of api_key_hashes) {
    const parsed = parseKeyHash(v.secret);
    assert.equal(Buffer.from(parsed.salt).toString("hex"), v.salt_hex);
    const digest = await crypto.subtle.digest("SHA-256", Buffer.concat([Buffer.from(parsed.salt), Buffer.from(v.key)]));
    assert.deepEqual(new Uint8Array(digest), parsed.digest);
  }
  assert.equal(parseKeyHash("sha256:00:" + "0".repeat(64)), null, "a salt under 16 bytes is refused");
  assert.equal(parseKeyHash("md5:00112233445566778899aabbccddeeff:" + "0".repeat(64)), null);
});
