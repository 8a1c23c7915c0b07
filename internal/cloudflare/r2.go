package cloudflare

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/r2"

	"github.com/dot-do/terraform-provider-servicesdo/internal/validation"
)

// R2BucketSpec is what a bucket is created with.
type R2BucketSpec struct {
	Name         string
	LocationHint string
	StorageClass string
	Jurisdiction string
}

// R2Bucket is an R2 bucket as read back. Location is normalised to lower case: the API
// returns it upper case although hints are sent lower case.
type R2Bucket struct {
	Name         string
	Location     string
	StorageClass string
	Jurisdiction string
	CreationDate string
}

func toR2Bucket(b *r2.Bucket) R2Bucket {
	j := string(b.Jurisdiction)
	if j == "" {
		j = validation.R2DefaultJurisdiction
	}
	return R2Bucket{Name: b.Name, Location: strings.ToLower(string(b.Location)), StorageClass: string(b.StorageClass), Jurisdiction: j, CreationDate: b.CreationDate}
}

// jurisdictionHeader returns the value for cf-r2-jurisdiction; "" means the default one.
func jurisdictionHeader(j string) (string, bool) {
	return j, j != "" && j != validation.R2DefaultJurisdiction
}

// CreateR2Bucket creates a bucket.
func (c *Client) CreateR2Bucket(ctx context.Context, spec R2BucketSpec) (R2Bucket, error) {
	params := r2.BucketNewParams{AccountID: cf.F(c.accountID), Name: cf.F(spec.Name)}
	if spec.LocationHint != "" {
		params.LocationHint = cf.F(r2.BucketNewParamsLocationHint(spec.LocationHint))
	}
	if spec.StorageClass != "" {
		params.StorageClass = cf.F(r2.BucketNewParamsStorageClass(spec.StorageClass))
	}
	if j, ok := jurisdictionHeader(spec.Jurisdiction); ok {
		params.Jurisdiction = cf.F(r2.BucketNewParamsCfR2Jurisdiction(j))
	}
	b, err := c.r2.Buckets.New(ctx, params)
	if err != nil {
		return R2Bucket{}, wrap(fmt.Sprintf("creating R2 bucket %q", spec.Name), err)
	}
	return toR2Bucket(b), nil
}

// GetR2Bucket reads a bucket in its jurisdiction.
func (c *Client) GetR2Bucket(ctx context.Context, name, jurisdiction string) (R2Bucket, error) {
	params := r2.BucketGetParams{AccountID: cf.F(c.accountID)}
	if j, ok := jurisdictionHeader(jurisdiction); ok {
		params.Jurisdiction = cf.F(r2.BucketGetParamsCfR2Jurisdiction(j))
	}
	b, err := c.r2.Buckets.Get(ctx, escape(name), params)
	if err != nil {
		return R2Bucket{}, wrap(fmt.Sprintf("reading R2 bucket %q", name), err)
	}
	return toR2Bucket(b), nil
}

// SetR2StorageClass changes a bucket's default storage class. The PATCH sets one value, so
// it is retried like a PUT.
func (c *Client) SetR2StorageClass(ctx context.Context, name, jurisdiction, storageClass string) (R2Bucket, error) {
	ctx = safeToRepeat(ctx)
	params := r2.BucketEditParams{AccountID: cf.F(c.accountID), StorageClass: cf.F(r2.BucketEditParamsCfR2StorageClass(storageClass))}
	if j, ok := jurisdictionHeader(jurisdiction); ok {
		params.Jurisdiction = cf.F(r2.BucketEditParamsCfR2Jurisdiction(j))
	}
	b, err := c.r2.Buckets.Edit(ctx, escape(name), params)
	if err != nil {
		return R2Bucket{}, wrap(fmt.Sprintf("setting the storage class of R2 bucket %q", name), err)
	}
	return toR2Bucket(b), nil
}

// DeleteR2Bucket deletes an empty bucket.
func (c *Client) DeleteR2Bucket(ctx context.Context, name, jurisdiction string) error {
	params := r2.BucketDeleteParams{AccountID: cf.F(c.accountID)}
	if j, ok := jurisdictionHeader(jurisdiction); ok {
		params.Jurisdiction = cf.F(r2.BucketDeleteParamsCfR2Jurisdiction(j))
	}
	_, err := c.r2.Buckets.Delete(ctx, escape(name), params)
	return wrap(fmt.Sprintf("deleting R2 bucket %q", name), err)
}

// ListR2ObjectKeys lists the keys of every object in a bucket.
func (c *Client) ListR2ObjectKeys(ctx context.Context, bucket, jurisdiction string) ([]string, error) {
	params := r2.BucketObjectListParams{AccountID: cf.F(c.accountID), PerPage: cf.F(int64(1000))}
	if j, ok := jurisdictionHeader(jurisdiction); ok {
		params.Jurisdiction = cf.F(r2.BucketObjectListParamsCfR2Jurisdiction(j))
	}
	var keys []string
	pager := c.r2.Buckets.Objects.ListAutoPaging(ctx, escape(bucket), params)
	for pager.Next() {
		keys = append(keys, pager.Current().Key)
	}
	return keys, wrap(fmt.Sprintf("listing objects of R2 bucket %q", bucket), pager.Err())
}

// PutR2Object uploads an object.
func (c *Client) PutR2Object(ctx context.Context, bucket, jurisdiction, key string, body []byte) error {
	params := r2.BucketObjectUploadParams{AccountID: cf.F(c.accountID)}
	if j, ok := jurisdictionHeader(jurisdiction); ok {
		params.Jurisdiction = cf.F(r2.BucketObjectUploadParamsCfR2Jurisdiction(j))
	}
	_, err := c.r2.Buckets.Objects.Upload(ctx, escape(bucket), escape(key), bytes.NewReader(body), params)
	return wrap(fmt.Sprintf("uploading object %q to R2 bucket %q", key, bucket), err)
}

// DeleteR2Object deletes an object.
func (c *Client) DeleteR2Object(ctx context.Context, bucket, jurisdiction, key string) error {
	params := r2.BucketObjectDeleteParams{AccountID: cf.F(c.accountID)}
	if j, ok := jurisdictionHeader(jurisdiction); ok {
		params.Jurisdiction = cf.F(r2.BucketObjectDeleteParamsCfR2Jurisdiction(j))
	}
	_, err := c.r2.Buckets.Objects.Delete(ctx, escape(bucket), escape(key), params)
	return wrap(fmt.Sprintf("deleting object %q of R2 bucket %q", key, bucket), err)
}
