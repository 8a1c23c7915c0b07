// Package workers holds the fixed JavaScript programs the provider deploys — the API gateway,
// the saga workflow, the monitor and the event fan-out — as esbuild bundles committed under
// <program>/dist and embedded here, so that `go install` needs no npm. Each program is
// configured by a JSON binding whose Go types live beside its bundle: configs are data, the
// code is tested once (node --test with Miniflare, in <program>/test).
//
// `make generate` rebuilds the bundles from a lockfile-pinned `npm ci`; `make test` fails when
// a committed bundle is stale.
package workers
