package provider

import (
	"context"
	"sync"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// cached memoises one account-wide listing for the life of a provider process, which is one
// Terraform command: a plan of 100 services lists the scripts once, not 100 times. Any write
// through the provider resets it.
type cached[T any] struct {
	mu    sync.Mutex
	valid bool
	value T
}

func (c *cached[T]) get(fetch func() (T, error)) (T, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.valid {
		return c.value, nil
	}
	v, err := fetch()
	if err != nil {
		return v, err
	}
	c.value, c.valid = v, true
	return v, nil
}

func (c *cached[T]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.valid = false
	var zero T
	c.value = zero
}

// readCache holds the shared listings the service resource reads.
type readCache struct {
	scripts      cached[[]cloudflare.Script]
	domains      cached[[]cloudflare.Domain]
	doNamespaces cached[[]cloudflare.DONamespace]
	kvNamespaces cached[[]cloudflare.KVNamespace]
	subdomain    cached[string]
}

func (c *readCache) invalidate() {
	c.scripts.reset()
	c.domains.reset()
	c.doNamespaces.reset()
	c.kvNamespaces.reset()
}

func (d *providerData) listScripts(ctx context.Context) ([]cloudflare.Script, error) {
	return d.cache.scripts.get(func() ([]cloudflare.Script, error) { return d.client.ListScripts(ctx) })
}

func (d *providerData) listDomains(ctx context.Context) ([]cloudflare.Domain, error) {
	return d.cache.domains.get(func() ([]cloudflare.Domain, error) { return d.client.ListDomains(ctx, cloudflare.DomainFilter{}) })
}

func (d *providerData) listDONamespaces(ctx context.Context) ([]cloudflare.DONamespace, error) {
	return d.cache.doNamespaces.get(func() ([]cloudflare.DONamespace, error) { return d.client.ListDONamespaces(ctx) })
}

// accountSubdomain is the account's workers.dev subdomain; "" when none is registered.
func (d *providerData) accountSubdomain(ctx context.Context) (string, error) {
	return d.cache.subdomain.get(func() (string, error) {
		sub, err := d.client.GetAccountSubdomain(ctx)
		if cloudflare.IsNotFound(err) {
			return "", nil
		}
		return sub, err
	})
}

// kvNamespace reads a KV namespace from the account's listing: one call per Terraform command
// for any number of namespaces (a refresh of 100 namespaces made 100 calls, each a round trip
// to Cloudflare). One missing from the listing, or a failed listing, is read directly, so a
// namespace deleted out of band is still told from one the listing has not caught up with.
func (d *providerData) kvNamespace(ctx context.Context, id string) (cloudflare.KVNamespace, error) {
	all, err := d.cache.kvNamespaces.get(func() ([]cloudflare.KVNamespace, error) { return d.client.ListKVNamespaces(ctx) })
	if err == nil {
		for _, ns := range all {
			if ns.ID == id {
				return ns, nil
			}
		}
	}
	return d.client.GetKVNamespace(ctx, id)
}
