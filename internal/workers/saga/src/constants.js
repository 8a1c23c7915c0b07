// Names shared by the Workflow, the index and the API.

// The event type of an operator's decision on a parked execution, and of the watchdog's wake-up.
export const DECISION_EVENT = "saga-decision";
export const WAKE_EVENT = "saga-wake";
export const OPERATOR_ACTIONS = ["retry", "skip", "resolve"];

// Execution statuses as the API reports them.
export const ACTIVE_STATUSES = ["pending", "running", "compensating", "parked", "paused"];
export const FINAL_STATUSES = ["completed", "compensated", "resolved", "terminated", "failed"];
export const STATUSES = [...ACTIVE_STATUSES, ...FINAL_STATUSES];

// The sequence number of a status written from outside the run (terminate, reconciliation with
// the engine): above any the run itself reaches, so the run can never overwrite it.
export const SEQ_TERMINATED = Number.MAX_SAFE_INTEGER;
export const SEQ_RECONCILED = Number.MAX_SAFE_INTEGER - 1;
