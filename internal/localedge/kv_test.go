package localedge

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
	"github.com/cloudflare/cloudflare-go/v7/kv"
	"github.com/cloudflare/cloudflare-go/v7/r2"
	"github.com/cloudflare/cloudflare-go/v7/shared"
)

const routeKVNamespaces = "GET /accounts/{account_id}/storage/kv/namespaces"

func (e *ceEnv) mustCreateNamespace(title string) *kv.Namespace {
	e.t.Helper()
	n, err := e.kv.Namespaces.New(e.ctx, kv.NamespaceNewParams{AccountID: cf.F(ceAccount), Title: cf.F(title)})
	if err != nil {
		e.t.Fatalf("create namespace %q: %v", title, err)
	}
	return n
}

// putValue writes a value through the SDK, escaping the key as the reference (§1.1) requires.
func (e *ceEnv) putValue(nsID, key, value string, params kv.NamespaceValueUpdateParams) error {
	params.AccountID = cf.F(ceAccount)
	params.Value = cf.F[kv.NamespaceValueUpdateParamsValueUnion](shared.UnionString(value))
	_, err := e.kv.Namespaces.Values.Update(e.ctx, nsID, url.PathEscape(key), params)
	return err
}

func (e *ceEnv) mustPutValue(nsID, key, value string, params kv.NamespaceValueUpdateParams) {
	e.t.Helper()
	if err := e.putValue(nsID, key, value, params); err != nil {
		e.t.Fatalf("put %q: %v", key, err)
	}
}

// getValue reads a raw value; the response is returned for its headers.
func (e *ceEnv) getValue(nsID, key string) (string, *http.Response, error) {
	res, err := e.kv.Namespaces.Values.Get(e.ctx, nsID, url.PathEscape(key), kv.NamespaceValueGetParams{AccountID: cf.F(ceAccount)})
	if err != nil {
		return "", nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return string(b), res, err
}

// listKeys pages through every key with the SDK's cursor auto-pager.
func (e *ceEnv) listKeys(nsID string, params kv.NamespaceKeyListParams) []kv.Key {
	e.t.Helper()
	params.AccountID = cf.F(ceAccount)
	var out []kv.Key
	pager := e.kv.Namespaces.Keys.ListAutoPaging(e.ctx, nsID, params)
	for pager.Next() {
		out = append(out, pager.Current())
	}
	if err := pager.Err(); err != nil {
		e.t.Fatalf("list keys: %v", err)
	}
	return out
}

func keyNames(keys []kv.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Name
	}
	return out
}

func TestKVNamespaceLifecycle(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	acct := cf.F(ceAccount)

	n := e.mustCreateNamespace("sessions")
	if !ceHexID.MatchString(n.ID) || n.Title != "sessions" || !n.SupportsURLEncoding {
		t.Fatalf("created namespace = %+v", n)
	}
	if raw := n.JSON.RawJSON(); !strings.Contains(raw, `"supports_url_encoding":true`) {
		t.Fatalf("namespace JSON %s lacks supports_url_encoding", raw)
	}

	got, err := e.kv.Namespaces.Get(e.ctx, n.ID, kv.NamespaceGetParams{AccountID: acct})
	if err != nil || got.ID != n.ID || got.Title != "sessions" {
		t.Fatalf("get = %+v, %v", got, err)
	}

	renamed, err := e.kv.Namespaces.Update(e.ctx, n.ID, kv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("sessions-v2")})
	if err != nil || renamed.ID != n.ID || renamed.Title != "sessions-v2" {
		t.Fatalf("rename = %+v, %v", renamed, err)
	}
	// Renaming to its own title is not a conflict.
	if _, err := e.kv.Namespaces.Update(e.ctx, n.ID, kv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("sessions-v2")}); err != nil {
		t.Fatalf("rename to the same title: %v", err)
	}
	got, err = e.kv.Namespaces.Get(e.ctx, n.ID, kv.NamespaceGetParams{AccountID: acct})
	if err != nil || got.Title != "sessions-v2" {
		t.Fatalf("get after rename = %+v, %v", got, err)
	}

	// Deleting a namespace removes its values too.
	e.mustPutValue(n.ID, "k", "v", kv.NamespaceValueUpdateParams{})
	if _, err := e.kv.Namespaces.Delete(e.ctx, n.ID, kv.NamespaceDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = e.kv.Namespaces.Get(e.ctx, n.ID, kv.NamespaceGetParams{AccountID: acct})
	wantAPIError(t, err, http.StatusNotFound, 10013)
	left := 0
	if err := e.srv.Store().View(func(tx *Tx) error {
		return tx.Each(bucketKVValues, n.ID+"/", "", func(string, []byte) (bool, error) { left++; return true, nil })
	}); err != nil {
		t.Fatal(err)
	}
	if left != 0 {
		t.Fatalf("%d values of the deleted namespace are still stored", left)
	}

	// Not found on every namespace-scoped endpoint.
	missing := "ffffffffffffffffffffffffffffffff"
	_, err = e.kv.Namespaces.Update(e.ctx, missing, kv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("x")})
	wantAPIError(t, err, http.StatusNotFound, 10013)
	_, err = e.kv.Namespaces.Delete(e.ctx, missing, kv.NamespaceDeleteParams{AccountID: acct})
	wantAPIError(t, err, http.StatusNotFound, 10013)
	err = e.putValue(missing, "k", "v", kv.NamespaceValueUpdateParams{})
	wantAPIError(t, err, http.StatusNotFound, 10013)
	_, _, err = e.getValue(missing, "k")
	wantAPIError(t, err, http.StatusNotFound, 10013)
	_, err = e.kv.Namespaces.Keys.List(e.ctx, missing, kv.NamespaceKeyListParams{AccountID: acct})
	wantAPIError(t, err, http.StatusNotFound, 10013)
	_, err = e.kv.Namespaces.Metadata.Get(e.ctx, missing, "k", kv.NamespaceMetadataGetParams{AccountID: acct})
	wantAPIError(t, err, http.StatusNotFound, 10013)
	_, err = e.kv.Namespaces.BulkDelete(e.ctx, missing, kv.NamespaceBulkDeleteParams{AccountID: acct, Body: []string{"k"}})
	wantAPIError(t, err, http.StatusNotFound, 10013)
}

