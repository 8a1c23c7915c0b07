#!/usr/bin/env bash
# Turns `go test -bench` output into the tables `make bench` prints: first the figures of the
# provider's performance goals, each beside its floor (Terraform's own plan of as many
# terraform_data, measured side by side in alternating runs; medians), then every benchmark
# with its time per operation and custom metrics.
awk '
/^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
  names[++n] = name
  for (i = 3; i < NF; i++) {
    if ($(i+1) ~ /\//) metric[name, $(i+1)] = $i
    else if ($(i+1) ~ /^(x-floor|provider-peak-MiB)$/) metric[name, $(i+1)] = $i
  }
  line[name] = $0
}
function has(b, unit) { return (b, unit) in metric }
function val(b, unit) { return metric[b, unit] }
function row(figure, value, floor, ratio, goal) {
  printf "%-58s %14s %12s %9s   %s\n", figure, value, floor, ratio, goal
}
function vsfloor(figure, b, goal) {
  if (!has(b, "x-floor")) { row(figure, "not run", "", "", goal); return }
  row(figure, sprintf("%.3f s", val(b, "s/plan")), sprintf("%.3f s", val(b, "floor-s/plan")), sprintf("%.2fx", val(b, "x-floor")), goal)
}
END {
  if (n == 0) { print "no benchmark results"; exit 1 }
  svc = "NoOpPlan/servicesdo_service_x100"; kv = "NoOpPlan/servicesdo_kv_namespace_x100"
  load = "ProviderLoad/servicesdo"; empty = "ProviderLoad/empty_framework_provider"; apply = "ApplyOneChangedService"
  printf "\nPerformance goals (issue 10): medians of alternating runs; floor = the same plan of terraform_data only\n"
  row("figure", "value", "floor", "ratio", "goal")
  vsfloor("no-op plan, 100 servicesdo_service", svc, "<= 5x")
  vsfloor("  reference: the same schema, a provider doing nothing", svc "_schema_only", "")
  vsfloor("no-op plan, 100 servicesdo_kv_namespace", kv, "<= 2x")
  vsfloor("  reference: the same schema, a provider doing nothing", kv "_schema_only", "")
  vsfloor("provider load: 1 terraform_data, provider configured", load, "<= 1.5x")
  vsfloor("  reference: the same with an empty framework provider", empty, "")
  if (has(svc, "api-calls/resource/plan")) row("API calls per service per no-op plan", sprintf("%.2f", val(svc, "api-calls/resource/plan")), "", "", "<= 2")
  if (has(kv, "api-calls/resource/plan")) row("API calls per KV namespace per no-op plan", sprintf("%.2f", val(kv, "api-calls/resource/plan")), "", "", "")
  if (has(apply, "api-calls/apply")) row("API calls, apply changing 1 of 100 services", sprintf("%d = 2N%+d", val(apply, "api-calls/apply"), val(apply, "api-calls-beyond-2N/apply")), "", "", "<= 2N+5")
  if (has(svc, "provider-peak-MiB")) row("provider peak RSS, 100-service no-op plan", sprintf("%.1f MiB", val(svc, "provider-peak-MiB")), "", "", "<= 60 MiB")
  if (has(load, "provider-peak-MiB")) row("  reference: provider peak RSS when only loaded", sprintf("%.1f MiB", val(load, "provider-peak-MiB")), "", "", "")
  if (has(svc, "provider-cpu-s/plan")) row("provider CPU, 100-service no-op plan", sprintf("%.2f s", val(svc, "provider-cpu-s/plan")), "", "", "")
  if (has(svc, "provider-alloc-MiB/plan")) row("provider allocations, 100-service no-op plan", sprintf("%.0f MiB", val(svc, "provider-alloc-MiB/plan")), "", "", "")
  if (has(apply, "s/apply")) row("apply changing 1 of 100 services", sprintf("%.3f s", val(apply, "s/apply")), "", "", "")

  saga = "SagaExecutions"
  if (has(saga, "executions/s")) {
    printf "\nSagas (issue 13): a 4-step saga on the local edge, participants answering at once\n"
    row("executions per second (8 in flight)", sprintf("%.1f /s", val(saga, "executions/s")), "", "", "")
    row("execution latency p50 / p99, under that load", sprintf("%.0f / %.0f ms", val(saga, "p50-ms/execution"), val(saga, "p99-ms/execution")), "", "", "")
    row("execution latency p50 / p99, one at a time", sprintf("%.0f / %.0f ms", val(saga, "alone-p50-ms/execution"), val(saga, "alone-p99-ms/execution")), "", "", "")
    row("  reference: a Worker making the 4 calls directly, p50", sprintf("%.1f ms", val(saga, "direct-p50-ms/4-calls")), "", "", "")
    row("orchestrator overhead per step (alone p50 - direct, / 4)", sprintf("%.1f ms", val(saga, "overhead-ms/step")), "", "", "")
  }

  printf "\nAll benchmarks\n%-52s %12s  %s\n", "benchmark", "s/op", "metrics"
  for (i = 1; i <= n; i++) {
    name = names[i]; split(line[name], f, /[ \t]+/)
    ns = ""; extra = ""
    for (j = 3; j < length(f); j++) {
      if (f[j+1] == "ns/op") ns = f[j]
      else if (f[j+1] != "" && f[j+1] !~ /^[0-9.e+-]+$/) extra = extra sprintf("%s %s  ", f[j], f[j+1])
    }
    printf "%-52s %12.3f  %s\n", name, ns / 1e9, extra
  }
}'
