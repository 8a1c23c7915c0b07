package localedge_test

// The server-wide tests (authentication, routing errors, fault injection, request counters)
// drive the local edge through cloudflare-go's KV and R2 services.

import (
	"context"
	"testing"

	cfr2 "github.com/cloudflare/cloudflare-go/v7/r2"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

type env struct {
	*edgetest.Env
	ctx context.Context
	kv  *edgetest.KV
	r2  *cfr2.R2Service
}

func newEnv(t *testing.T, opts ...edgetest.Option) *env {
	t.Helper()
	e := &env{Env: edgetest.Start(t, opts...), ctx: context.Background()}
	e.kv = e.KV()
	e.r2 = cfr2.NewR2Service(e.SDK(edgetest.Token)...)
	return e
}