func TestKVNamespaceValidation(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	acct := cf.F(ceAccount)
	create := func(title string) error {
		_, err := e.kv.Namespaces.New(e.ctx, kv.NamespaceNewParams{AccountID: acct, Title: cf.F(title)})
		return err
	}
	for _, title := range []string{"", "   ", strings.Repeat("t", kvMaxTitleLength+1)} {
		wantAPIError(t, create(title), http.StatusBadRequest, 10019)
	}
	if err := create(strings.Repeat("é", kvMaxTitleLength)); err != nil {
		t.Fatalf("a %d-character title must be accepted: %v", kvMaxTitleLength, err)
	}

	a := e.mustCreateNamespace("alpha")
	e.mustCreateNamespace("beta")
	wantAPIError(t, create("alpha"), http.StatusBadRequest, 10014)
	_, err := e.kv.Namespaces.Update(e.ctx, a.ID, kv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("beta")})
	wantAPIError(t, err, http.StatusBadRequest, 10014)
	_, err = e.kv.Namespaces.Update(e.ctx, a.ID, kv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("")})
	wantAPIError(t, err, http.StatusBadRequest, 10019)

	// A malformed body is 10026.
	status, _, body := e.rawDo(http.MethodPost, "/accounts/"+ceAccount+"/storage/kv/namespaces", http.Header{"Content-Type": {"application/json"}}, strings.NewReader("{"))
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"code":10026`) {
		t.Fatalf("malformed body: %d %s", status, body)
	}
}

func TestKVNamespaceListPagination(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	want := map[string]string{}
	for i := range 12 {
		n := e.mustCreateNamespace(fmt.Sprintf("ns-%02d", i))
		want[n.ID] = n.Title
	}

	e.srv.ResetRequestCounts()
	pager := e.kv.Namespaces.ListAutoPaging(e.ctx, kv.NamespaceListParams{AccountID: cf.F(ceAccount), PerPage: cf.F(5.0)})
	got := map[string]string{}
	var ids []string
	for pager.Next() {
		n := pager.Current()
		if _, dup := got[n.ID]; dup {
			t.Fatalf("namespace %s listed twice", n.ID)
		}
		got[n.ID] = n.Title
		ids = append(ids, n.ID)
	}
	if err := pager.Err(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	if !sort.StringsAreSorted(ids) {
		t.Fatalf("default order is by id: %v", ids)
	}
	// Pages of 5, 5, 2, then the empty page that stops the auto-pager.
	if n := e.srv.RequestCount(routeKVNamespaces); n != 4 {
		t.Fatalf("auto-pager made %d list requests, want 4\n%s", n, e.srv.FormatRequestCounts())
	}

	page, err := e.kv.Namespaces.List(e.ctx, kv.NamespaceListParams{AccountID: cf.F(ceAccount), PerPage: cf.F(5.0), Page: cf.F(3.0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Result) != 2 || page.ResultInfo.Page != 3 || page.ResultInfo.PerPage != 5 {
		t.Fatalf("page 3 = %d items, result_info %+v", len(page.Result), page.ResultInfo)
	}
	if raw := page.ResultInfo.JSON.RawJSON(); !strings.Contains(raw, `"total_count":12`) || !strings.Contains(raw, `"count":2`) {
		t.Fatalf("page 3 result_info = %s", raw)
	}
	past, err := e.kv.Namespaces.List(e.ctx, kv.NamespaceListParams{AccountID: cf.F(ceAccount), PerPage: cf.F(5.0), Page: cf.F(9.0)})
	if err != nil || len(past.Result) != 0 || !strings.Contains(past.JSON.RawJSON(), `"result":[]`) {
		t.Fatalf("past the end = %v, %v", past, err)
	}

	desc, err := e.kv.Namespaces.List(e.ctx, kv.NamespaceListParams{
		AccountID: cf.F(ceAccount), PerPage: cf.F(3.0),
		Order: cf.F(kv.NamespaceListParamsOrderTitle), Direction: cf.F(kv.NamespaceListParamsDirectionDesc),
	})
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, n := range desc.Result {
		titles = append(titles, n.Title)
	}
	if !reflect.DeepEqual(titles, []string{"ns-11", "ns-10", "ns-09"}) {
		t.Fatalf("title desc = %v", titles)
	}

	_, err = e.kv.Namespaces.List(e.ctx, kv.NamespaceListParams{AccountID: cf.F(ceAccount), PerPage: cf.F(0.0)})
	wantAPIError(t, err, http.StatusBadRequest, 10001)
}

func TestKVValuesRoundTrip(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	acct := cf.F(ceAccount)
	n := e.mustCreateNamespace("values")

	values := map[string]string{
		"plain":                  "hello",
		"dir/sub/key":            "slashes",
		"with space":             "spaces",
		"a/b c?d#e%f&g=h+i":      "specials",
		"ключ":                   "unicode",
		strings.Repeat("k", 512): "longest key",
	}
	for k, v := range values {
		e.mustPutValue(n.ID, k, v, kv.NamespaceValueUpdateParams{})
	}
	for k, v := range values {
		got, res, err := e.getValue(n.ID, k)
		if err != nil || got != v {
			t.Fatalf("get %q = %q, %v; want %q", k, got, err, v)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Fatalf("value content type = %q", ct)
		}
		if exp := res.Header.Get("Expiration"); exp != "" {
			t.Fatalf("a key without expiration has Expiration header %q", exp)
		}
	}
	names := keyNames(e.listKeys(n.ID, kv.NamespaceKeyListParams{}))
	var want []string
	for k := range values {
		want = append(want, k)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("keys = %q, want %q", names, want)
	}

	// Overwrite, binary value.
	e.mustPutValue(n.ID, "plain", "\x00\xffbinary", kv.NamespaceValueUpdateParams{})
	if got, _, err := e.getValue(n.ID, "plain"); err != nil || got != "\x00\xffbinary" {
		t.Fatalf("overwritten value = %q, %v", got, err)
	}

	// Delete, then not found with 10009; deleting again is not an error.
	for _, k := range []string{"dir/sub/key", "with space"} {
		if _, err := e.kv.Namespaces.Values.Delete(e.ctx, n.ID, url.PathEscape(k), kv.NamespaceValueDeleteParams{AccountID: acct}); err != nil {
			t.Fatalf("delete %q: %v", k, err)
		}
		_, _, err := e.getValue(n.ID, k)
		wantAPIError(t, err, http.StatusNotFound, 10009)
		_, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, url.PathEscape(k), kv.NamespaceMetadataGetParams{AccountID: acct})
		wantAPIError(t, err, http.StatusNotFound, 10009)
	}
	if _, err := e.kv.Namespaces.Values.Delete(e.ctx, n.ID, "never-written", kv.NamespaceValueDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
	// Unescaped, the slash splits the path: the SDK inserts parameters as they are, and the
	// local edge has no route for that.
	e.mustPutValue(n.ID, "x/y", "v", kv.NamespaceValueUpdateParams{})
	_, err := e.kv.Namespaces.Values.Get(e.ctx, n.ID, "x/y", kv.NamespaceValueGetParams{AccountID: acct})
	wantAPIError(t, err, http.StatusBadRequest, 7000)

	// The raw (non-multipart) value body the real API also accepts.
	status, _, body := e.rawDo(http.MethodPut, ceNSPath(n.ID)+"/values/raw", http.Header{"Content-Type": {"application/octet-stream"}}, strings.NewReader("raw body"))
	if status != http.StatusOK {
		t.Fatalf("raw put: %d %s", status, body)
	}
	if got, _, err := e.getValue(n.ID, "raw"); err != nil || got != "raw body" {
		t.Fatalf("raw value = %q, %v", got, err)
	}
}

func TestKVValueValidation(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	n := e.mustCreateNamespace("validation")
	now := e.clock.Now().Unix()

	err := e.putValue(n.ID, strings.Repeat("k", 513), "v", kv.NamespaceValueUpdateParams{})
	wantAPIError(t, err, http.StatusRequestURITooLong, 10033)
	// The limit is in UTF-8 bytes: 257 two-byte runes are 514 bytes.
	err = e.putValue(n.ID, strings.Repeat("é", 257), "v", kv.NamespaceValueUpdateParams{})
	wantAPIError(t, err, http.StatusRequestURITooLong, 10033)

	err = e.putValue(n.ID, "ttl", "v", kv.NamespaceValueUpdateParams{ExpirationTTL: cf.F(59.0)})
	wantAPIError(t, err, http.StatusBadRequest, 10033)
	err = e.putValue(n.ID, "exp", "v", kv.NamespaceValueUpdateParams{Expiration: cf.F(float64(now + 30))})
	wantAPIError(t, err, http.StatusBadRequest, 10033)
	err = e.putValue(n.ID, "exp", "v", kv.NamespaceValueUpdateParams{Expiration: cf.F(float64(now - 3600))})
	wantAPIError(t, err, http.StatusBadRequest, 10033)

	big := `{"k":"` + strings.Repeat("m", kvMaxMetadataBytes) + `"}`
	err = e.putValue(n.ID, "meta", "v", kv.NamespaceValueUpdateParams{Metadata: cf.F[any](big)})
	wantAPIError(t, err, http.StatusRequestEntityTooLarge, 10033)
	err = e.putValue(n.ID, "meta", "v", kv.NamespaceValueUpdateParams{Metadata: cf.F[any]("{not json")})
	wantAPIError(t, err, http.StatusBadRequest, 10026)
	exact := `{"k":"` + strings.Repeat("m", kvMaxMetadataBytes-8) + `"}`
	if len(exact) != kvMaxMetadataBytes {
		t.Fatalf("test setup: metadata of %d bytes", len(exact))
	}
	if err := e.putValue(n.ID, "meta", "v", kv.NamespaceValueUpdateParams{Metadata: cf.F[any](exact)}); err != nil {
		t.Fatalf("metadata of exactly %d bytes must be accepted: %v", kvMaxMetadataBytes, err)
	}

	// Nothing rejected was stored.
	if names := keyNames(e.listKeys(n.ID, kv.NamespaceKeyListParams{})); !reflect.DeepEqual(names, []string{"meta"}) {
		t.Fatalf("keys after rejected writes = %q", names)
	}

	// Bad query parameters of the listing.
	_, err = e.kv.Namespaces.Keys.List(e.ctx, n.ID, kv.NamespaceKeyListParams{AccountID: cf.F(ceAccount), Limit: cf.F(9.0)})
	wantAPIError(t, err, http.StatusBadRequest, 10001)
	_, err = e.kv.Namespaces.Keys.List(e.ctx, n.ID, kv.NamespaceKeyListParams{AccountID: cf.F(ceAccount), Limit: cf.F(1001.0)})
	wantAPIError(t, err, http.StatusBadRequest, 10001)
	_, err = e.kv.Namespaces.Keys.List(e.ctx, n.ID, kv.NamespaceKeyListParams{AccountID: cf.F(ceAccount), Cursor: cf.F("!!not base64!!")})
	wantAPIError(t, err, http.StatusBadRequest, 10001)
}

func TestKVMetadataAsJSONString(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	acct := cf.F(ceAccount)
	n := e.mustCreateNamespace("metadata")

	const meta = `{"owner":"team-a","n":1,"nested":{"list":[1,"two",null],"ok":true}}`
	e.mustPutValue(n.ID, "dir/with meta", "v", kv.NamespaceValueUpdateParams{Metadata: cf.F[any](meta)})
	e.mustPutValue(n.ID, "without", "v", kv.NamespaceValueUpdateParams{})
	var want any
	if err := json.Unmarshal([]byte(meta), &want); err != nil {
		t.Fatal(err)
	}

	keys := e.listKeys(n.ID, kv.NamespaceKeyListParams{})
	if len(keys) != 2 || keys[0].Name != "dir/with meta" || keys[1].Name != "without" {
		t.Fatalf("keys = %q", keyNames(keys))
	}
	if !reflect.DeepEqual(keys[0].Metadata, want) {
		t.Fatalf("listed metadata = %#v, want %#v", keys[0].Metadata, want)
	}
	if raw := keys[0].JSON.Metadata.Raw(); !jsonEqual(t, raw, meta) {
		t.Fatalf("listed metadata JSON = %s", raw)
	}
	if keys[1].Metadata != nil || strings.Contains(keys[1].JSON.RawJSON(), "metadata") {
		t.Fatalf("a key without metadata lists %s", keys[1].JSON.RawJSON())
	}

	got, err := e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, url.PathEscape("dir/with meta"), kv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("metadata GET = %#v, %v", got, err)
	}
	got, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, "without", kv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || got == nil || *got != nil {
		t.Fatalf("metadata GET of a key without metadata = %#v, %v", got, err)
	}

	// A Go map is flattened by the SDK into metadata.<k> fields; the local edge rebuilds the
	// object (with string values, as form fields are strings).
	e.mustPutValue(n.ID, "flat", "v", kv.NamespaceValueUpdateParams{Metadata: cf.F[any](map[string]any{"a": "x", "b": "y"})})
	got, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, "flat", kv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || !reflect.DeepEqual(*got, map[string]any{"a": "x", "b": "y"}) {
		t.Fatalf("flattened metadata = %#v, %v", got, err)
	}

	// Overwriting without metadata drops it.
	e.mustPutValue(n.ID, "dir/with meta", "v2", kv.NamespaceValueUpdateParams{})
	got, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, url.PathEscape("dir/with meta"), kv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || *got != nil {
		t.Fatalf("metadata after an overwrite without metadata = %#v, %v", got, err)
	}
}

func jsonEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		return false
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestKVKeysListPagination(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	n := e.mustCreateNamespace("keys")
	other := e.mustCreateNamespace("other")
	e.mustPutValue(other.ID, "key-00", "must not leak", kv.NamespaceValueUpdateParams{})

	var want []string
	for i := range 25 {
		var k string
		switch i % 3 {
		case 0:
			k = fmt.Sprintf("key-%02d", i)
		case 1:
			k = fmt.Sprintf("dir/sub/key-%02d", i)
		default:
			k = fmt.Sprintf("with space %02d", i)
		}
		want = append(want, k)
		e.mustPutValue(n.ID, k, "v"+strconv.Itoa(i), kv.NamespaceValueUpdateParams{})
	}
	sort.Strings(want)

	e.srv.ResetRequestCounts()
	got := keyNames(e.listKeys(n.ID, kv.NamespaceKeyListParams{Limit: cf.F(10.0)}))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %q\nwant %q", got, want)
	}
	// 10 + 10 + 5: the last page has an empty cursor, which stops the pager.
	if c := e.srv.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/keys"); c != 3 {
		t.Fatalf("%d key list requests, want 3\n%s", c, e.srv.FormatRequestCounts())
	}

	first, err := e.kv.Namespaces.Keys.List(e.ctx, n.ID, kv.NamespaceKeyListParams{AccountID: cf.F(ceAccount), Limit: cf.F(10.0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Result) != 10 || first.ResultInfo.Cursor == "" || first.ResultInfo.Count != 10 {
		t.Fatalf("first page: %d keys, result_info %s", len(first.Result), first.ResultInfo.JSON.RawJSON())
	}
	all, err := e.kv.Namespaces.Keys.List(e.ctx, n.ID, kv.NamespaceKeyListParams{AccountID: cf.F(ceAccount)})
	if err != nil || len(all.Result) != 25 || all.ResultInfo.Cursor != "" {
		t.Fatalf("default limit: %d keys, cursor %q, %v", len(all.Result), all.ResultInfo.Cursor, err)
	}

	// Prefix, including one with a slash and one with a space, paged too.
	got = keyNames(e.listKeys(n.ID, kv.NamespaceKeyListParams{Prefix: cf.F("dir/sub/"), Limit: cf.F(10.0)}))
	var wantDir, wantSpace []string
	for _, k := range want {
		if strings.HasPrefix(k, "dir/sub/") {
			wantDir = append(wantDir, k)
		}
		if strings.HasPrefix(k, "with space") {
			wantSpace = append(wantSpace, k)
		}
	}
	if !reflect.DeepEqual(got, wantDir) {
		t.Fatalf("prefix dir/sub/ = %q, want %q", got, wantDir)
	}
	if got := keyNames(e.listKeys(n.ID, kv.NamespaceKeyListParams{Prefix: cf.F("with space")})); !reflect.DeepEqual(got, wantSpace) {
		t.Fatalf("prefix 'with space' = %q, want %q", got, wantSpace)
	}
	if got := e.listKeys(n.ID, kv.NamespaceKeyListParams{Prefix: cf.F("nothing")}); len(got) != 0 {
		t.Fatalf("prefix nothing = %q", keyNames(got))
	}
	// Exactly limit keys: no cursor.
	if got := e.listKeys(other.ID, kv.NamespaceKeyListParams{Limit: cf.F(10.0)}); len(got) != 1 {
		t.Fatalf("other namespace keys = %q", keyNames(got))
	}
}

func TestKVExpiration(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	acct := cf.F(ceAccount)
	n := e.mustCreateNamespace("expiring")
	start := e.clock.Now().Unix()

	e.mustPutValue(n.ID, "ttl", "a", kv.NamespaceValueUpdateParams{ExpirationTTL: cf.F(60.0)})
	e.mustPutValue(n.ID, "abs", "b", kv.NamespaceValueUpdateParams{Expiration: cf.F(float64(start + 300))})
	// When both are given, the TTL wins.
	e.mustPutValue(n.ID, "both", "c", kv.NamespaceValueUpdateParams{Expiration: cf.F(float64(start + 300)), ExpirationTTL: cf.F(120.0)})
	e.mustPutValue(n.ID, "forever", "d", kv.NamespaceValueUpdateParams{})

	wantExp := map[string]int64{"ttl": start + 60, "abs": start + 300, "both": start + 120}
	for k, exp := range wantExp {
		_, res, err := e.getValue(n.ID, k)
		if err != nil {
			t.Fatal(err)
		}
		if h := res.Header.Get("Expiration"); h != strconv.FormatInt(exp, 10) {
			t.Fatalf("%s: Expiration header %q, want %d", k, h, exp)
		}
	}
	for _, k := range e.listKeys(n.ID, kv.NamespaceKeyListParams{}) {
		if int64(k.Expiration) != wantExp[k.Name] {
			t.Fatalf("%s: listed expiration %v, want %d", k.Name, k.Expiration, wantExp[k.Name])
		}
		if _, ok := wantExp[k.Name]; !ok && strings.Contains(k.JSON.RawJSON(), "expiration") {
			t.Fatalf("%s: a key without expiration lists %s", k.Name, k.JSON.RawJSON())
		}
	}

	// At the expiration second the key is gone.
	e.clock.Advance(60 * time.Second)
	_, _, err := e.getValue(n.ID, "ttl")
	wantAPIError(t, err, http.StatusNotFound, 10009)
	_, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, "ttl", kv.NamespaceMetadataGetParams{AccountID: acct})
	wantAPIError(t, err, http.StatusNotFound, 10009)
	if got := keyNames(e.listKeys(n.ID, kv.NamespaceKeyListParams{})); !reflect.DeepEqual(got, []string{"abs", "both", "forever"}) {
		t.Fatalf("keys after 60s = %q", got)
	}
	bulk, err := e.kv.Namespaces.BulkGet(e.ctx, n.ID, kv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"ttl", "abs"})})
	if err != nil {
		t.Fatal(err)
	}
	if raw := bulk.JSON.RawJSON(); !jsonEqual(t, raw, `{"values":{"ttl":null,"abs":"b"}}`) {
		t.Fatalf("bulk get after expiry = %s", raw)
	}

	e.clock.Advance(300 * time.Second)
	if got := keyNames(e.listKeys(n.ID, kv.NamespaceKeyListParams{})); !reflect.DeepEqual(got, []string{"forever"}) {
		t.Fatalf("keys after 360s = %q", got)
	}

	// Expired keys do not count towards a page, and do not produce a dangling cursor.
	var items []kv.NamespaceBulkUpdateParamsBody
	for i := range 15 {
		items = append(items, kv.NamespaceBulkUpdateParamsBody{Key: cf.F(fmt.Sprintf("short-%02d", i)), Value: cf.F("x"), ExpirationTTL: cf.F(60.0)})
	}
	if _, err := e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, kv.NamespaceBulkUpdateParams{AccountID: acct, Body: items}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(61 * time.Second)
	page, err := e.kv.Namespaces.Keys.List(e.ctx, n.ID, kv.NamespaceKeyListParams{AccountID: acct, Limit: cf.F(10.0)})
	if err != nil || len(page.Result) != 1 || page.ResultInfo.Cursor != "" {
		t.Fatalf("page over expired keys: %s, %v", page.JSON.RawJSON(), err)
	}
	// A key can be written again after it expired.
	e.mustPutValue(n.ID, "ttl", "again", kv.NamespaceValueUpdateParams{})
	if got, _, err := e.getValue(n.ID, "ttl"); err != nil || got != "again" {
		t.Fatalf("rewritten expired key = %q, %v", got, err)
	}
}

func TestKVBulk(t *testing.T) {
	t.Parallel()
	e := newCEEnv(t)
	acct := cf.F(ceAccount)
	n := e.mustCreateNamespace("bulk")
	start := e.clock.Now().Unix()

	items := []kv.NamespaceBulkUpdateParamsBody{
		{Key: cf.F("text"), Value: cf.F("hello")},
		{Key: cf.F("dir/b64 key"), Value: cf.F(base64.StdEncoding.EncodeToString([]byte("\x00bin"))), Base64: cf.F(true)},
		{Key: cf.F("json"), Value: cf.F(`{"a":[1,2]}`), Metadata: cf.F[any](map[string]any{"m": 1.0}), ExpirationTTL: cf.F(600.0)},
	}
	res, err := e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, kv.NamespaceBulkUpdateParams{AccountID: acct, Body: items})
	if err != nil {
		t.Fatal(err)
	}
	if res.SuccessfulKeyCount != 3 || res.UnsuccessfulKeys == nil || len(res.UnsuccessfulKeys) != 0 {
		t.Fatalf("bulk write result = %s", res.JSON.RawJSON())
	}
	if got, _, err := e.getValue(n.ID, "dir/b64 key"); err != nil || got != "\x00bin" {
		t.Fatalf("base64 value = %q, %v", got, err)
	}
	keys := e.listKeys(n.ID, kv.NamespaceKeyListParams{})
	if len(keys) != 3 || keys[1].Name != "json" || int64(keys[1].Expiration) != start+600 || !reflect.DeepEqual(keys[1].Metadata, map[string]any{"m": 1.0}) {
		t.Fatalf("listed keys = %+v", keys)
	}

	get, err := e.kv.Namespaces.BulkGet(e.ctx, n.ID, kv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"text", "json", "missing"})})
	if err != nil {
		t.Fatal(err)
	}
	if raw := get.JSON.RawJSON(); !jsonEqual(t, raw, `{"values":{"text":"hello","json":"{\"a\":[1,2]}","missing":null}}`) {
		t.Fatalf("bulk get text = %s", raw)
	}
	get, err = e.kv.Namespaces.BulkGet(e.ctx, n.ID, kv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"json"}), Type: cf.F(kv.NamespaceBulkGetParamsTypeJson)})
	if err != nil || !jsonEqual(t, get.JSON.RawJSON(), `{"values":{"json":{"a":[1,2]}}}`) {
		t.Fatalf("bulk get json = %s, %v", get.JSON.RawJSON(), err)
	}
	_, err = e.kv.Namespaces.BulkGet(e.ctx, n.ID, kv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"text"}), Type: cf.F(kv.NamespaceBulkGetParamsTypeJson)})
	wantAPIError(t, err, http.StatusBadRequest, 10001)
	get, err = e.kv.Namespaces.BulkGet(e.ctx, n.ID, kv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"json", "text"}), WithMetadata: cf.F(true)})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"values":{"json":{"value":"{\"a\":[1,2]}","metadata":{"m":1},"expiration":%d},"text":{"value":"hello","metadata":null}}}`, start+600)
	if !jsonEqual(t, get.JSON.RawJSON(), want) {
		t.Fatalf("bulk get with metadata = %s\nwant %s", get.JSON.RawJSON(), want)
	}
	tooMany := make([]string, kvMaxBulkGetKeys+1)
	for i := range tooMany {
		tooMany[i] = strconv.Itoa(i)
	}
	_, err = e.kv.Namespaces.BulkGet(e.ctx, n.ID, kv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F(tooMany)})
	wantAPIError(t, err, http.StatusBadRequest, 10001)

	// A bulk write with one invalid item writes nothing.
	_, err = e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, kv.NamespaceBulkUpdateParams{AccountID: acct, Body: []kv.NamespaceBulkUpdateParamsBody{
		{Key: cf.F("fine"), Value: cf.F("x")},
		{Key: cf.F("bad-ttl"), Value: cf.F("x"), ExpirationTTL: cf.F(10.0)},
	}})
	wantAPIError(t, err, http.StatusBadRequest, 10033)
	_, err = e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, kv.NamespaceBulkUpdateParams{AccountID: acct, Body: []kv.NamespaceBulkUpdateParamsBody{
		{Key: cf.F("fine"), Value: cf.F("x")},
		{Key: cf.F(strings.Repeat("k", 513)), Value: cf.F("x")},
	}})
	wantAPIError(t, err, http.StatusRequestURITooLong, 10033)
	_, err = e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, kv.NamespaceBulkUpdateParams{AccountID: acct, Body: []kv.NamespaceBulkUpdateParamsBody{
		{Key: cf.F("fine"), Value: cf.F("not base64!"), Base64: cf.F(true)},
	}})
	wantAPIError(t, err, http.StatusBadRequest, 10001)
	if _, _, err := e.getValue(n.ID, "fine"); err == nil {
		t.Fatal("a rejected bulk write stored a key")
	}

	// Bulk delete through both SDK entry points, with an absent key among them.
	del, err := e.kv.Namespaces.BulkDelete(e.ctx, n.ID, kv.NamespaceBulkDeleteParams{AccountID: acct, Body: []string{"text", "absent"}})
	if err != nil || del.SuccessfulKeyCount != 2 {
		t.Fatalf("bulk delete = %v, %v", del, err)
	}
	if _, err := e.kv.Namespaces.Keys.BulkDelete( //nolint:staticcheck // deprecated in the SDK, still served by the API
		e.ctx, n.ID, kv.NamespaceKeyBulkDeleteParams{AccountID: acct, Body: []string{"dir/b64 key"}}); err != nil {
		t.Fatal(err)
	}
	if got := keyNames(e.listKeys(n.ID, kv.NamespaceKeyListParams{})); !reflect.DeepEqual(got, []string{"json"}) {
		t.Fatalf("keys after bulk delete = %q", got)
	}
	// The legacy DELETE .../bulk with an array body.
	status, _, body := e.rawDo(http.MethodDelete, ceNSPath(n.ID)+"/bulk", http.Header{"Content-Type": {"application/json"}}, strings.NewReader(`["json"]`))
	if status != http.StatusOK || !strings.Contains(string(body), `"successful_key_count":1`) {
		t.Fatalf("legacy bulk delete: %d %s", status, body)
	}
	if got := e.listKeys(n.ID, kv.NamespaceKeyListParams{}); len(got) != 0 {
		t.Fatalf("keys after legacy bulk delete = %q", keyNames(got))
	}

	// Batch limits of 10 000.
	over := make([]string, kvMaxBulkWriteItems+1)
	for i := range over {
		over[i] = strconv.Itoa(i)
	}
	_, err = e.kv.Namespaces.BulkDelete(e.ctx, n.ID, kv.NamespaceBulkDeleteParams{AccountID: acct, Body: over})
	wantAPIError(t, err, http.StatusRequestEntityTooLarge, 10001)
	if _, err := e.kv.Namespaces.BulkDelete(e.ctx, n.ID, kv.NamespaceBulkDeleteParams{AccountID: acct, Body: over[:kvMaxBulkWriteItems]}); err != nil {
		t.Fatalf("a bulk delete of %d keys: %v", kvMaxBulkWriteItems, err)
	}
}

