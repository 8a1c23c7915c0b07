// Package r2 emulates R2's API: buckets (with jurisdictions, location hints and storage
// classes) and the object endpoints, with object bodies streamed to and from the store's
// blobs.
package r2

import (
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// R2 is the R2 product of the local edge.
type R2 struct {
	store *api.Store
	clock func() time.Time
}

// New returns the R2 product over the store; now stamps creation and modification times.
func New(store *api.Store, now func() time.Time) *R2 { return &R2{store: store, clock: now} }

func (s *R2) now() time.Time { return s.clock().UTC() }

// Routes is the R2 API. Object keys may contain "/", escaped or not.
func (s *R2) Routes() []api.Route {
	const buckets = "/accounts/{account_id}/r2/buckets"
	return []api.Route{
		{Pattern: "POST " + buckets, Handle: s.createBucket},
		{Pattern: "GET " + buckets, Handle: s.listBuckets},
		{Pattern: "GET " + buckets + "/{bucket_name}", Handle: s.getBucket},
		{Pattern: "PATCH " + buckets + "/{bucket_name}", Handle: s.editBucket},
		{Pattern: "DELETE " + buckets + "/{bucket_name}", Handle: s.deleteBucket},
		{Pattern: "GET " + buckets + "/{bucket_name}/objects", Handle: s.listObjects},
		{Pattern: "PUT " + buckets + "/{bucket_name}/objects/{object_key...}", Handle: s.putObject},
		{Pattern: "GET " + buckets + "/{bucket_name}/objects/{object_key...}", Handle: s.getObject},
		{Pattern: "DELETE " + buckets + "/{bucket_name}/objects/{object_key...}", Handle: s.deleteObject},
	}
}
