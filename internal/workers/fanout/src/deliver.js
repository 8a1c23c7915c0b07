// Delivery of one batch of topic messages to the subscribers' queues.
//
// The rule that makes delivery at least once: a topic message is acknowledged only after every
// subscriber queue whose filter matches its type has accepted it (sendBatch resolved); if any
// of them refused, the message is retried — all of it, to every matching subscriber again, so
// the subscribers that had accepted it receive it twice (they deduplicate on the event's
// source and id). Nothing is acknowledged on an error the program did not expect.
import { decodeBody, validateEnvelope, EnvelopeError } from "./envelope.js";

// Cloudflare Queues limits: 100 messages and 256 KB per sendBatch, 128 KB per message. Sizes
// are counted as the JSON text plus an allowance for the per-message overhead the platform adds.
export const MAX_BATCH_MESSAGES = 100;
export const MAX_BATCH_BYTES = 256 * 1000;
export const MAX_MESSAGE_BYTES = 128 * 1000;
export const MESSAGE_OVERHEAD_BYTES = 100;

export const INVALID_EVENT_TYPE = "do.services.fanout.invalid";

const encoder = new TextEncoder();
const byteLength = (value) => encoder.encode(JSON.stringify(value)).byteLength + MESSAGE_OVERHEAD_BYTES;

// chunk splits items ({bytes}) into sendBatch calls within the limits, in order.
export function chunk(items) {
  const chunks = [];
  let current = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length === MAX_BATCH_MESSAGES || bytes + item.bytes > MAX_BATCH_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const errorText = (err) => String(err?.message ?? err).slice(0, 300);

// send delivers items to one queue binding, chunk by chunk, and returns the items that were
// not accepted with the error that refused them.
async function send(queue, items) {
  const refused = [];
  for (const part of chunk(items)) {
    try {
      await queue.sendBatch(part.map((item) => ({ body: item.body, contentType: "json" })));
    } catch (err) {
      for (const item of part) refused.push({ item, error: errorText(err) });
    }
  }
  return refused;
}

// bodyForDeadLetter keeps the original body in a form JSON can carry.
function bodyForDeadLetter(body) {
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    let s = "";
    for (const b of bytes) s += String.fromCharCode(b);
    return { body_base64: btoa(s) };
  }
  return { body: body === undefined ? null : body };
}

// deadLetterEvent wraps an invalid message, unchanged, in a CloudEvent that says why.
export function deadLetterEvent(message, reason, topic, now) {
  return {
    specversion: "1.0",
    id: String(message.id),
    type: INVALID_EVENT_TYPE,
    source: `servicesdo-fanout/${topic}`,
    time: new Date(now).toISOString(),
    datacontenttype: "application/json",
    data: {
      reason,
      topic,
      message_id: String(message.id),
      attempts: message.attempts,
      timestamp: message.timestamp instanceof Date ? message.timestamp.toISOString() : null,
      ...bodyForDeadLetter(message.body),
    },
  };
}

// deliverBatch fans out batch.messages per cfg (compileConfig) and settles every message with
// ack() or retry(). It returns counts and, per refusal, what happened (for the log line).
export async function deliverBatch(batch, env, cfg, now = Date.now()) {
  const perSubscription = cfg.subscriptions.map(() => []);
  const pending = new Map(); // message → number of subscriptions that still have to accept it
  const failed = new Set();
  const invalid = [];
  const summary = { topic: cfg.topic, messages: batch.messages.length, delivered: 0, retried: 0, unmatched: 0, invalid: 0, dead_lettered: 0, deliveries: 0, refusals: [] };

  for (const message of batch.messages) {
    let event;
    try {
      event = validateEnvelope(decodeBody(message.body));
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      invalid.push({ message, reason: err.message });
      continue;
    }
    const bytes = byteLength(event);
    let matched = 0;
    cfg.subscriptions.forEach((s, i) => {
      if (s.accepts(event.type)) {
        perSubscription[i].push({ message, body: event, bytes });
        matched++;
      }
    });
    if (matched === 0) {
      message.ack(); // no subscriber wants this type: delivered to all zero of them
      summary.unmatched++;
      continue;
    }
    pending.set(message, matched);
  }

  const outcomes = await Promise.all(cfg.subscriptions.map((s, i) => (perSubscription[i].length ? send(env[s.binding], perSubscription[i]) : [])));
  outcomes.forEach((refused, i) => {
    summary.deliveries += perSubscription[i].length - refused.length;
    for (const { item, error } of refused) {
      failed.add(item.message);
      summary.refusals.push({ subscription: cfg.subscriptions[i].name, message_id: String(item.message.id), attempts: item.message.attempts, error });
    }
  });
  for (const message of pending.keys()) {
    if (failed.has(message)) {
      message.retry();
      summary.retried++;
    } else {
      message.ack();
      summary.delivered++;
    }
  }

  summary.invalid = invalid.length;
  if (invalid.length > 0) await settleInvalid(invalid, env, cfg, now, summary);
  return summary;
}

// settleInvalid sends invalid messages to the dead-letter queue, acknowledging those it
// accepted. Without a dead-letter queue (or when it refuses, or the wrapper would be too
// large), they are retried, so that after max_retries Queues moves them — unchanged — to the
// topic consumer's own dead-letter queue.
async function settleInvalid(invalid, env, cfg, now, summary) {
  for (const { message, reason } of invalid) summary.refusals.push({ subscription: null, message_id: String(message.id), attempts: message.attempts, error: reason });
  if (!cfg.deadLetter) {
    for (const { message } of invalid) message.retry();
    summary.retried += invalid.length;
    return;
  }
  const items = [];
  for (const { message, reason } of invalid) {
    const body = deadLetterEvent(message, reason, cfg.topic, now);
    const bytes = byteLength(body);
    if (bytes > MAX_MESSAGE_BYTES) {
      message.retry();
      summary.retried++;
      continue;
    }
    items.push({ message, body, bytes });
  }
  const refused = new Set((await send(env[cfg.deadLetter.binding], items)).map((r) => r.item.message));
  for (const { message } of items) {
    if (refused.has(message)) {
      message.retry();
      summary.retried++;
    } else {
      message.ack();
      summary.dead_lettered++;
    }
  }
}
