// The event envelope: CloudEvents 1.0 in the JSON event format (structured mode), one event
// per queue message. README.md documents it; testdata/envelopes.json holds the vectors.

const ATTRIBUTE_NAME = /^[a-z0-9]+$/; // CloudEvents: lower-case letters and digits only
// RFC 3339 date-time (the CloudEvents Timestamp type), checked by shape and then by value.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class EnvelopeError extends Error {}

const fail = (reason) => {
  throw new EnvelopeError(reason);
};

// decodeBody turns a message body into a JS value: objects arrive as they were sent with
// contentType "json" (or "v8"); "text" and "bytes" bodies are parsed as JSON text.
export function decodeBody(body) {
  if (typeof body === "string") return parseJSON(body);
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) {
    const bytes = body instanceof ArrayBuffer ? new Uint8Array(body) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      fail("the message body is bytes that are not UTF-8 text: send the event as JSON (contentType \"json\")");
    }
    return parseJSON(text);
  }
  return body;
}

function parseJSON(text) {
  try {
    return JSON.parse(text);
  } catch {
    fail("the message body is text that is not JSON: send the event as a JSON object (contentType \"json\")");
  }
}

function validTimestamp(s) {
  const m = TIMESTAMP.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, sec] = m.map(Number);
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60) return false;
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  return d >= 1 && d <= days && !Number.isNaN(Date.parse(s.replace(/[tz]/g, (c) => c.toUpperCase())));
}

const requiredString = (event, name, what) => {
  const v = event[name];
  if (v === undefined || v === null) fail(`"${name}" is missing: ${what}`);
  if (typeof v !== "string" || v === "") fail(`"${name}" must be a non-empty string: ${what}`);
};

// validateEnvelope checks a decoded body against CloudEvents 1.0 (JSON format) and returns the
// event, or throws an EnvelopeError whose message is the dead-letter reason.
export function validateEnvelope(event) {
  if (typeof event !== "object" || event === null || Array.isArray(event)) {
    fail("the message body is not a JSON object: an event is a CloudEvents 1.0 object with specversion, id, source and type");
  }
  if (event.specversion === undefined || event.specversion === null) fail('"specversion" is missing: CloudEvents 1.0 events carry "specversion": "1.0"');
  if (event.specversion !== "1.0") fail(`"specversion" is ${JSON.stringify(event.specversion)}: this topic accepts CloudEvents 1.0 ("specversion": "1.0")`);
  requiredString(event, "id", "every event needs an id, unique for its source (consumers use it to drop duplicates)");
  requiredString(event, "source", 'a URI-reference naming the producer, such as "/orders" or "https://orders.example.com"');
  requiredString(event, "type", 'the event type, such as "Order.created"');
  for (const [name, value] of Object.entries(event)) {
    if (name === "data" || name === "data_base64") continue;
    if (!ATTRIBUTE_NAME.test(name)) fail(`attribute ${JSON.stringify(name)} is not a CloudEvents attribute name: use lower-case letters and digits only, and put payload fields in "data"`);
    if (value === null) continue; // a null attribute is an absent one
    switch (name) {
      case "specversion":
      case "id":
      case "source":
      case "type":
        break;
      case "time":
        if (typeof value !== "string" || !validTimestamp(value)) fail(`"time" ${JSON.stringify(value)} is not an RFC 3339 timestamp such as "2026-08-01T12:00:00Z"`);
        break;
      case "datacontenttype":
      case "dataschema":
      case "subject":
        if (typeof value !== "string" || value === "") fail(`"${name}" must be a non-empty string`);
        break;
      default:
        if (!["string", "number", "boolean"].includes(typeof value)) fail(`extension attribute ${JSON.stringify(name)} must be a string, number or boolean, not ${Array.isArray(value) ? "a list" : "an object"}: put structured values in "data"`);
    }
  }
  if (event.data !== undefined && event.data_base64 !== undefined && event.data !== null && event.data_base64 !== null) {
    fail('"data" and "data_base64" are both set: an event carries at most one of them');
  }
  if (event.data_base64 !== undefined && event.data_base64 !== null && (typeof event.data_base64 !== "string" || event.data_base64.length % 4 !== 0 || !BASE64.test(event.data_base64))) {
    fail('"data_base64" must be a base64 string');
  }
  return event;
}
