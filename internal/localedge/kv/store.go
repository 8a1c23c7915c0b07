package kv

import (
	"encoding/json"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Buckets of the store. Values are keyed "<namespace id>/<key>" so that a prefix scan lists
// one namespace's keys in order.
const (
	bucketNamespaces = "kv_namespaces"
	bucketValues     = "kv_values"
)

// namespace is a Workers KV namespace as the API returns it.
type namespace struct {
	ID                  string `json:"id"`
	Title               string `json:"title"`
	SupportsURLEncoding bool   `json:"supports_url_encoding"`
}

// entry is one stored key.
type entry struct {
	Value      []byte          `json:"value"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Expiration int64           `json:"expiration,omitempty"`
}

// Limits of the platform.
const (
	MaxTitleLength   = 512
	MaxKeyBytes      = 512
	MaxValueBytes    = 25 << 20
	MaxMetadataBytes = 1024
	MinExpirationTTL = 60
	// MaxBulkItems bounds the pairs of a bulk write and the keys of a bulk delete.
	MaxBulkItems = 10000
	// MaxBulkBodyBytes bounds a bulk request's body.
	MaxBulkBodyBytes = 100_000_000
	MaxBulkGetKeys   = 100
)

func valueKey(namespaceID, key string) string { return namespaceID + "/" + key }

func namespaceByID(tx *api.Tx, id string) (namespace, error) {
	return api.Get[namespace](tx, bucketNamespaces, id, errNamespaceNotFound())
}

// titleTaken reports whether another namespace already has the title.
func titleTaken(tx *api.Tx, title, exceptID string) (bool, error) {
	all, err := api.All[namespace](tx, bucketNamespaces, "")
	for _, n := range all {
		if n.Title == title && n.ID != exceptID {
			return true, err
		}
	}
	return false, err
}

// CheckBinding checks a Worker's kv_namespace binding: the namespace must exist.
func CheckBinding(tx *api.Tx, b api.Binding) error {
	if !tx.Has(bucketNamespaces, b.Str("namespace_id")) {
		return errBindingTarget(b)
	}
	return nil
}
