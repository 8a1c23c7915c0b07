package localedge_test

// The server-wide tests (authentication, routing errors, fault injection, request counters)
// drive the local edge through cloudflare-go's KV and R2 services.

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	cf "github.com/cloudflare/cloudflare-go/v7"
	cfkv "github.com/cloudflare/cloudflare-go/v7/kv"
	cfr2 "github.com/cloudflare/cloudflare-go/v7/r2"
	"github.com/cloudflare/cloudflare-go/v7/shared"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

type env struct {
	*edgetest.Env
	ctx context.Context
	kv  *cfkv.KVService
	r2  *cfr2.R2Service
}

func newEnv(t *testing.T, opts ...edgetest.Option) *env {
	t.Helper()
	e := &env{Env: edgetest.Start(t, opts...), ctx: context.Background()}
	e.kv = cfkv.NewKVService(e.SDK(edgetest.Token)...)
	e.r2 = cfr2.NewR2Service(e.SDK(edgetest.Token)...)
	return e
}

func (e *env) mustCreateNamespace(title string) *cfkv.Namespace {
	e.T.Helper()
	n, err := e.kv.Namespaces.New(e.ctx, cfkv.NamespaceNewParams{AccountID: cf.F(edgetest.AccountID), Title: cf.F(title)})
	if err != nil {
		e.T.Fatalf("create namespace %q: %v", title, err)
	}
	return n
}

// putValue writes a value through the SDK; the key is path-escaped, as the SDK does not.
func (e *env) putValue(nsID, key, value string, params cfkv.NamespaceValueUpdateParams) error {
	params.AccountID = cf.F(edgetest.AccountID)
	params.Value = cf.F[cfkv.NamespaceValueUpdateParamsValueUnion](shared.UnionString(value))
	_, err := e.kv.Namespaces.Values.Update(e.ctx, nsID, url.PathEscape(key), params)
	return err
}

func (e *env) mustPutValue(nsID, key, value string, params cfkv.NamespaceValueUpdateParams) {
	e.T.Helper()
	if err := e.putValue(nsID, key, value, params); err != nil {
		e.T.Fatalf("put %q: %v", key, err)
	}
}

// getValue reads a raw value; the response is returned for its headers.
func (e *env) getValue(nsID, key string) (string, *http.Response, error) {
	res, err := e.kv.Namespaces.Values.Get(e.ctx, nsID, url.PathEscape(key), cfkv.NamespaceValueGetParams{AccountID: cf.F(edgetest.AccountID)})
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), res, err
}

// listKeys pages through every key with the SDK's cursor auto-pager.
func (e *env) listKeys(nsID string, params cfkv.NamespaceKeyListParams) []cfkv.Key {
	e.T.Helper()
	params.AccountID = cf.F(edgetest.AccountID)
	var out []cfkv.Key
	pager := e.kv.Namespaces.Keys.ListAutoPaging(e.ctx, nsID, params)
	for pager.Next() {
		out = append(out, pager.Current())
	}
	if err := pager.Err(); err != nil {
		e.T.Fatalf("list keys: %v", err)
	}
	return out
}

func cfkvListParams() cfkv.NamespaceKeyListParams { return cfkv.NamespaceKeyListParams{} }
