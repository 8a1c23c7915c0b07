package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/kv"
	"github.com/cloudflare/cloudflare-go/v7/shared"
)

// KVNamespace is a Workers KV namespace.
type KVNamespace struct {
	ID                  string
	Title               string
	SupportsURLEncoding bool
}

// KVKey is one key of a namespace listing.
type KVKey struct {
	Name       string
	Expiration int64
	// Metadata is the key's metadata JSON, nil when it has none.
	Metadata json.RawMessage
}

// kvBulkDeleteLimit is the API's maximum number of keys per bulk delete.
const kvBulkDeleteLimit = 10000

func toKVNamespace(n *kv.Namespace) KVNamespace {
	return KVNamespace{ID: n.ID, Title: n.Title, SupportsURLEncoding: n.SupportsURLEncoding}
}

// CreateKVNamespace creates a namespace.
func (c *Client) CreateKVNamespace(ctx context.Context, title string) (KVNamespace, error) {
	n, err := c.kv.Namespaces.New(ctx, kv.NamespaceNewParams{AccountID: cf.F(c.accountID), Title: cf.F(title)})
	if err != nil {
		return KVNamespace{}, wrap(fmt.Sprintf("creating KV namespace %q", title), err)
	}
	return toKVNamespace(n), nil
}

// GetKVNamespace reads a namespace.
func (c *Client) GetKVNamespace(ctx context.Context, id string) (KVNamespace, error) {
	n, err := c.kv.Namespaces.Get(ctx, escape(id), kv.NamespaceGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return KVNamespace{}, wrap(fmt.Sprintf("reading KV namespace %s", id), err)
	}
	return toKVNamespace(n), nil
}

// ListKVNamespaces lists every namespace of the account.
func (c *Client) ListKVNamespaces(ctx context.Context) ([]KVNamespace, error) {
	var out []KVNamespace
	pager := c.kv.Namespaces.ListAutoPaging(ctx, kv.NamespaceListParams{AccountID: cf.F(c.accountID), PerPage: cf.F(100.0)})
	for pager.Next() {
		n := pager.Current()
		out = append(out, toKVNamespace(&n))
	}
	return out, wrap("listing KV namespaces", pager.Err())
}

// RenameKVNamespace changes a namespace's title.
func (c *Client) RenameKVNamespace(ctx context.Context, id, title string) (KVNamespace, error) {
	n, err := c.kv.Namespaces.Update(ctx, escape(id), kv.NamespaceUpdateParams{AccountID: cf.F(c.accountID), Title: cf.F(title)})
	if err != nil {
		return KVNamespace{}, wrap(fmt.Sprintf("renaming KV namespace %s to %q", id, title), err)
	}
	return toKVNamespace(n), nil
}

// DeleteKVNamespace deletes a namespace and everything in it.
func (c *Client) DeleteKVNamespace(ctx context.Context, id string) error {
	_, err := c.kv.Namespaces.Delete(ctx, escape(id), kv.NamespaceDeleteParams{AccountID: cf.F(c.accountID)})
	return wrap(fmt.Sprintf("deleting KV namespace %s", id), err)
}

// ListKVKeys lists every key with the prefix, following cursors to the end.
func (c *Client) ListKVKeys(ctx context.Context, namespaceID, prefix string) ([]KVKey, error) {
	params := kv.NamespaceKeyListParams{AccountID: cf.F(c.accountID), Limit: cf.F(1000.0)}
	if prefix != "" {
		params.Prefix = cf.F(prefix)
	}
	var out []KVKey
	pager := c.kv.Namespaces.Keys.ListAutoPaging(ctx, escape(namespaceID), params)
	for pager.Next() {
		k := pager.Current()
		key := KVKey{Name: k.Name, Expiration: int64(k.Expiration)}
		if k.Metadata != nil {
			key.Metadata = json.RawMessage(k.JSON.Metadata.Raw())
		}
		out = append(out, key)
	}
	return out, wrap(fmt.Sprintf("listing keys of KV namespace %s", namespaceID), pager.Err())
}

// PutKVValue writes a value with optional metadata. The metadata goes out as one JSON
// string field: the SDK would flatten a Go map into metadata.<k> fields.
func (c *Client) PutKVValue(ctx context.Context, namespaceID, key string, value []byte, metadata json.RawMessage) error {
	params := kv.NamespaceValueUpdateParams{AccountID: cf.F(c.accountID), Value: cf.F[kv.NamespaceValueUpdateParamsValueUnion](shared.UnionString(value))}
	if len(metadata) > 0 {
		params.Metadata = cf.F[any](string(metadata))
	}
	_, err := c.kv.Namespaces.Values.Update(ctx, escape(namespaceID), escape(key), params)
	return wrap(fmt.Sprintf("writing key %q of KV namespace %s", key, namespaceID), err)
}

// GetKVValue reads a value.
func (c *Client) GetKVValue(ctx context.Context, namespaceID, key string) ([]byte, error) {
	res, err := c.kv.Namespaces.Values.Get(ctx, escape(namespaceID), escape(key), kv.NamespaceValueGetParams{AccountID: cf.F(c.accountID)})
	if err != nil {
		return nil, wrap(fmt.Sprintf("reading key %q of KV namespace %s", key, namespaceID), err)
	}
	defer res.Body.Close()
	return io.ReadAll(res.Body)
}

// DeleteKVKeys deletes keys in bulk, in batches of the API's limit. The bulk delete is a POST,
// but deleting a key twice changes nothing, so it is retried like a DELETE.
func (c *Client) DeleteKVKeys(ctx context.Context, namespaceID string, keys []string) error {
	ctx = safeToRepeat(ctx)
	for start := 0; start < len(keys); start += kvBulkDeleteLimit {
		batch := keys[start:min(start+kvBulkDeleteLimit, len(keys))]
		_, err := c.kv.Namespaces.BulkDelete(ctx, escape(namespaceID), kv.NamespaceBulkDeleteParams{AccountID: cf.F(c.accountID), Body: batch})
		if err != nil {
			return wrap(fmt.Sprintf("deleting %d keys of KV namespace %s", len(batch), namespaceID), err)
		}
	}
	return nil
}
