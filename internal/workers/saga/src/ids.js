// Execution ids. An execution's id (its Workflow instance id) is derived from its idempotency
// key, so that the same key always names the same execution and never starts a second one:
// "e-" followed by the first 40 hex digits of SHA-256(key). It fits Workflows' instance id
// rules (at most 64 characters of letters, digits, "-" and "_").
import { sha256Hex } from "./canonical.js";

export const EXECUTION_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

export async function executionIdFor(idempotencyKey) {
  return "e-" + (await sha256Hex(idempotencyKey)).slice(0, 40);
}
