package r2_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/option"
	cfr2 "github.com/cloudflare/cloudflare-go/v7/r2"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

func (e *env) mustCreateBucket(params cfr2.BucketNewParams) *cfr2.Bucket {
	e.T.Helper()
	params.AccountID = cf.F(edgetest.AccountID)
	b, err := e.r2.Buckets.New(e.ctx, params)
	if err != nil {
		e.T.Fatalf("create bucket %v: %v", params.Name, err)
	}
	return b
}

func (e *env) upload(bucket, key, body string, params cfr2.BucketObjectUploadParams, opts ...option.RequestOption) (*cfr2.BucketObjectUploadResponse, error) {
	params.AccountID = cf.F(edgetest.AccountID)
	return e.r2.Buckets.Objects.Upload(e.ctx, bucket, url.PathEscape(key), strings.NewReader(body), params, opts...)
}

func (e *env) listObjects(bucket string, params cfr2.BucketObjectListParams) []cfr2.BucketObjectListResponse {
	e.T.Helper()
	params.AccountID = cf.F(edgetest.AccountID)
	return edgetest.Collect[cfr2.BucketObjectListResponse](e.T, e.r2.Buckets.Objects.ListAutoPaging(e.ctx, bucket, params))
}

func TestR2BucketLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)

	b := e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("assets"), LocationHint: cf.F(cfr2.BucketNewParamsLocationHintWeur), StorageClass: cf.F(cfr2.BucketNewParamsStorageClassInfrequentAccess)})
	wantDate := e.Clock.Now().Format("2006-01-02T15:04:05.000Z")
	if b.Name != "assets" || b.Location != "WEUR" || b.StorageClass != cfr2.BucketStorageClassInfrequentAccess || b.Jurisdiction != cfr2.BucketJurisdictionDefault || b.CreationDate != wantDate {
		t.Fatalf("created bucket = %+v", b)
	}
	if raw := b.JSON.RawJSON(); !strings.Contains(raw, `"location":"WEUR"`) || !strings.Contains(raw, `"storage_class":"InfrequentAccess"`) {
		t.Fatalf("bucket JSON = %s", raw)
	}
	d := e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("defaults-0")})
	if d.Location != "ENAM" || d.StorageClass != cfr2.BucketStorageClassStandard || d.Jurisdiction != "default" {
		t.Fatalf("bucket with defaults = %+v", d)
	}

	got, err := e.r2.Buckets.Get(e.ctx, "assets", cfr2.BucketGetParams{AccountID: acct})
	if err != nil || !reflect.DeepEqual(stripJSON(got), stripJSON(b)) {
		t.Fatalf("get = %+v, %v", got, err)
	}
	// The default jurisdiction may also be named explicitly.
	if _, err := e.r2.Buckets.Get(e.ctx, "assets", cfr2.BucketGetParams{AccountID: acct, Jurisdiction: cf.F(cfr2.BucketGetParamsCfR2JurisdictionDefault)}); err != nil {
		t.Fatalf("get with cf-r2-jurisdiction: default: %v", err)
	}

	edited, err := e.r2.Buckets.Edit(e.ctx, "assets", cfr2.BucketEditParams{AccountID: acct, StorageClass: cf.F(cfr2.BucketEditParamsCfR2StorageClassStandard)})
	if err != nil || edited.StorageClass != cfr2.BucketStorageClassStandard || edited.Location != "WEUR" || edited.CreationDate != wantDate {
		t.Fatalf("edit = %+v, %v", edited, err)
	}
	if got, _ := e.r2.Buckets.Get(e.ctx, "assets", cfr2.BucketGetParams{AccountID: acct}); got == nil || got.StorageClass != cfr2.BucketStorageClassStandard {
		t.Fatalf("get after edit = %+v", got)
	}

	list, err := e.r2.Buckets.List(e.ctx, cfr2.BucketListParams{AccountID: acct})
	if err != nil || len(list.Buckets) != 2 || list.Buckets[0].Name != "assets" || list.Buckets[1].Name != "defaults-0" {
		t.Fatalf("list = %+v, %v", list, err)
	}

	if _, err := e.r2.Buckets.Delete(e.ctx, "assets", cfr2.BucketDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = e.r2.Buckets.Get(e.ctx, "assets", cfr2.BucketGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.r2.Buckets.Delete(e.ctx, "assets", cfr2.BucketDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.r2.Buckets.Edit(e.ctx, "assets", cfr2.BucketEditParams{AccountID: acct, StorageClass: cf.F(cfr2.BucketEditParamsCfR2StorageClassStandard)})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	// The name is free again.
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("assets")})
}

