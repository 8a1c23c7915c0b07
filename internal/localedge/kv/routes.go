// Package kv emulates Workers KV's API: namespaces, values with metadata and expiration, key
// listing with cursors, and the bulk endpoints, with Cloudflare's limits.
package kv

import (
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// KV is the Workers KV product of the local edge.
type KV struct {
	store *api.Store
	clock func() time.Time
}

// New returns the KV product over the store; now is the clock of expirations.
func New(store *api.Store, now func() time.Time) *KV { return &KV{store: store, clock: now} }

func (k *KV) now() time.Time { return k.clock().UTC() }

// Routes is the KV API.
func (k *KV) Routes() []api.Route {
	const ns = "/accounts/{account_id}/storage/kv/namespaces"
	return []api.Route{
		{Pattern: "POST " + ns, Handle: k.createNamespace},
		{Pattern: "GET " + ns, Handle: k.listNamespaces},
		{Pattern: "GET " + ns + "/{namespace_id}", Handle: k.getNamespace},
		{Pattern: "PUT " + ns + "/{namespace_id}", Handle: k.renameNamespace},
		{Pattern: "DELETE " + ns + "/{namespace_id}", Handle: k.deleteNamespace},
		{Pattern: "PUT " + ns + "/{namespace_id}/values/{key_name}", Handle: k.putValue},
		{Pattern: "GET " + ns + "/{namespace_id}/values/{key_name}", Handle: k.getValue},
		{Pattern: "DELETE " + ns + "/{namespace_id}/values/{key_name}", Handle: k.deleteValue},
		{Pattern: "GET " + ns + "/{namespace_id}/metadata/{key_name}", Handle: k.getMetadata},
		{Pattern: "GET " + ns + "/{namespace_id}/keys", Handle: k.listKeys},
		{Pattern: "PUT " + ns + "/{namespace_id}/bulk", Handle: k.bulkWrite},
		{Pattern: "POST " + ns + "/{namespace_id}/bulk/delete", Handle: k.bulkDelete},
		{Pattern: "DELETE " + ns + "/{namespace_id}/bulk", Handle: k.bulkDelete},
		{Pattern: "POST " + ns + "/{namespace_id}/bulk/get", Handle: k.bulkGet},
	}
}
