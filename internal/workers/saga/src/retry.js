// Retry policy: the delay before each retry, which statuses are not retried, and the Workflows
// step configuration that applies them.

import { MAX_DURATION_MS, parseDuration } from "./duration.js";

// The statuses that are not retried when a step lists none: every 4xx except 408 (request
// timeout), 425 (too early) and 429 (too many requests), which say "try again later".
const RETRYABLE_4XX = new Set([408, 425, 429]);

export function isNonRetryableStatus(status, retry) {
  if (Array.isArray(retry.non_retryable_statuses)) return retry.non_retryable_statuses.includes(status);
  return status >= 400 && status < 500 && !RETRYABLE_4XX.has(status);
}

// retryDelayMs is the wait after failed attempt n (1-based) before attempt n+1: delay, times n
// for linear or 2^(n-1) for exponential backoff (as Workflows computes it), capped at
// max_delay, then shortened by up to jitter × itself. random is injectable for tests.
export function retryDelayMs(retry, failedAttempt, random = Math.random) {
  const base = parseDuration(retry.delay);
  let ms = base;
  if (retry.backoff === "linear") ms = base * failedAttempt;
  else if (retry.backoff === "exponential") ms = base * 2 ** Math.min(failedAttempt - 1, 40);
  if (retry.max_delay) ms = Math.min(ms, parseDuration(retry.max_delay));
  ms = Math.min(ms, MAX_DURATION_MS);
  if (retry.jitter > 0) ms = ms * (1 - retry.jitter * random());
  return Math.floor(ms);
}

// Workflows' own timeout on a step attempt is a backstop behind the participant call's own
// abort signal, so that the call's timeout (with its clear error) is normally the one that fires.
export const ENGINE_TIMEOUT_GRACE_MS = 1000;

// stepConfig is the Workflows step configuration for a call with this timeout and retry policy.
// Workflows' static delay has the same backoff arithmetic as retryDelayMs; a max_delay or a
// jitter needs a delay function.
export function stepConfig(timeoutMs, retry) {
  const delay = retry.max_delay || retry.jitter > 0 ? ({ ctx }) => retryDelayMs(retry, ctx.attempt) : parseDuration(retry.delay);
  return {
    retries: { limit: retry.attempts - 1, delay, backoff: typeof delay === "function" ? "constant" : retry.backoff },
    timeout: timeoutMs + ENGINE_TIMEOUT_GRACE_MS,
  };
}

// retryBudgetMs bounds how long all attempts of a call can take: every attempt timing out and
// every delay at its longest.
export function retryBudgetMs(timeoutMs, retry) {
  let total = 0;
  for (let n = 1; n <= retry.attempts; n++) {
    total += timeoutMs + ENGINE_TIMEOUT_GRACE_MS;
    if (n < retry.attempts) total += retryDelayMs(retry, n, () => 0);
  }
  return total;
}