// stripJSON drops the SDK's raw-JSON bookkeeping so decoded buckets compare by value.
func stripJSON(b *cfr2.Bucket) cfr2.Bucket {
	c := *b
	c.JSON = cfr2.Bucket{}.JSON
	return c
}

func TestR2BucketValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	create := func(p cfr2.BucketNewParams) error {
		p.AccountID = acct
		_, err := e.r2.Buckets.New(e.ctx, p)
		return err
	}

	for _, name := range []string{"ab", "Upper", "under_score", "-dash", "dash-", "dot.ted", strings.Repeat("a", 64), ""} {
		if err := create(cfr2.BucketNewParams{Name: cf.F(name)}); err == nil {
			t.Fatalf("bucket name %q was accepted", name)
		} else if name != "" {
			edgetest.WantAPIError(t, err, http.StatusBadRequest, 10005)
		}
	}
	for _, name := range []string{"abc", "a-b", strings.Repeat("a", 63), "0-9"} {
		if err := create(cfr2.BucketNewParams{Name: cf.F(name)}); err != nil {
			t.Fatalf("bucket name %q: %v", name, err)
		}
	}
	edgetest.WantAPIError(t, create(cfr2.BucketNewParams{Name: cf.F("classy"), StorageClass: cf.F(cfr2.BucketNewParamsStorageClass("Glacier"))}), http.StatusBadRequest, 10040)
	edgetest.WantAPIError(t, create(cfr2.BucketNewParams{Name: cf.F("located"), LocationHint: cf.F(cfr2.BucketNewParamsLocationHint("mars"))}), http.StatusBadRequest, 10040)
	// Location hints are case-insensitive on the way in, upper case on the way out.
	b, err := e.r2.Buckets.New(e.ctx, cfr2.BucketNewParams{AccountID: acct, Name: cf.F("apac-bucket"), LocationHint: cf.F(cfr2.BucketNewParamsLocationHint("APAC"))})
	if err != nil || b.Location != "APAC" {
		t.Fatalf("upper-case hint = %+v, %v", b, err)
	}
	status, _, body := e.Raw(http.MethodPost, "/accounts/"+edgetest.AccountID+"/r2/buckets", http.Header{"Content-Type": {"application/json"}}, strings.NewReader("{"))
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"code":10040`) {
		t.Fatalf("malformed create body: %d %s", status, body)
	}

	edgetest.WantAPIError(t, create(cfr2.BucketNewParams{Name: cf.F("abc")}), http.StatusConflict, 10004)

	_, err = e.r2.Buckets.Edit(e.ctx, "abc", cfr2.BucketEditParams{AccountID: acct, StorageClass: cf.F(cfr2.BucketEditParamsCfR2StorageClass("Glacier"))})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10062)

	edgetest.WantAPIError(t, create(cfr2.BucketNewParams{Name: cf.F("mars-bucket"), Jurisdiction: cf.F(cfr2.BucketNewParamsCfR2Jurisdiction("mars"))}), http.StatusBadRequest, 10001)

	// A bucket with an object cannot be deleted; once empty it can.
	if _, err := e.upload("abc", "k", "v", cfr2.BucketObjectUploadParams{}); err != nil {
		t.Fatal(err)
	}
	_, err = e.r2.Buckets.Delete(e.ctx, "abc", cfr2.BucketDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusConflict, 10008)
	if _, err := e.r2.Buckets.Objects.Delete(e.ctx, "abc", "k", cfr2.BucketObjectDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.r2.Buckets.Delete(e.ctx, "abc", cfr2.BucketDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("delete of the emptied bucket: %v", err)
	}
	// A bucket whose name is a prefix of another's does not see the other's objects.
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("pre")})
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("prefix")})
	if _, err := e.upload("prefix", "k", "v", cfr2.BucketObjectUploadParams{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.r2.Buckets.Delete(e.ctx, "pre", cfr2.BucketDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("delete of an empty bucket whose name prefixes a non-empty one: %v", err)
	}
}

func TestR2Jurisdictions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)

	eu := e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("shared-name"), Jurisdiction: cf.F(cfr2.BucketNewParamsCfR2JurisdictionEu)})
	if eu.Jurisdiction != cfr2.BucketJurisdictionEu {
		t.Fatalf("eu bucket = %+v", eu)
	}
	// Absent in the default jurisdiction: 404 without the header.
	_, err := e.r2.Buckets.Get(e.ctx, "shared-name", cfr2.BucketGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.r2.Buckets.Get(e.ctx, "shared-name", cfr2.BucketGetParams{AccountID: acct, Jurisdiction: cf.F(cfr2.BucketGetParamsCfR2JurisdictionFedramp)})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.r2.Buckets.Delete(e.ctx, "shared-name", cfr2.BucketDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.r2.Buckets.Edit(e.ctx, "shared-name", cfr2.BucketEditParams{AccountID: acct, StorageClass: cf.F(cfr2.BucketEditParamsCfR2StorageClassInfrequentAccess)})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.upload("shared-name", "k", "v", cfr2.BucketObjectUploadParams{})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)

	got, err := e.r2.Buckets.Get(e.ctx, "shared-name", cfr2.BucketGetParams{AccountID: acct, Jurisdiction: cf.F(cfr2.BucketGetParamsCfR2JurisdictionEu)})
	if err != nil || got.Jurisdiction != "eu" {
		t.Fatalf("get in eu = %+v, %v", got, err)
	}
	edited, err := e.r2.Buckets.Edit(e.ctx, "shared-name", cfr2.BucketEditParams{AccountID: acct, StorageClass: cf.F(cfr2.BucketEditParamsCfR2StorageClassInfrequentAccess), Jurisdiction: cf.F(cfr2.BucketEditParamsCfR2JurisdictionEu)})
	if err != nil || edited.Jurisdiction != "eu" || edited.StorageClass != cfr2.BucketStorageClassInfrequentAccess {
		t.Fatalf("edit in eu = %+v, %v", edited, err)
	}

	// The same name in another jurisdiction is another bucket.
	def := e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("shared-name")})
	if def.Jurisdiction != "default" || def.StorageClass != cfr2.BucketStorageClassStandard {
		t.Fatalf("default bucket = %+v", def)
	}
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("fed-only"), Jurisdiction: cf.F(cfr2.BucketNewParamsCfR2JurisdictionFedramp)})

	names := func(j cfr2.BucketListParamsCfR2Jurisdiction) []string {
		p := cfr2.BucketListParams{AccountID: acct}
		if j != "" {
			p.Jurisdiction = cf.F(j)
		}
		l, err := e.r2.Buckets.List(e.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, b := range l.Buckets {
			out = append(out, string(b.Jurisdiction)+"/"+b.Name)
		}
		return out
	}
	if got := names(""); !reflect.DeepEqual(got, []string{"default/shared-name"}) {
		t.Fatalf("default list = %v", got)
	}
	if got := names(cfr2.BucketListParamsCfR2JurisdictionEu); !reflect.DeepEqual(got, []string{"eu/shared-name"}) {
		t.Fatalf("eu list = %v", got)
	}
	if got := names(cfr2.BucketListParamsCfR2JurisdictionFedramp); !reflect.DeepEqual(got, []string{"fedramp/fed-only"}) {
		t.Fatalf("fedramp list = %v", got)
	}

	// Objects live in their bucket's jurisdiction.
	if _, err := e.upload("shared-name", "k", "eu body", cfr2.BucketObjectUploadParams{Jurisdiction: cf.F(cfr2.BucketObjectUploadParamsCfR2JurisdictionEu)}); err != nil {
		t.Fatal(err)
	}
	if objs := e.listObjects("shared-name", cfr2.BucketObjectListParams{}); len(objs) != 0 {
		t.Fatalf("default bucket lists the eu bucket's objects: %+v", objs)
	}
	objs := e.listObjects("shared-name", cfr2.BucketObjectListParams{Jurisdiction: cf.F(cfr2.BucketObjectListParamsCfR2JurisdictionEu)})
	if len(objs) != 1 || objs[0].Key != "k" || objs[0].StorageClass != "InfrequentAccess" {
		t.Fatalf("eu objects = %+v", objs)
	}
	_, err = e.r2.Buckets.Objects.Get(e.ctx, "shared-name", "k", cfr2.BucketObjectGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10007)
	// The eu bucket is not empty, the default one is.
	_, err = e.r2.Buckets.Delete(e.ctx, "shared-name", cfr2.BucketDeleteParams{AccountID: acct, Jurisdiction: cf.F(cfr2.BucketDeleteParamsCfR2JurisdictionEu)})
	edgetest.WantAPIError(t, err, http.StatusConflict, 10008)
	if _, err := e.r2.Buckets.Delete(e.ctx, "shared-name", cfr2.BucketDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("delete of the default bucket: %v", err)
	}
	if _, err := e.r2.Buckets.Get(e.ctx, "shared-name", cfr2.BucketGetParams{AccountID: acct, Jurisdiction: cf.F(cfr2.BucketGetParamsCfR2JurisdictionEu)}); err != nil {
		t.Fatalf("the eu bucket must survive deleting the default one: %v", err)
	}
}

func TestR2BucketListCursor(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	var want []string
	for i := range 5 {
		name := fmt.Sprintf("bucket-%d", i)
		want = append(want, name)
		e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F(name)})
	}
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("other")})

	// The SDK drops result_info, so the cursor is read from the raw response.
	var got []string
	cursor := ""
	for range 10 {
		p := cfr2.BucketListParams{AccountID: acct, PerPage: cf.F(2.0), NameContains: cf.F("bucket-")}
		if cursor != "" {
			p.Cursor = cf.F(cursor)
		}
		l, err := e.r2.Buckets.List(e.ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range l.Buckets {
			got = append(got, b.Name)
		}
		q := url.Values{"per_page": {"2"}, "name_contains": {"bucket-"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		status, _, body := e.Raw(http.MethodGet, "/accounts/"+edgetest.AccountID+"/r2/buckets?"+q.Encode(), nil, nil)
		var env struct {
			Messages []string `json:"messages"`
			Result   struct {
				Buckets []struct{ Name string } `json:"buckets"`
			} `json:"result"`
			ResultInfo struct {
				Cursor  string `json:"cursor"`
				PerPage int    `json:"per_page"`
			} `json:"result_info"`
		}
		if err := json.Unmarshal(body, &env); err != nil || status != http.StatusOK {
			t.Fatalf("R2 envelope %d %s: %v", status, body, err)
		}
		if env.Messages == nil || env.ResultInfo.PerPage != 2 || len(env.Result.Buckets) != len(l.Buckets) {
			t.Fatalf("R2 list envelope = %s", body)
		}
		if cursor = env.ResultInfo.Cursor; cursor == "" {
			break
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("paged buckets = %v, want %v", got, want)
	}

	after, err := e.r2.Buckets.List(e.ctx, cfr2.BucketListParams{AccountID: acct, StartAfter: cf.F("bucket-2"), NameContains: cf.F("bucket-")})
	if err != nil || len(after.Buckets) != 2 || after.Buckets[0].Name != "bucket-3" {
		t.Fatalf("start_after = %+v, %v", after, err)
	}
	desc, err := e.r2.Buckets.List(e.ctx, cfr2.BucketListParams{AccountID: acct, Direction: cf.F(cfr2.BucketListParamsDirectionDesc)})
	if err != nil || len(desc.Buckets) != 6 || desc.Buckets[0].Name != "other" || desc.Buckets[5].Name != "bucket-0" {
		t.Fatalf("desc = %+v, %v", desc, err)
	}
	_, err = e.r2.Buckets.List(e.ctx, cfr2.BucketListParams{AccountID: acct, PerPage: cf.F(0.0)})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
	empty, err := e.r2.Buckets.List(e.ctx, cfr2.BucketListParams{AccountID: acct, NameContains: cf.F("nothing")})
	if err != nil || empty.Buckets == nil || len(empty.Buckets) != 0 {
		t.Fatalf("empty list = %s, %v", empty.JSON.RawJSON(), err)
	}
}

func TestR2Objects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("objects")})
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("objects-2")})
	if _, err := e.upload("objects-2", "zzz", "other bucket", cfr2.BucketObjectUploadParams{}); err != nil {
		t.Fatal(err)
	}

	bodies := map[string]string{
		"a.txt":              "alpha",
		"dir/b.txt":          "bravo",
		"dir/sub/with space": "charlie",
		"d?e#f":              "delta",
		"e":                  "",
		"img/logo.png":       "\x89PNG",
		"z":                  "zulu",
	}
	start := e.Clock.Now()
	for k, body := range bodies {
		opts := []option.RequestOption{}
		if strings.HasSuffix(k, ".png") {
			opts = append(opts, option.WithHeader("Content-Type", "image/png"))
		}
		res, err := e.upload("objects", k, body, cfr2.BucketObjectUploadParams{}, opts...)
		if err != nil {
			t.Fatalf("upload %q: %v", k, err)
		}
		sum := md5.Sum([]byte(body))
		if res.Key != k || res.Etag != hex.EncodeToString(sum[:]) || res.Size != fmt.Sprint(len(body)) || res.StorageClass != "Standard" {
			t.Fatalf("upload %q = %s", k, res.JSON.RawJSON())
		}
		e.Clock.Advance(time.Second)
	}

	for k, body := range bodies {
		res, err := e.r2.Buckets.Objects.Get(e.ctx, "objects", url.PathEscape(k), cfr2.BucketObjectGetParams{AccountID: acct})
		if err != nil {
			t.Fatalf("get %q: %v", k, err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || string(got) != body {
			t.Fatalf("get %q = %q, %v", k, got, err)
		}
		sum := md5.Sum([]byte(body))
		if etag := res.Header.Get("ETag"); etag != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Fatalf("%q: ETag %q", k, etag)
		}
		wantCT := "application/octet-stream"
		if strings.HasSuffix(k, ".png") {
			wantCT = "image/png"
		}
		if ct := res.Header.Get("Content-Type"); ct != wantCT {
			t.Fatalf("%q: Content-Type %q, want %q", k, ct, wantCT)
		}
		if _, err := http.ParseTime(res.Header.Get("Last-Modified")); err != nil {
			t.Fatalf("%q: Last-Modified %q", k, res.Header.Get("Last-Modified"))
		}
	}

	var want []string
	for k := range bodies {
		want = append(want, k)
	}
	sort.Strings(want)
	e.Server.ResetRequestCounts()
	objs := e.listObjects("objects", cfr2.BucketObjectListParams{PerPage: cf.F(int64(2))})
	var got []string
	for _, o := range objs {
		got = append(got, o.Key)
		body := bodies[o.Key]
		sum := md5.Sum([]byte(body))
		if o.Size != int64(len(body)) || o.Etag != hex.EncodeToString(sum[:]) || o.StorageClass != "Standard" || o.LastModified.Before(start) {
			t.Fatalf("listed object = %s", o.JSON.RawJSON())
		}
		if o.Key == "img/logo.png" && o.HTTPMetadata.ContentType != "image/png" {
			t.Fatalf("listed http_metadata = %s", o.JSON.RawJSON())
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("listed = %q\nwant %q", got, want)
	}
	// 7 objects by 2: four pages, the last one without a cursor.
	if n := e.Server.RequestCount("GET /accounts/{account_id}/r2/buckets/{bucket_name}/objects"); n != 4 {
		t.Fatalf("%d object list requests, want 4\n%s", n, e.Server.FormatRequestCounts())
	}
	page, err := e.r2.Buckets.Objects.List(e.ctx, "objects", cfr2.BucketObjectListParams{AccountID: acct, PerPage: cf.F(int64(3))})
	if err != nil || len(page.Result) != 3 || page.ResultInfo.Cursor == "" || page.ResultInfo.PerPage != 3 || !strings.Contains(page.ResultInfo.JSON.RawJSON(), `"is_truncated":true`) {
		t.Fatalf("first page = %s, %v", page.JSON.RawJSON(), err)
	}
	all, err := e.r2.Buckets.Objects.List(e.ctx, "objects", cfr2.BucketObjectListParams{AccountID: acct})
	if err != nil || len(all.Result) != len(bodies) || all.ResultInfo.Cursor != "" || !strings.Contains(all.ResultInfo.JSON.RawJSON(), `"is_truncated":false`) {
		t.Fatalf("unpaged list = %s, %v", all.JSON.RawJSON(), err)
	}

	// Prefix and start_after.
	var dir []string
	for _, o := range e.listObjects("objects", cfr2.BucketObjectListParams{Prefix: cf.F("dir/"), PerPage: cf.F(int64(1))}) {
		dir = append(dir, o.Key)
	}
	if !reflect.DeepEqual(dir, []string{"dir/b.txt", "dir/sub/with space"}) {
		t.Fatalf("prefix dir/ = %q", dir)
	}
	var after []string
	for _, o := range e.listObjects("objects", cfr2.BucketObjectListParams{StartAfter: cf.F("img/logo.png")}) {
		after = append(after, o.Key)
	}
	if !reflect.DeepEqual(after, []string{"z"}) {
		t.Fatalf("start_after = %q", after)
	}
	_, err = e.r2.Buckets.Objects.List(e.ctx, "objects", cfr2.BucketObjectListParams{AccountID: acct, PerPage: cf.F(int64(1001))})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)

	// Storage class: explicit per object, else the bucket's default.
	res, err := e.upload("objects", "ia", "x", cfr2.BucketObjectUploadParams{CfR2StorageClass: cf.F(cfr2.BucketObjectUploadParamsCfR2StorageClassInfrequentAccess)})
	if err != nil || res.StorageClass != "InfrequentAccess" {
		t.Fatalf("upload with a storage class = %v, %v", res, err)
	}
	_, err = e.upload("objects", "bad", "x", cfr2.BucketObjectUploadParams{CfR2StorageClass: cf.F(cfr2.BucketObjectUploadParamsCfR2StorageClass("Glacier"))})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10062)
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("cold"), StorageClass: cf.F(cfr2.BucketNewParamsStorageClassInfrequentAccess)})
	if res, err := e.upload("cold", "k", "x", cfr2.BucketObjectUploadParams{}); err != nil || res.StorageClass != "InfrequentAccess" {
		t.Fatalf("upload into an InfrequentAccess bucket = %v, %v", res, err)
	}

	// Overwrite, delete, not found.
	if _, err := e.upload("objects", "a.txt", "alpha-2", cfr2.BucketObjectUploadParams{}); err != nil {
		t.Fatal(err)
	}
	del, err := e.r2.Buckets.Objects.Delete(e.ctx, "objects", url.PathEscape("dir/sub/with space"), cfr2.BucketObjectDeleteParams{AccountID: acct})
	if err != nil || !strings.Contains(del.JSON.RawJSON(), `"key":"dir/sub/with space"`) {
		t.Fatalf("delete = %v, %v", del, err)
	}
	_, err = e.r2.Buckets.Objects.Get(e.ctx, "objects", url.PathEscape("dir/sub/with space"), cfr2.BucketObjectGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10007)
	if _, err := e.r2.Buckets.Objects.Delete(e.ctx, "objects", "never", cfr2.BucketObjectDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("deleting an absent object: %v", err)
	}

	// Object endpoints of a missing bucket.
	_, err = e.upload("missing", "k", "v", cfr2.BucketObjectUploadParams{})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.r2.Buckets.Objects.Get(e.ctx, "missing", "k", cfr2.BucketObjectGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.r2.Buckets.Objects.Delete(e.ctx, "missing", "k", cfr2.BucketObjectDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)
	_, err = e.r2.Buckets.Objects.List(e.ctx, "missing", cfr2.BucketObjectListParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10006)

	// The neighbouring bucket kept its own object only.
	if objs := e.listObjects("objects-2", cfr2.BucketObjectListParams{}); len(objs) != 1 || objs[0].Key != "zzz" {
		t.Fatalf("objects-2 = %+v", objs)
	}
}

// Object keys with "/" work on the object endpoints whether the "/" is escaped or not, as
// clients send both (the SDK does not escape path parameters).
func TestR2NestedObjectKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	e.mustCreateBucket(cfr2.BucketNewParams{Name: cf.F("nested")})
	for _, key := range []string{"a/b/c.txt", "deep/er/still/x.json", "trailing/"} {
		// Unescaped, as the SDK sends a key it is given as is.
		res, err := e.r2.Buckets.Objects.Upload(e.ctx, "nested", key, strings.NewReader("body of "+key), cfr2.BucketObjectUploadParams{AccountID: acct})
		if err != nil || res.Key != key {
			t.Fatalf("upload %q: %+v, %v", key, res, err)
		}
		if !strings.Contains(res.JSON.RawJSON(), fmt.Sprintf(`"size":"%d"`, len("body of "+key))) {
			t.Fatalf("upload result %s: size must be the string cloudflare-go's type documents", res.JSON.RawJSON())
		}
		for _, asSent := range []string{key, url.PathEscape(key)} {
			got, err := e.r2.Buckets.Objects.Get(e.ctx, "nested", asSent, cfr2.BucketObjectGetParams{AccountID: acct})
			if err != nil {
				t.Fatalf("get %q: %v", asSent, err)
			}
			body, _ := io.ReadAll(got.Body)
			_ = got.Body.Close()
			if string(body) != "body of "+key {
				t.Fatalf("get %q = %q", asSent, body)
			}
		}
	}
	listed := e.listObjects("nested", cfr2.BucketObjectListParams{})
	if len(listed) != 3 || listed[0].Key != "a/b/c.txt" || listed[0].Size != int64(len("body of a/b/c.txt")) {
		t.Fatalf("listing %+v", listed)
	}
	if _, err := e.r2.Buckets.Objects.Delete(e.ctx, "nested", "a/b/c.txt", cfr2.BucketObjectDeleteParams{AccountID: acct}); err != nil {
		t.Fatal(err)
	}
	_, err := e.r2.Buckets.Objects.Get(e.ctx, "nested", "a/b/c.txt", cfr2.BucketObjectGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10007)
	// A key longer than R2's 1,024 bytes is refused.
	_, err = e.r2.Buckets.Objects.Upload(e.ctx, "nested", strings.Repeat("k", 1025), strings.NewReader("x"), cfr2.BucketObjectUploadParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10020)
}
