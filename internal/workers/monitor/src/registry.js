// Recording health in the service registry (internal/registry: the versioned KV contract).
//
// An entry lives under "service:<name>:<version>"; its value is the registry document and its
// KV metadata a summary of it. The monitor owns one field, health_status, and writes it by
// read-modify-write of both: the document keeps every other field as it was (and in its
// order), the metadata keeps every other key and gains health_status: {status, last_check},
// so discovery can skip unhealthy entries from a listing alone. A document of a schema
// version this monitor does not understand, or not a registry document, is left untouched.
// Workers KV has no compare-and-set: a Terraform write landing between the read and the write
// here is overwritten with the monitor's copy of the other fields (README.md, "Registry").

export const SCHEMA_VERSION = 1;
export const MAX_METADATA_BYTES = 1024;

export class RegistryRefusal extends Error {}

const encoder = new TextEncoder();

// decode checks a value as internal/registry's Decode does, with the same messages.
function decode(text) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new RegistryRefusal(`registry entry is not valid JSON: ${err.message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new RegistryRefusal("registry entry is not valid JSON: not an object");
  const sv = doc.$schema_version;
  if (sv === undefined || sv === null) throw new RegistryRefusal("registry entry has no $schema_version: it was not written by the registry");
  if (!Number.isInteger(sv) || sv < 1) throw new RegistryRefusal(`registry entry has an invalid $schema_version ${JSON.stringify(sv)}`);
  if (sv > SCHEMA_VERSION) {
    throw new RegistryRefusal(`registry entry has $schema_version ${sv}, but this code only understands up to version ${SCHEMA_VERSION}: upgrade the provider (or Worker) reading it`);
  }
  if (doc.$type !== "Service") {
    throw new RegistryRefusal(`registry entry $type is ${doc.$type === undefined || doc.$type === null ? "<missing>" : JSON.stringify(doc.$type)}, want "Service"`);
  }
  if (!doc.name || !doc.version) throw new RegistryRefusal("registry entry is missing its name or version");
  return doc;
}

// summaryOf derives the KV metadata of a document as internal/registry's Entry.Summary does
// (for entries stored without metadata).
function summaryOf(doc) {
  const s = { $id: doc.$id || `https://services.do/${doc.name}`, $type: "Service", name: doc.name, version: doc.version };
  for (const k of ["service", "endpoint", "schema"]) if (doc[k]) s[k] = doc[k];
  if (Array.isArray(doc.tags) && doc.tags.length > 0) s.tags = doc.tags;
  if (doc.metadata && typeof doc.metadata === "object" && Object.keys(doc.metadata).length > 0) s.metadata = doc.metadata;
  return s;
}

// storedHealth returns the health_status of a stored value (null if none or unreadable).
export function storedHealth(text) {
  try {
    const doc = decode(text);
    return doc.health_status && typeof doc.health_status === "object" ? doc.health_status : null;
  } catch {
    return null;
  }
}

// applyHealth returns the value and metadata with health_status recorded, or throws a
// RegistryRefusal. metadataFits is false when the metadata with the summary would exceed
// Workers KV's limit: the caller then keeps the old metadata (the value still gets the status).
export function applyHealth(text, metadata, health) {
  const doc = decode(text);
  doc.health_status = health; // replaces an earlier status where it stands, else appends
  const base = metadata && typeof metadata === "object" && !Array.isArray(metadata) ? metadata : summaryOf(doc);
  const next = { ...base, health_status: { status: health.status, last_check: health.last_check } };
  const metadataFits = encoder.encode(JSON.stringify(next)).byteLength <= MAX_METADATA_BYTES;
  return { value: JSON.stringify(doc), metadata: next, metadataFits };
}

// recordHealth records next (a health_status) into one entry when shouldWrite(stored) says so.
// It returns {key, result} with result "written", "unchanged", "missing" (no such entry: the
// monitor never creates one), "refused" (not a document it may change) or "error", and reports
// the KV operations it made in ops.
export async function recordHealth(kv, key, next, shouldWrite, ops) {
  try {
    ops.kv_reads++;
    const { value, metadata } = await kv.getWithMetadata(key, { type: "text" });
    if (value === null) return { key, result: "missing" };
    let out;
    try {
      if (!shouldWrite(storedHealth(value))) return { key, result: "unchanged" };
      out = applyHealth(value, metadata, next);
    } catch (err) {
      if (err instanceof RegistryRefusal) return { key, result: "refused", error: err.message };
      throw err;
    }
    ops.kv_writes++;
    const keep = metadata === null || metadata === undefined ? {} : { metadata };
    await kv.put(key, out.value, out.metadataFits ? { metadata: out.metadata } : keep);
    return out.metadataFits ? { key, result: "written" } : { key, result: "written", error: `the metadata with health_status would exceed ${MAX_METADATA_BYTES} bytes: only the value records it` };
  } catch (err) {
    return { key, result: "error", error: String(err?.message ?? err).slice(0, 200) };
  }
}
