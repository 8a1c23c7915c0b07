package kv_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// env is one test's local edge with cloudflare-go's KV service.
type env struct {
	*edgetest.Env
	ctx context.Context
	kv  *edgetest.KV
}

func newEnv(t *testing.T, opts ...edgetest.Option) *env {
	t.Helper()
	return wrap(edgetest.Start(t, opts...))
}

func wrap(e *edgetest.Env) *env {
	return &env{Env: e, ctx: context.Background(), kv: e.KV()}
}

func nsPath(id string) string {
	return "/accounts/" + edgetest.AccountID + "/storage/kv/namespaces/" + id
}
