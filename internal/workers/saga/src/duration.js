// Durations in a saga definition: one or more <whole number><unit> terms, units ms, s, m, h and
// d ("250ms", "30s", "1m30s", "7d"). The same grammar and messages are implemented by the Go
// package (internal/workers/saga.go); test/vectors/durations.json holds the cases both pass.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:[0-9]{1,12}(?:ms|s|m|h|d))+$/;
const TERM = /([0-9]{1,12})(ms|s|m|h|d)/g;

// The longest duration accepted anywhere: Workflows' longest sleep and event wait.
export const MAX_DURATION_MS = 365 * UNIT_MS.d;

export class DurationError extends Error {}

// parseDuration returns the duration in milliseconds or throws a DurationError whose message
// says what is wrong and how to write it.
export function parseDuration(text) {
  if (typeof text !== "string" || !WHOLE.test(text)) {
    throw new DurationError(`${JSON.stringify(text)} is not a duration: write whole numbers with units ms, s, m, h or d, e.g. "500ms", "30s", "1m30s" or "7d"`);
  }
  let total = 0;
  for (const [, n, unit] of text.matchAll(TERM)) total += Number(n) * UNIT_MS[unit];
  if (total > MAX_DURATION_MS) {
    throw new DurationError(`${JSON.stringify(text)} is longer than 365d, the longest wait Workflows allows`);
  }
  return total;
}
