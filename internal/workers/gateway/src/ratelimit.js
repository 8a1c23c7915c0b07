// Rate limiting: `requests` per `period` seconds per key (client IP, authenticated identity or
// a header's value).
//
// - Periods of 10 s and 60 s use the Workers rate-limit binding GATEWAY_RATE_LIMIT (configured
//   by the provider with the same limit and period). On Cloudflare its counters are per
//   location and eventually consistent, so the limit is approximate; Miniflare keeps one exact
//   counter per namespace in a fixed window aligned to multiples of the period.
// - Any other period uses GatewayRateCounter, a SQLite-backed Durable Object per key (binding
//   GATEWAY_RATE_COUNTER) holding a sliding window: exact on Cloudflare and locally, because a
//   Durable Object runs one call at a time and `take` does not await.
import { DurableObject } from "cloudflare:workers";
import { errorResponse } from "./respond.js";

const MAX_KEY_LENGTH = 256;

async function sha256Hex(s) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// rateKey names the counter a request counts against. Kinds are prefixed so that values of
// different kinds never share a counter. CF-Connecting-IP is set by Cloudflare's edge (a
// client cannot choose it); X-Forwarded-For is never consulted.
export async function rateKey(c, limit) {
  const ip = `ip:${c.req.raw.headers.get("cf-connecting-ip") ?? "unknown"}`;
  let key = ip;
  if (limit.key === "api_key") {
    const identity = c.get("identity");
    if (identity) key = `${identity.method}:${identity.id}`;
  } else if (limit.header) {
    const value = (c.req.raw.headers.get(limit.header) ?? "").trim();
    if (value) key = `header:${value}`;
  }
  return key.length > MAX_KEY_LENGTH ? `sha256:${await sha256Hex(key)}` : key;
}

export function rateLimitMiddleware(cfg) {
  const limit = cfg.rateLimit;
  const periodMs = limit.period * 1000;
  return async function rateLimit(c, next) {
    const key = await rateKey(c, limit);
    let retryAfterMs = null;
    if (limit.useBinding) {
      const binding = c.env.GATEWAY_RATE_LIMIT;
      if (!binding || typeof binding.limit !== "function") throw new Error("rate_limit: the GATEWAY_RATE_LIMIT rate-limit binding is not bound");
      const { success } = await binding.limit({ key });
      // The binding does not say when its window ends: a whole period is always enough.
      if (!success) retryAfterMs = periodMs;
    } else {
      const ns = c.env.GATEWAY_RATE_COUNTER;
      if (!ns || typeof ns.idFromName !== "function") throw new Error("rate_limit: the GATEWAY_RATE_COUNTER Durable Object binding is not bound");
      const verdict = await ns.get(ns.idFromName(key)).take(limit.requests, periodMs);
      if (!verdict.allowed) retryAfterMs = verdict.retryAfterMs;
    }
    if (retryAfterMs !== null) {
      c.set("rateLimited", true);
      return errorResponse(c, 429, "rate limit exceeded", { "Retry-After": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) });
    }
    return next();
  };
}

// GatewayRateCounter is one key's sliding window: a row per millisecond in which requests
// were counted, keyed by when they leave the window, and the window's total kept in memory
// beside it (rebuilt from the rows when the object starts), so a request costs the rows that
// expire plus one write, whatever the limit. An alarm deletes rows as they expire and the
// whole storage once the window is empty, so idle keys keep nothing.
export class GatewayRateCounter extends DurableObject {
  #used = null; // requests in the window; null until read from storage

  #sql() {
    const sql = this.ctx.storage.sql;
    if (this.#used === null) {
      sql.exec("CREATE TABLE IF NOT EXISTS hits (until INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
      this.#used = sql.exec("SELECT COALESCE(SUM(n), 0) AS used FROM hits").one().used;
    }
    return sql;
  }

  #expire(sql, now) {
    for (const { n } of sql.exec("DELETE FROM hits WHERE until <= ? RETURNING n", now)) this.#used -= n;
  }

  // take counts one request if fewer than `limit` were counted in the last periodMs, and
  // otherwise says how long until one more would fit. It never awaits, so calls cannot
  // interleave: the count is exact however many requests arrive at once.
  take(limit, periodMs) {
    const sql = this.#sql();
    const now = Date.now();
    this.#expire(sql, now);
    const used = this.#used;
    if (used < limit) {
      sql.exec("INSERT INTO hits (until, n) VALUES (?, 1) ON CONFLICT(until) DO UPDATE SET n = n + 1", now + periodMs);
      this.#used = used + 1;
      if (used === 0) this.ctx.storage.setAlarm(now + periodMs);
      return { allowed: true, remaining: limit - used - 1 };
    }
    // Room for one more once the oldest (used - limit + 1) requests have left the window:
    // walk the rows oldest first until that many have been passed (usually the first row).
    let need = used - limit + 1;
    let until = now + periodMs;
    for (const row of sql.exec("SELECT until, n FROM hits ORDER BY until")) {
      need -= row.n;
      if (need <= 0) {
        until = row.until;
        break;
      }
    }
    return { allowed: false, retryAfterMs: until - now };
  }

  async alarm() {
    const sql = this.#sql();
    this.#expire(sql, Date.now());
    const next = sql.exec("SELECT MIN(until) AS until FROM hits").one().until;
    if (next === null) {
      await this.ctx.storage.deleteAll();
      this.#used = null;
    } else {
      await this.ctx.storage.setAlarm(next);
    }
  }
}
