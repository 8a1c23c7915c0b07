// Event type filters: which CloudEvents `type`s a subscription receives.
//
//   "Order.created"   exactly that type (case-sensitive, as CloudEvents types are)
//   "Order.*"         every type that starts with "Order." and has at least one more
//                     segment: "Order.created", "Order.item.added" — not "Order", not
//                     "Orders.created"
//   "*"               every type
//
// A filter is segments joined by "."; a segment is letters, digits, "_" and "-", and "*" may
// only be the whole last segment. internal/workers/fanout.go parses filters the same way; both
// replay testdata/type-filters.json.

export class FilterError extends Error {}

export const MAX_FILTER_LENGTH = 255;
const SEGMENT = /^[A-Za-z0-9_-]+$/;
const HINT = 'write an event type such as "Order.created", a prefix such as "Order.*", or "*" for every type';

// parseTypeFilter returns {kind: "all"} | {kind: "exact", type} | {kind: "prefix", prefix}
// (prefix ends with "."), or throws a FilterError saying what is wrong and how to fix it.
export function parseTypeFilter(filter) {
  const q = JSON.stringify(filter);
  if (typeof filter !== "string") throw new FilterError(`type filter ${q} must be a string: ${HINT}`);
  if (filter === "") throw new FilterError(`type filter "" is empty: ${HINT}`);
  if ([...filter].length > MAX_FILTER_LENGTH) throw new FilterError(`type filter ${q} is longer than ${MAX_FILTER_LENGTH} characters`);
  if (filter === "*") return { kind: "all" };
  const segments = filter.split(".");
  const last = segments.length - 1;
  for (let i = 0; i <= last; i++) {
    const seg = segments[i];
    if (seg === "") throw new FilterError(`type filter ${q} has an empty segment: remove the extra "." (segments are joined by single dots, as in "Order.created")`);
    if (seg === "*" && i === last) continue;
    if (seg.includes("*")) throw new FilterError(`type filter ${q}: "*" may only stand alone as the last segment, as in "Order.*" (every type that starts with "Order.")`);
    if (!SEGMENT.test(seg)) throw new FilterError(`type filter ${q}: segment ${JSON.stringify(seg)} may contain only letters, digits, "_" and "-"`);
  }
  if (segments[last] === "*") return { kind: "prefix", prefix: filter.slice(0, -1) };
  return { kind: "exact", type: filter };
}

// matches reports whether an event type passes a parsed filter.
export function matches(parsed, type) {
  switch (parsed.kind) {
    case "all":
      return true;
    case "exact":
      return type === parsed.type;
    case "prefix":
      return type.length > parsed.prefix.length && type.startsWith(parsed.prefix);
  }
  return false;
}

// compileTypes parses a subscription's list of filters into one predicate.
export function compileTypes(list, field) {
  if (!Array.isArray(list) || list.length === 0) {
    throw new FilterError(`${field}: list at least one type filter, e.g. ["Order.created"], or ["*"] for every type`);
  }
  const seen = new Map();
  const parsed = list.map((f, i) => {
    try {
      const p = parseTypeFilter(f);
      if (seen.has(f)) throw new FilterError(`type filter ${JSON.stringify(f)} is listed twice (also types[${seen.get(f)}]): remove one`);
      seen.set(f, i);
      return p;
    } catch (err) {
      if (err instanceof FilterError) throw new FilterError(`${field}[${i}]: ${err.message}`);
      throw err;
    }
  });
  if (parsed.some((p) => p.kind === "all")) return () => true;
  const exact = new Set(parsed.filter((p) => p.kind === "exact").map((p) => p.type));
  const prefixes = parsed.filter((p) => p.kind === "prefix");
  return (type) => exact.has(type) || prefixes.some((p) => matches(p, type));
}
