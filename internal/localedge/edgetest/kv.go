package edgetest

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"testing"

	cf "github.com/cloudflare/cloudflare-go/v7"
	cfkv "github.com/cloudflare/cloudflare-go/v7/kv"
	"github.com/cloudflare/cloudflare-go/v7/shared"
)

// Pager is what cloudflare-go's auto-pagers have.
type Pager[T any] interface {
	Next() bool
	Current() T
	Err() error
}

// Collect pages through p to the end.
func Collect[T any](t testing.TB, p Pager[T]) []T {
	t.Helper()
	var out []T
	for p.Next() {
		out = append(out, p.Current())
	}
	if err := p.Err(); err != nil {
		t.Fatalf("paging: %v", err)
	}
	return out
}

// KV is cloudflare-go's KV service for a test edge, with the steps KV tests share. Keys are
// path-escaped, as the SDK does not escape path parameters.
type KV struct {
	*cfkv.KVService
	t   testing.TB
	ctx context.Context
}

// KV returns the KV service with the edge's token.
func (e *Env) KV() *KV {
	return &KV{KVService: cfkv.NewKVService(e.SDK(e.Config.Token)...), t: e.T, ctx: context.Background()}
}

// MustCreateNamespace creates a namespace or fails the test.
func (k *KV) MustCreateNamespace(title string) *cfkv.Namespace {
	k.t.Helper()
	n, err := k.Namespaces.New(k.ctx, cfkv.NamespaceNewParams{AccountID: cf.F(AccountID), Title: cf.F(title)})
	if err != nil {
		k.t.Fatalf("create namespace %q: %v", title, err)
	}
	return n
}

// Put writes a value.
func (k *KV) Put(nsID, key, value string, params cfkv.NamespaceValueUpdateParams) error {
	params.AccountID = cf.F(AccountID)
	params.Value = cf.F[cfkv.NamespaceValueUpdateParamsValueUnion](shared.UnionString(value))
	_, err := k.Namespaces.Values.Update(k.ctx, nsID, url.PathEscape(key), params)
	return err
}

// MustPut writes a value or fails the test.
func (k *KV) MustPut(nsID, key, value string, params cfkv.NamespaceValueUpdateParams) {
	k.t.Helper()
	if err := k.Put(nsID, key, value, params); err != nil {
		k.t.Fatalf("put %q: %v", key, err)
	}
}

// Get reads a raw value; the response is returned for its headers.
func (k *KV) Get(nsID, key string) (string, *http.Response, error) {
	res, err := k.Namespaces.Values.Get(k.ctx, nsID, url.PathEscape(key), cfkv.NamespaceValueGetParams{AccountID: cf.F(AccountID)})
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), res, err
}

// Keys lists every key with the SDK's cursor auto-pager.
func (k *KV) Keys(nsID string, params cfkv.NamespaceKeyListParams) []cfkv.Key {
	k.t.Helper()
	params.AccountID = cf.F(AccountID)
	return Collect[cfkv.Key](k.t, k.Namespaces.Keys.ListAutoPaging(k.ctx, nsID, params))
}
