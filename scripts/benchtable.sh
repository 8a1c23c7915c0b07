#!/usr/bin/env bash
# Turns `go test -bench` output into the table `make bench` prints: each benchmark's time per
# operation and custom metrics, and the ratio of each no-op plan to Terraform's own floor
# (terraform_data with the same count).
awk '
/^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
  ns = ""; extra = ""
  for (i = 3; i < NF; i++) {
    if ($(i+1) == "ns/op") ns = $i
    else if ($(i+1) ~ /\//) extra = extra sprintf("%s %s  ", $i, $(i+1))
  }
  names[++n] = name; secs[name] = ns / 1e9; extras[name] = extra
  if (name ~ /terraform_data/) { group = name; sub(/\/.*/, "", group); floor[group] = ns / 1e9 }
}
END {
  if (n == 0) { print "no benchmark results"; exit 1 }
  printf "\n%-52s %12s %10s  %s\n", "benchmark", "s/op", "vs floor", "metrics"
  for (i = 1; i <= n; i++) {
    name = names[i]; group = name; sub(/\/.*/, "", group)
    ratio = (group in floor && floor[group] > 0) ? sprintf("%.2fx", secs[name] / floor[group]) : "-"
    printf "%-52s %12.3f %10s  %s\n", name, secs[name], ratio, extras[name]
  }
}'