// TestEdgePersistence writes KV and R2 state through one server, closes it, and reads
// everything back through a new server on the same data directory.
func TestEdgePersistence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	withDir := func(c *Config) { c.DataDir = dir }

	e1 := newCEEnv(t, withDir)
	// A second server on a data directory in use fails (after bbolt's 1 s lock timeout).
	if _, err := New(Config{AccountID: ceAccount, Token: ceToken, DataDir: dir}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server on the same data directory: %v", err)
	}

	acct := cf.F(ceAccount)
	n := e1.mustCreateNamespace("persisted")
	const meta = `{"owner":"team-a"}`
	e1.mustPutValue(n.ID, "dir/a key", "value-1", kv.NamespaceValueUpdateParams{Metadata: cf.F[any](meta)})
	e1.mustPutValue(n.ID, "ttl", "value-2", kv.NamespaceValueUpdateParams{ExpirationTTL: cf.F(3600.0)})
	exp := e1.clock.Now().Unix() + 3600
	if _, err := e1.r2.Buckets.New(e1.ctx, r2.BucketNewParams{
		AccountID: acct, Name: cf.F("persisted-bucket"), LocationHint: cf.F(r2.BucketNewParamsLocationHintWeur),
		Jurisdiction: cf.F(r2.BucketNewParamsCfR2JurisdictionEu),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e1.r2.Buckets.Objects.Upload(e1.ctx, "persisted-bucket", url.PathEscape("img/logo.png"), strings.NewReader("PNG"), r2.BucketObjectUploadParams{
		AccountID: acct, Jurisdiction: cf.F(r2.BucketObjectUploadParamsCfR2JurisdictionEu),
	}); err != nil {
		t.Fatal(err)
	}
	e1.ts.Close()
	if err := e1.srv.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := newCEEnv(t, withDir)
	got, err := e2.kv.Namespaces.Get(e2.ctx, n.ID, kv.NamespaceGetParams{AccountID: acct})
	if err != nil || got.Title != "persisted" {
		t.Fatalf("namespace after restart = %+v, %v", got, err)
	}
	if v, _, err := e2.getValue(n.ID, "dir/a key"); err != nil || v != "value-1" {
		t.Fatalf("value after restart = %q, %v", v, err)
	}
	md, err := e2.kv.Namespaces.Metadata.Get(e2.ctx, n.ID, url.PathEscape("dir/a key"), kv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || !reflect.DeepEqual(*md, map[string]any{"owner": "team-a"}) {
		t.Fatalf("metadata after restart = %#v, %v", md, err)
	}
	keys := e2.listKeys(n.ID, kv.NamespaceKeyListParams{})
	if len(keys) != 2 || keys[1].Name != "ttl" || int64(keys[1].Expiration) != exp {
		t.Fatalf("keys after restart = %+v", keys)
	}
	b, err := e2.r2.Buckets.Get(e2.ctx, "persisted-bucket", r2.BucketGetParams{AccountID: acct, Jurisdiction: cf.F(r2.BucketGetParamsCfR2JurisdictionEu)})
	if err != nil || b.Location != "WEUR" || b.Jurisdiction != "eu" {
		t.Fatalf("bucket after restart = %+v, %v", b, err)
	}
	res, err := e2.r2.Buckets.Objects.Get(e2.ctx, "persisted-bucket", url.PathEscape("img/logo.png"), r2.BucketObjectGetParams{
		AccountID: acct, Jurisdiction: cf.F(r2.BucketObjectGetParamsCfR2JurisdictionEu),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if body, _ := io.ReadAll(res.Body); string(body) != "PNG" {
		t.Fatalf("object after restart = %q", body)
	}
}
