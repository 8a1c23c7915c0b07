// Workers analytics for alert rules: one GraphQL Analytics API query per evaluation, POST
// {api_base}/graphql with the ANALYTICS_TOKEN bearer token, over the dataset the deployment
// analysis reads and the local edge serves (workersInvocationsAdaptive: sum { requests errors },
// quantiles { wallTimeP99 }, dimensions { scriptName }).
//
// Each distinct `for` window is one aliased selection (w0, w1, …) covering the whole minutes
// [end - for, end), where end is the start of the evaluation's minute, grouped by scriptName
// only: the 99th percentile of a window must be computed over the window, not merged from
// per-minute rows. wallTime quantiles are microseconds; p99_latency_ms divides by 1000.

export const MAX_ROWS = 10000;

// windowEnd is the start of the minute of now: analytics have minute resolution, so the last
// whole minute is the newest data a window can rely on.
export const windowEnd = (now) => Math.floor(now / 60_000) * 60_000;

// buildQuery returns the request body for the alerts' windows (distinct `for`s, ascending).
export function buildQuery(accountId, scripts, windowsMs, now) {
  const end = windowEnd(now);
  const defs = ["$accountTag: string!", "$scripts: [string!]!", "$end: Time!"];
  const variables = { accountTag: accountId, scripts, end: new Date(end).toISOString() };
  const selections = windowsMs.map((ms, i) => {
    defs.push(`$start${i}: Time!`);
    variables[`start${i}`] = new Date(end - ms).toISOString();
    return (
      `      w${i}: workersInvocationsAdaptive(limit: ${MAX_ROWS}, filter: {scriptName_in: $scripts, datetime_geq: $start${i}, datetime_lt: $end}) {\n` +
      `        sum { requests errors }\n        quantiles { wallTimeP99 }\n        dimensions { scriptName }\n      }\n`
    );
  });
  const query = `query MonitorAlerts(${defs.join(", ")}) {\n  viewer {\n    accounts(filter: {accountTag: $accountTag}) {\n${selections.join("")}    }\n  }\n}`;
  return { query, variables };
}

export class AnalyticsError extends Error {}

// parseResponse turns a GraphQL response into, per window index, a Map scriptName →
// {requests, errors, p99_latency_ms}. A GraphQL error is an AnalyticsError.
export function parseResponse(body, windowCount) {
  if (body && Array.isArray(body.errors) && body.errors.length > 0) {
    throw new AnalyticsError(`GraphQL error: ${String(body.errors[0]?.message ?? "unknown").slice(0, 300)}`);
  }
  const account = body?.data?.viewer?.accounts?.[0];
  if (!account) throw new AnalyticsError("the analytics response has no account: check account_id and the token's Account Analytics Read permission");
  const windows = [];
  for (let i = 0; i < windowCount; i++) {
    const rows = account[`w${i}`];
    if (!Array.isArray(rows)) throw new AnalyticsError(`the analytics response has no rows for window w${i}`);
    const byScript = new Map();
    for (const row of rows) {
      const script = row?.dimensions?.scriptName;
      if (typeof script !== "string") continue;
      const p99 = row?.quantiles?.wallTimeP99;
      byScript.set(script, {
        requests: Number(row?.sum?.requests ?? 0),
        errors: Number(row?.sum?.errors ?? 0),
        p99_latency_ms: typeof p99 === "number" ? p99 / 1000 : null,
      });
    }
    windows.push(byScript);
  }
  return windows;
}

// fetchAnalytics runs the query for the alerts' windows. It resolves to
// {windows: [ms…], data: [Map…]} or throws an AnalyticsError.
export async function fetchAnalytics(cfg, token, now, fetcher = fetch) {
  const windowsMs = [...new Set(cfg.alerts.map((a) => a.forMs))].sort((a, b) => a - b);
  const scripts = [...new Set(cfg.alerts.map((a) => a.service))].sort();
  const body = buildQuery(cfg.accountId, scripts, windowsMs, now);
  let response;
  try {
    response = await fetcher(`${cfg.apiBase}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json", "user-agent": "servicesdo-monitor/1" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new AnalyticsError(`the analytics API did not answer: ${String(err?.message ?? err).slice(0, 200)}`);
  }
  const text = await response.text();
  if (!response.ok) throw new AnalyticsError(`the analytics API answered ${response.status}: ${text.slice(0, 200)}`);
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new AnalyticsError(`the analytics API answered with something other than JSON: ${text.slice(0, 100)}`);
  }
  return { windows: windowsMs, data: parseResponse(json, windowsMs.length), end: windowEnd(now) };
}
