// Request paths and route patterns.
//
// A request path is normalised ONCE, before CORS, auth and routing, into a canonical form; the
// same canonical path decides public paths, picks the route and is what the upstream receives,
// so no spelling of a path can be judged by the gateway as one resource and served by the
// upstream as another. Spellings that servers disagree about are refused with 400 instead of
// guessed at.
//
// The raw path is taken from request.url as the client sent it (workerd keeps "%2e%2e", "\" and
// "//" there; `new URL()` would silently reinterpret them).

export class PathError extends Error {
  constructor(message, status = 400) {
    super(message);
    this.status = status;
  }
}

export const MAX_PATH_LENGTH = 4096;

// rawPath returns the path of an absolute URL string exactly as written: from the first "/" or
// "\" after the authority up to "?" or "#".
export function rawPath(url) {
  const scheme = url.indexOf("://");
  let start = scheme < 0 ? 0 : scheme + 3;
  while (start < url.length && url[start] !== "/" && url[start] !== "\\" && url[start] !== "?" && url[start] !== "#") start++;
  let end = start;
  while (end < url.length && url[end] !== "?" && url[end] !== "#") end++;
  return url.slice(start, end) || "/";
}

// rawSearch returns "?query" of an absolute URL string as written ("" when there is none).
export function rawSearch(url) {
  const hash = url.indexOf("#");
  const before = hash < 0 ? url : url.slice(0, hash);
  const q = before.indexOf("?");
  return q < 0 ? "" : before.slice(q);
}

// normalisePath turns a raw path into { path, segments, trailingSlash }:
//   - "\" is a separator (as browsers and many servers treat it); empty segments ("//") drop;
//   - each segment is percent-decoded once; "." drops and ".." removes the previous segment;
//   - path is the canonical spelling: segments re-encoded one way (uppercase hex, unreserved
//     characters and sub-delims literal), without a trailing slash; trailingSlash says whether
//     the request had one (kept when forwarding).
// It throws PathError for spellings that mean different things to different servers: encoded
// "/" or "\", "%" left after decoding (double encoding), invalid UTF-8, control characters,
// ".." above the root, dot segments with parameters ("..;"), segments ending in "." or
// whitespace, and characters whose compatibility form is "." "/" "\" or "%".
export function normalisePath(raw) {
  if (raw.length > MAX_PATH_LENGTH) throw new PathError(`path is longer than ${MAX_PATH_LENGTH} characters`, 414);
  const out = [];
  const parts = raw.split(/[/\\]/);
  for (const part of parts) {
    if (part === "") continue;
    let seg;
    try {
      seg = decodeURIComponent(part);
    } catch {
      throw new PathError("path has an invalid percent-encoding");
    }
    if (seg.includes("/") || seg.includes("\\")) throw new PathError("path has an encoded '/' or '\\'");
    if (/[\x00-\x1f\x7f]/.test(seg)) throw new PathError("path has a control character");
    if (/%[0-9A-Fa-f]{2}/.test(seg)) throw new PathError("path is percent-encoded twice");
    if (seg === ".") continue;
    if (seg === "..") {
      if (out.length === 0) throw new PathError("path climbs above the root with '..'");
      out.pop();
      continue;
    }
    if (/^\.+;/.test(seg)) throw new PathError("path has a dot segment with parameters");
    if (/[.\s]$/.test(seg)) throw new PathError("path has a segment ending in '.' or whitespace");
    const compat = seg.normalize("NFKC");
    if (compat !== seg && /[./\\%]/.test(compat)) throw new PathError("path has characters that stand for '.', '/', '\\' or '%'");
    out.push(seg);
  }
  const last = parts[parts.length - 1];
  const trailingSlash = out.length > 0 && (last === "" || last === "." || last === "..");
  return { path: "/" + out.map(encodeSegment).join("/"), segments: out, trailingSlash };
}

// encodeSegment is the canonical spelling of a decoded segment: encodeURIComponent, with the
// sub-delims and ":" "@" (legal in a path segment) left literal.
export function encodeSegment(seg) {
  return encodeURIComponent(seg).replace(/%(?:24|26|2B|2C|3A|3B|3D|40)/g, decodeURIComponent);
}

// Route and public-path patterns: "/" followed by segments, each a literal (letters, digits,
// "-" "." "_" "~"), a parameter ":name" (exactly one segment), or "*" as the last segment (zero
// or more segments). Literals match case-sensitively, as paths are.
const LITERAL = /^[A-Za-z0-9._~-]+$/;
const PARAM = /^:[A-Za-z_][A-Za-z0-9_]*$/;

// Segment weights for precedence: compared from the left, a literal beats a parameter, a
// parameter beats the end of an exact pattern, which beats "*".
const W_LITERAL = 4;
const W_PARAM = 3;
const W_END = 2;
const W_WILDCARD = 1;

export class PatternError extends Error {}

// parsePattern checks a pattern and returns { pattern, shape, rank, literalPrefix }: shape is
// the pattern with parameter names erased (two patterns with one shape match the same
// requests), rank orders patterns by precedence, literalPrefix lists the leading literals.
export function parsePattern(pattern) {
  if (typeof pattern !== "string" || !pattern.startsWith("/")) throw new PatternError(`pattern ${JSON.stringify(pattern)} must start with "/"`);
  if (pattern === "/") return { pattern, shape: "/", rank: [W_END], literalPrefix: [] };
  if (pattern.endsWith("/")) throw new PatternError(`pattern ${JSON.stringify(pattern)} must not end with "/"`);
  const segments = pattern.slice(1).split("/");
  const rank = [];
  const shape = [];
  const literalPrefix = [];
  const names = new Set();
  segments.forEach((seg, i) => {
    if (seg === "") throw new PatternError(`pattern ${JSON.stringify(pattern)} has an empty segment ("//")`);
    if (seg === "*") {
      if (i !== segments.length - 1) throw new PatternError(`pattern ${JSON.stringify(pattern)}: "*" must be the last segment`);
      rank.push(W_WILDCARD);
      shape.push("*");
    } else if (seg.startsWith(":")) {
      if (!PARAM.test(seg)) throw new PatternError(`pattern ${JSON.stringify(pattern)}: parameter ${JSON.stringify(seg)} must be ":" and a name of letters, digits and "_"`);
      if (names.has(seg)) throw new PatternError(`pattern ${JSON.stringify(pattern)} names parameter ${seg} twice`);
      names.add(seg);
      rank.push(W_PARAM);
      shape.push(":");
    } else {
      if (!LITERAL.test(seg) || seg === "." || seg === ".." || seg.endsWith(".")) {
        throw new PatternError(`pattern ${JSON.stringify(pattern)}: segment ${JSON.stringify(seg)} may contain only letters, digits and "-" "." "_" "~", and must not end in "."`);
      }
      rank.push(W_LITERAL);
      shape.push(seg);
      if (literalPrefix.length === i) literalPrefix.push(seg);
    }
  });
  if (segments[segments.length - 1] !== "*") rank.push(W_END);
  return { pattern, shape: "/" + shape.join("/"), rank, literalPrefix };
}

// compareRank orders two parsed patterns: negative when a takes precedence over b.
export function compareRank(a, b) {
  const n = Math.max(a.rank.length, b.rank.length);
  for (let i = 0; i < n; i++) {
    const d = (b.rank[i] ?? 0) - (a.rank[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
