package r2

import (
	"net/http"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// Buckets of the store: buckets keyed "<jurisdiction>/<name>", objects keyed
// "<jurisdiction>/<bucket>/<object key>" (a prefix scan lists one bucket's objects in order).
const (
	bucketBuckets = "r2_buckets"
	bucketObjects = "r2_objects"
)

// bucket is an R2 bucket as the API returns it (snake_case, location upper case).
type bucket struct {
	Name         string `json:"name"`
	CreationDate string `json:"creation_date"`
	Location     string `json:"location"`
	StorageClass string `json:"storage_class"`
	Jurisdiction string `json:"jurisdiction"`
}

// object is one stored object; its body is the blob named by Blob (Body holds the body of
// objects stored before bodies moved to blobs).
type object struct {
	Key            string            `json:"key"`
	Blob           string            `json:"blob,omitempty"`
	Body           []byte            `json:"body,omitempty"`
	Etag           string            `json:"etag"`
	Size           int64             `json:"size"`
	LastModified   time.Time         `json:"last_modified"`
	ContentType    string            `json:"content_type,omitempty"`
	StorageClass   string            `json:"storage_class"`
	CustomMetadata map[string]string `json:"custom_metadata,omitempty"`
}

// Limits of the platform.
const (
	maxKeyBytes = 1024
	// maxPutBytes is the largest single-part upload: 5 MiB less than 5 GiB.
	maxPutBytes = 5<<30 - 5<<20
)

var (
	bucketNameRE   = lazyregexp.New(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	locationHints  = map[string]bool{"apac": true, "eeur": true, "enam": true, "weur": true, "wnam": true, "oc": true}
	storageClasses = map[string]bool{"Standard": true, "InfrequentAccess": true}
	jurisdictions  = map[string]bool{"default": true, "eu": true, "fedramp": true}
)

func bucketKey(jurisdiction, name string) string { return jurisdiction + "/" + name }

func objectPrefix(b bucket) string { return b.Jurisdiction + "/" + b.Name + "/" }

// jurisdictionOf reads the cf-r2-jurisdiction header ("default" when absent).
func jurisdictionOf(r *http.Request) (string, error) {
	j := r.Header.Get("cf-r2-jurisdiction")
	if j == "" {
		return "default", nil
	}
	if !jurisdictions[j] {
		return "", api.Errorf(http.StatusBadRequest, 10001, "invalid jurisdiction %q: use default, eu or fedramp", j)
	}
	return j, nil
}

// bucketOf loads the bucket named in the path, in the request's jurisdiction.
func bucketOf(tx *api.Tx, r *http.Request) (bucket, error) {
	j, err := jurisdictionOf(r)
	if err != nil {
		return bucket{}, err
	}
	return api.Get[bucket](tx, bucketBuckets, bucketKey(j, r.PathValue("bucket_name")), errBucketNotFound())
}

// CheckBinding checks a Worker's r2_bucket binding: the bucket must exist in its jurisdiction.
func CheckBinding(tx *api.Tx, b api.Binding) error {
	j := b.Str("jurisdiction")
	if j == "" {
		j = "default"
	}
	if !tx.Has(bucketBuckets, bucketKey(j, b.Str("bucket_name"))) {
		return errBindingTarget(b, j)
	}
	return nil
}
