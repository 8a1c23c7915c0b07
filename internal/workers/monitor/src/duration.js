// Durations in the configuration: one or more <whole number><unit> terms, units ms, s, m, h
// and d ("500ms", "30s", "5m", "1h30m") — the grammar of every servicesdo duration. The Go
// validation parses them the same way; both replay testdata/durations.json.

const WHOLE = /^(?:[0-9]{1,12}(?:ms|s|m|h|d))+$/;
const TERM = /([0-9]{1,12})(ms|s|m|h|d)/g;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export class DurationError extends Error {}

// parseDuration returns milliseconds, or throws a DurationError.
export function parseDuration(text) {
  if (typeof text !== "string" || !WHOLE.test(text)) {
    throw new DurationError(`${JSON.stringify(text)} is not a duration: write whole numbers with units ms, s, m, h or d, e.g. "30s", "5m" or "1h30m"`);
  }
  let total = 0;
  for (const [, n, unit] of text.matchAll(TERM)) total += Number(n) * UNIT_MS[unit];
  return total;
}

// formatDuration writes milliseconds the way the configuration would ("5m", "1h30m", "250ms").
export function formatDuration(ms) {
  if (ms === 0) return "0s";
  let out = "";
  for (const [unit, size] of [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000], ["ms", 1]]) {
    if (ms >= size) {
      out += Math.floor(ms / size) + unit;
      ms %= size;
    }
  }
  return out;
}
