// Alert conditions: <metric> <operator> <number>, e.g. "error_rate > 0.05".
//
//   metric    error_rate (errors / requests, a fraction from 0 to 1), p99_latency_ms (the 99th
//             percentile of wall time over the window, milliseconds), requests (a count)
//   operator  >  >=  <  <=
//   number    digits, optionally "." and more digits (no sign, no exponent)
//
// Spaces and tabs may surround each part. A condition that cannot be read, or that can never
// hold or always holds, is refused with the column of the offending part. The Go validation
// (internal/workers/monitor.go) parses conditions the same way, message for message; both
// replay testdata/conditions.json.

export const METRICS = ["error_rate", "p99_latency_ms", "requests"];
export const OPERATORS = [">", ">=", "<", "<="];
const METRIC_LIST = "error_rate, p99_latency_ms or requests";
const OPERATOR_LIST = ">, >=, < or <=";

export class ConditionError extends Error {
  constructor(text, column, reason) {
    const chars = [...text];
    super(`condition ${JSON.stringify(text)}, column ${column}: ${reason}\n  ${chars.join("")}\n  ${" ".repeat(column - 1)}^`);
    this.column = column;
    this.reason = reason;
  }
}

const isSpace = (c) => c === " " || c === "\t";
const isDigit = (c) => c >= "0" && c <= "9";
const isNameStart = (c) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
const isName = (c) => isNameStart(c) || isDigit(c);
const describe = (c) => JSON.stringify(c);

// percentAsFraction rewrites a number written as a percentage as a fraction, on the digits
// (no floating point, so Go and JS spell it the same): "5" → "0.05", "7.5" → "0.075".
export function percentAsFraction(number) {
  const [int, frac = ""] = number.split(".");
  const digits = (int.padStart(3, "0") + frac).replace(/^0+(?=\d)/, "");
  const point = digits.length - frac.length - 2;
  let whole = digits.slice(0, point).replace(/^0+/, "") || "0";
  let fraction = digits.slice(point).replace(/0+$/, "");
  if (point <= 0) {
    whole = "0";
    fraction = ("0".repeat(-point) + digits).replace(/0+$/, "");
  }
  return fraction ? `${whole}.${fraction}` : whole;
}

// parseCondition returns {metric, operator, threshold} or throws a ConditionError.
export function parseCondition(text) {
  if (typeof text !== "string") throw new ConditionError(String(text), 1, `write <metric> <operator> <number>, e.g. "error_rate > 0.05"`);
  const c = [...text]; // by code point, so columns count characters
  let i = 0;
  const fail = (at, reason) => {
    throw new ConditionError(text, at + 1, reason);
  };
  const skip = () => {
    while (i < c.length && isSpace(c[i])) i++;
  };

  skip();
  if (i === c.length) fail(i, `the condition is empty: write <metric> <operator> <number>, e.g. "error_rate > 0.05"`);
  if (!isNameStart(c[i])) fail(i, `expected a metric (${METRIC_LIST}), found ${describe(c[i])}`);
  const metricAt = i;
  while (i < c.length && isName(c[i])) i++;
  const metric = c.slice(metricAt, i).join("");
  if (!METRICS.includes(metric)) fail(metricAt, `unknown metric ${describe(metric)}: use ${METRIC_LIST}`);

  skip();
  if (i === c.length) fail(i, `expected an operator (${OPERATOR_LIST}) after ${metric}`);
  const opAt = i;
  let operator;
  if (c[i] === ">" || c[i] === "<") {
    operator = c[i] + (c[i + 1] === "=" ? "=" : "");
    i += operator.length;
  } else if (c[i] === "=" && (c[i + 1] === ">" || c[i + 1] === "<")) {
    fail(opAt, `operator ${describe(c[i] + c[i + 1])} is written ${c[i + 1]}=`);
  } else if (c[i] === "=" || c[i] === "!") {
    const op = c[i] + (c[i + 1] === "=" ? "=" : "");
    fail(opAt, `operator ${describe(op)} is not supported: use ${OPERATOR_LIST}`);
  } else if (c[i] === "≥" || c[i] === "≤") {
    fail(opAt, `${describe(c[i])} is not an operator here: write ${c[i] === "≥" ? ">=" : "<="}`);
  } else {
    fail(opAt, `expected an operator (${OPERATOR_LIST}), found ${describe(c[i])}`);
  }

  skip();
  if (i === c.length) fail(i, `expected a number after ${operator}`);
  const numAt = i;
  if (!isDigit(c[i])) {
    if (c[i] === "-") fail(i, `expected a number, found "-": metrics are never negative`);
    if (c[i] === "." && isDigit(c[i + 1] ?? "")) fail(i, `write a digit before the ".", as in 0${c.slice(i, i + 2).join("")}`);
    fail(i, `expected a number, found ${describe(c[i])}`);
  }
  while (i < c.length && isDigit(c[i])) i++;
  if (c[i] === ".") {
    i++;
    if (!isDigit(c[i] ?? "")) fail(i, `expected a digit after "."`);
    while (i < c.length && isDigit(c[i])) i++;
  }
  const number = c.slice(numAt, i).join("");
  if (c[i] === "%") {
    fail(i, metric === "error_rate" ? `"%" is not needed: error_rate is a fraction from 0 to 1, so ${number}% is written ${percentAsFraction(number)}` : `"%" is not allowed after a ${metric} threshold`);
  }
  if (i < c.length && !isSpace(c[i])) fail(i, `expected the end of the number, found ${describe(c[i])}`);
  skip();
  if (i < c.length) {
    const rest = c.slice(i).join("");
    if (/^for\b/.test(rest)) fail(i, `the window is not part of the condition: remove ${describe(rest)} and set the alert's for = ${describe(rest.slice(3).trim() || "5m")}`);
    fail(i, `unexpected ${describe(rest)} after the threshold: a condition is <metric> <operator> <number>`);
  }

  const threshold = Number(number);
  const at = numAt;
  if (metric === "requests" && !Number.isInteger(threshold)) fail(at, `requests is a count: use a whole number such as ${number.split(".")[0]}`);
  if (metric === "error_rate" && threshold > 1) {
    fail(at, `error_rate is a fraction from 0 to 1, so it is never above ${number}: for ${number}% write ${percentAsFraction(number)}`);
  }
  const hi = metric === "error_rate" ? 1 : Infinity;
  const never = (operator === ">" && threshold >= hi) || (operator === "<" && threshold === 0);
  const always = (operator === ">=" && threshold === 0) || (operator === "<=" && threshold >= hi);
  if (never) fail(at, `${metric} ${operator} ${number} can never hold, so the alert would never fire`);
  if (always) fail(at, `${metric} ${operator} ${number} always holds, so the alert would never resolve`);
  return { metric, operator, threshold };
}

// holds compares a value with a parsed condition.
export function holds(cond, value) {
  switch (cond.operator) {
    case ">":
      return value > cond.threshold;
    case ">=":
      return value >= cond.threshold;
    case "<":
      return value < cond.threshold;
    case "<=":
      return value <= cond.threshold;
  }
  return false;
}
