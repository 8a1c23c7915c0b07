package r2_test

import (
	"context"
	"testing"

	cfr2 "github.com/cloudflare/cloudflare-go/v7/r2"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// env is one test's local edge with cloudflare-go's R2 service.
type env struct {
	*edgetest.Env
	ctx context.Context
	r2  *cfr2.R2Service
}

func newEnv(t *testing.T, opts ...edgetest.Option) *env {
	t.Helper()
	e := edgetest.Start(t, opts...)
	return &env{Env: e, ctx: context.Background(), r2: cfr2.NewR2Service(e.SDK(edgetest.Token)...)}
}
