package kv_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	cf "github.com/cloudflare/cloudflare-go/v7"
	cfkv "github.com/cloudflare/cloudflare-go/v7/kv"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/kv"
)

const routeKVNamespaces = "GET /accounts/{account_id}/storage/kv/namespaces"

func keyNames(keys []cfkv.Key) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.Name
	}
	return out
}

func TestKVNamespaceLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)

	n := e.kv.MustCreateNamespace("sessions")
	if !hexID.MatchString(n.ID) || n.Title != "sessions" || !n.SupportsURLEncoding {
		t.Fatalf("created namespace = %+v", n)
	}
	if raw := n.JSON.RawJSON(); !strings.Contains(raw, `"supports_url_encoding":true`) {
		t.Fatalf("namespace JSON %s lacks supports_url_encoding", raw)
	}

	got, err := e.kv.Namespaces.Get(e.ctx, n.ID, cfkv.NamespaceGetParams{AccountID: acct})
	if err != nil || got.ID != n.ID || got.Title != "sessions" {
		t.Fatalf("get = %+v, %v", got, err)
	}

	renamed, err := e.kv.Namespaces.Update(e.ctx, n.ID, cfkv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("sessions-v2")})
	if err != nil || renamed.ID != n.ID || renamed.Title != "sessions-v2" {
		t.Fatalf("rename = %+v, %v", renamed, err)
	}
	// Renaming to its own title is not a conflict.
	if _, err := e.kv.Namespaces.Update(e.ctx, n.ID, cfkv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("sessions-v2")}); err != nil {
		t.Fatalf("rename to the same title: %v", err)
	}
	got, err = e.kv.Namespaces.Get(e.ctx, n.ID, cfkv.NamespaceGetParams{AccountID: acct})
	if err != nil || got.Title != "sessions-v2" {
		t.Fatalf("get after rename = %+v, %v", got, err)
	}

	// Deleting a namespace removes its values too.
	e.kv.MustPut(n.ID, "k", "v", cfkv.NamespaceValueUpdateParams{})
	if _, err := e.kv.Namespaces.Delete(e.ctx, n.ID, cfkv.NamespaceDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = e.kv.Namespaces.Get(e.ctx, n.ID, cfkv.NamespaceGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10013)
	// Not found on every namespace-scoped endpoint.
	missing := "ffffffffffffffffffffffffffffffff"
	_, err = e.kv.Namespaces.Update(e.ctx, missing, cfkv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("x")})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10013)
	_, err = e.kv.Namespaces.Delete(e.ctx, missing, cfkv.NamespaceDeleteParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10013)
	err = e.kv.Put(missing, "k", "v", cfkv.NamespaceValueUpdateParams{})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10013)
	_, _, err = e.kv.Get(missing, "k")
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10013)
	_, err = e.kv.Namespaces.Keys.List(e.ctx, missing, cfkv.NamespaceKeyListParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10013)
	_, err = e.kv.Namespaces.Metadata.Get(e.ctx, missing, "k", cfkv.NamespaceMetadataGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10013)
	_, err = e.kv.Namespaces.BulkDelete(e.ctx, missing, cfkv.NamespaceBulkDeleteParams{AccountID: acct, Body: []string{"k"}})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10013)
}

func TestKVNamespaceValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	create := func(title string) error {
		_, err := e.kv.Namespaces.New(e.ctx, cfkv.NamespaceNewParams{AccountID: acct, Title: cf.F(title)})
		return err
	}
	for _, title := range []string{"", "   ", strings.Repeat("t", kv.MaxTitleLength+1)} {
		edgetest.WantAPIError(t, create(title), http.StatusBadRequest, 10019)
	}
	if err := create(strings.Repeat("é", kv.MaxTitleLength)); err != nil {
		t.Fatalf("a %d-character title must be accepted: %v", kv.MaxTitleLength, err)
	}

	a := e.kv.MustCreateNamespace("alpha")
	e.kv.MustCreateNamespace("beta")
	edgetest.WantAPIError(t, create("alpha"), http.StatusBadRequest, 10014)
	_, err := e.kv.Namespaces.Update(e.ctx, a.ID, cfkv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("beta")})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10014)
	_, err = e.kv.Namespaces.Update(e.ctx, a.ID, cfkv.NamespaceUpdateParams{AccountID: acct, Title: cf.F("")})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10019)

	// A malformed body is 10026.
	status, _, body := e.Raw(http.MethodPost, "/accounts/"+edgetest.AccountID+"/storage/kv/namespaces", http.Header{"Content-Type": {"application/json"}}, strings.NewReader("{"))
	if status != http.StatusBadRequest || !strings.Contains(string(body), `"code":10026`) {
		t.Fatalf("malformed body: %d %s", status, body)
	}
}

func TestKVNamespaceListPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := map[string]string{}
	for i := range 12 {
		n := e.kv.MustCreateNamespace(fmt.Sprintf("ns-%02d", i))
		want[n.ID] = n.Title
	}

	e.Server.ResetRequestCounts()
	pager := e.kv.Namespaces.ListAutoPaging(e.ctx, cfkv.NamespaceListParams{AccountID: cf.F(edgetest.AccountID), PerPage: cf.F(5.0)})
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
	if n := e.Server.RequestCount(routeKVNamespaces); n != 4 {
		t.Fatalf("auto-pager made %d list requests, want 4\n%s", n, e.Server.FormatRequestCounts())
	}

	page, err := e.kv.Namespaces.List(e.ctx, cfkv.NamespaceListParams{AccountID: cf.F(edgetest.AccountID), PerPage: cf.F(5.0), Page: cf.F(3.0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Result) != 2 || page.ResultInfo.Page != 3 || page.ResultInfo.PerPage != 5 {
		t.Fatalf("page 3 = %d items, result_info %+v", len(page.Result), page.ResultInfo)
	}
	if raw := page.ResultInfo.JSON.RawJSON(); !strings.Contains(raw, `"total_count":12`) || !strings.Contains(raw, `"count":2`) {
		t.Fatalf("page 3 result_info = %s", raw)
	}
	past, err := e.kv.Namespaces.List(e.ctx, cfkv.NamespaceListParams{AccountID: cf.F(edgetest.AccountID), PerPage: cf.F(5.0), Page: cf.F(9.0)})
	if err != nil || len(past.Result) != 0 || !strings.Contains(past.JSON.RawJSON(), `"result":[]`) {
		t.Fatalf("past the end = %v, %v", past, err)
	}

	desc, err := e.kv.Namespaces.List(e.ctx, cfkv.NamespaceListParams{
		AccountID: cf.F(edgetest.AccountID), PerPage: cf.F(3.0),
		Order: cf.F(cfkv.NamespaceListParamsOrderTitle), Direction: cf.F(cfkv.NamespaceListParamsDirectionDesc),
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

	_, err = e.kv.Namespaces.List(e.ctx, cfkv.NamespaceListParams{AccountID: cf.F(edgetest.AccountID), PerPage: cf.F(0.0)})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
}

func TestKVValuesRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	n := e.kv.MustCreateNamespace("values")

	values := map[string]string{
		"plain":                  "hello",
		"dir/sub/key":            "slashes",
		"with space":             "spaces",
		"a/b c?d#e%f&g=h+i":      "specials",
		"ключ":                   "unicode",
		strings.Repeat("k", 512): "longest key",
	}
	for k, v := range values {
		e.kv.MustPut(n.ID, k, v, cfkv.NamespaceValueUpdateParams{})
	}
	for k, v := range values {
		got, res, err := e.kv.Get(n.ID, k)
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
	names := keyNames(e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{}))
	var want []string
	for k := range values {
		want = append(want, k)
	}
	sort.Strings(want)
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("keys = %q, want %q", names, want)
	}

	// Overwrite, binary value.
	e.kv.MustPut(n.ID, "plain", "\x00\xffbinary", cfkv.NamespaceValueUpdateParams{})
	if got, _, err := e.kv.Get(n.ID, "plain"); err != nil || got != "\x00\xffbinary" {
		t.Fatalf("overwritten value = %q, %v", got, err)
	}

	// Delete, then not found with 10009; deleting again is not an error.
	for _, k := range []string{"dir/sub/key", "with space"} {
		if _, err := e.kv.Namespaces.Values.Delete(e.ctx, n.ID, url.PathEscape(k), cfkv.NamespaceValueDeleteParams{AccountID: acct}); err != nil {
			t.Fatalf("delete %q: %v", k, err)
		}
		_, _, err := e.kv.Get(n.ID, k)
		edgetest.WantAPIError(t, err, http.StatusNotFound, 10009)
		_, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, url.PathEscape(k), cfkv.NamespaceMetadataGetParams{AccountID: acct})
		edgetest.WantAPIError(t, err, http.StatusNotFound, 10009)
	}
	if _, err := e.kv.Namespaces.Values.Delete(e.ctx, n.ID, "never-written", cfkv.NamespaceValueDeleteParams{AccountID: acct}); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
	// Unescaped, the slash splits the path: the SDK inserts parameters as they are, and the
	// local edge has no route for that.
	e.kv.MustPut(n.ID, "x/y", "v", cfkv.NamespaceValueUpdateParams{})
	_, err := e.kv.Namespaces.Values.Get(e.ctx, n.ID, "x/y", cfkv.NamespaceValueGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 7000)

	// The raw (non-multipart) value body the real API also accepts.
	status, _, body := e.Raw(http.MethodPut, nsPath(n.ID)+"/values/raw", http.Header{"Content-Type": {"application/octet-stream"}}, strings.NewReader("raw body"))
	if status != http.StatusOK {
		t.Fatalf("raw put: %d %s", status, body)
	}
	if got, _, err := e.kv.Get(n.ID, "raw"); err != nil || got != "raw body" {
		t.Fatalf("raw value = %q, %v", got, err)
	}
}

func TestKVValueValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	n := e.kv.MustCreateNamespace("validation")
	now := e.Clock.Now().Unix()

	err := e.kv.Put(n.ID, strings.Repeat("k", 513), "v", cfkv.NamespaceValueUpdateParams{})
	edgetest.WantAPIError(t, err, http.StatusRequestURITooLong, 10033)
	// The limit is in UTF-8 bytes: 257 two-byte runes are 514 bytes.
	err = e.kv.Put(n.ID, strings.Repeat("é", 257), "v", cfkv.NamespaceValueUpdateParams{})
	edgetest.WantAPIError(t, err, http.StatusRequestURITooLong, 10033)

	err = e.kv.Put(n.ID, "ttl", "v", cfkv.NamespaceValueUpdateParams{ExpirationTTL: cf.F(59.0)})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10033)
	err = e.kv.Put(n.ID, "exp", "v", cfkv.NamespaceValueUpdateParams{Expiration: cf.F(float64(now + 30))})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10033)
	err = e.kv.Put(n.ID, "exp", "v", cfkv.NamespaceValueUpdateParams{Expiration: cf.F(float64(now - 3600))})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10033)

	big := `{"k":"` + strings.Repeat("m", kv.MaxMetadataBytes) + `"}`
	err = e.kv.Put(n.ID, "meta", "v", cfkv.NamespaceValueUpdateParams{Metadata: cf.F[any](big)})
	edgetest.WantAPIError(t, err, http.StatusRequestEntityTooLarge, 10033)
	err = e.kv.Put(n.ID, "meta", "v", cfkv.NamespaceValueUpdateParams{Metadata: cf.F[any]("{not json")})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10026)
	exact := `{"k":"` + strings.Repeat("m", kv.MaxMetadataBytes-8) + `"}`
	if len(exact) != kv.MaxMetadataBytes {
		t.Fatalf("test setup: metadata of %d bytes", len(exact))
	}
	if err := e.kv.Put(n.ID, "meta", "v", cfkv.NamespaceValueUpdateParams{Metadata: cf.F[any](exact)}); err != nil {
		t.Fatalf("metadata of exactly %d bytes must be accepted: %v", kv.MaxMetadataBytes, err)
	}

	// Nothing rejected was stored.
	if names := keyNames(e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{})); !reflect.DeepEqual(names, []string{"meta"}) {
		t.Fatalf("keys after rejected writes = %q", names)
	}

	// Bad query parameters of the listing.
	_, err = e.kv.Namespaces.Keys.List(e.ctx, n.ID, cfkv.NamespaceKeyListParams{AccountID: cf.F(edgetest.AccountID), Limit: cf.F(9.0)})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
	_, err = e.kv.Namespaces.Keys.List(e.ctx, n.ID, cfkv.NamespaceKeyListParams{AccountID: cf.F(edgetest.AccountID), Limit: cf.F(1001.0)})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
	_, err = e.kv.Namespaces.Keys.List(e.ctx, n.ID, cfkv.NamespaceKeyListParams{AccountID: cf.F(edgetest.AccountID), Cursor: cf.F("!!not base64!!")})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
}

func TestKVMetadataAsJSONString(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	n := e.kv.MustCreateNamespace("metadata")

	const meta = `{"owner":"team-a","n":1,"nested":{"list":[1,"two",null],"ok":true}}`
	e.kv.MustPut(n.ID, "dir/with meta", "v", cfkv.NamespaceValueUpdateParams{Metadata: cf.F[any](meta)})
	e.kv.MustPut(n.ID, "without", "v", cfkv.NamespaceValueUpdateParams{})
	var want any
	if err := json.Unmarshal([]byte(meta), &want); err != nil {
		t.Fatal(err)
	}

	keys := e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{})
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

	got, err := e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, url.PathEscape("dir/with meta"), cfkv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || got == nil || !reflect.DeepEqual(*got, want) {
		t.Fatalf("metadata GET = %#v, %v", got, err)
	}
	got, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, "without", cfkv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || got == nil || *got != nil {
		t.Fatalf("metadata GET of a key without metadata = %#v, %v", got, err)
	}

	// A Go map is flattened by the SDK into metadata.<k> fields; the local edge rebuilds the
	// object (with string values, as form fields are strings).
	e.kv.MustPut(n.ID, "flat", "v", cfkv.NamespaceValueUpdateParams{Metadata: cf.F[any](map[string]any{"a": "x", "b": "y"})})
	got, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, "flat", cfkv.NamespaceMetadataGetParams{AccountID: acct})
	if err != nil || !reflect.DeepEqual(*got, map[string]any{"a": "x", "b": "y"}) {
		t.Fatalf("flattened metadata = %#v, %v", got, err)
	}

	// Overwriting without metadata drops it.
	e.kv.MustPut(n.ID, "dir/with meta", "v2", cfkv.NamespaceValueUpdateParams{})
	got, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, url.PathEscape("dir/with meta"), cfkv.NamespaceMetadataGetParams{AccountID: acct})
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
	e := newEnv(t)
	n := e.kv.MustCreateNamespace("keys")
	other := e.kv.MustCreateNamespace("other")
	e.kv.MustPut(other.ID, "key-00", "must not leak", cfkv.NamespaceValueUpdateParams{})

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
		e.kv.MustPut(n.ID, k, "v"+strconv.Itoa(i), cfkv.NamespaceValueUpdateParams{})
	}
	sort.Strings(want)

	e.Server.ResetRequestCounts()
	got := keyNames(e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{Limit: cf.F(10.0)}))
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("keys = %q\nwant %q", got, want)
	}
	// 10 + 10 + 5: the last page has an empty cursor, which stops the pager.
	if c := e.Server.RequestCount("GET /accounts/{account_id}/storage/kv/namespaces/{namespace_id}/keys"); c != 3 {
		t.Fatalf("%d key list requests, want 3\n%s", c, e.Server.FormatRequestCounts())
	}

	first, err := e.kv.Namespaces.Keys.List(e.ctx, n.ID, cfkv.NamespaceKeyListParams{AccountID: cf.F(edgetest.AccountID), Limit: cf.F(10.0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Result) != 10 || first.ResultInfo.Cursor == "" || first.ResultInfo.Count != 10 {
		t.Fatalf("first page: %d keys, result_info %s", len(first.Result), first.ResultInfo.JSON.RawJSON())
	}
	all, err := e.kv.Namespaces.Keys.List(e.ctx, n.ID, cfkv.NamespaceKeyListParams{AccountID: cf.F(edgetest.AccountID)})
	if err != nil || len(all.Result) != 25 || all.ResultInfo.Cursor != "" {
		t.Fatalf("default limit: %d keys, cursor %q, %v", len(all.Result), all.ResultInfo.Cursor, err)
	}

	// Prefix, including one with a slash and one with a space, paged too.
	got = keyNames(e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{Prefix: cf.F("dir/sub/"), Limit: cf.F(10.0)}))
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
	if got := keyNames(e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{Prefix: cf.F("with space")})); !reflect.DeepEqual(got, wantSpace) {
		t.Fatalf("prefix 'with space' = %q, want %q", got, wantSpace)
	}
	if got := e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{Prefix: cf.F("nothing")}); len(got) != 0 {
		t.Fatalf("prefix nothing = %q", keyNames(got))
	}
	// Exactly limit keys: no cursor.
	if got := e.kv.Keys(other.ID, cfkv.NamespaceKeyListParams{Limit: cf.F(10.0)}); len(got) != 1 {
		t.Fatalf("other namespace keys = %q", keyNames(got))
	}
}

func TestKVExpiration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	n := e.kv.MustCreateNamespace("expiring")
	start := e.Clock.Now().Unix()

	e.kv.MustPut(n.ID, "ttl", "a", cfkv.NamespaceValueUpdateParams{ExpirationTTL: cf.F(60.0)})
	e.kv.MustPut(n.ID, "abs", "b", cfkv.NamespaceValueUpdateParams{Expiration: cf.F(float64(start + 300))})
	// When both are given, the TTL wins.
	e.kv.MustPut(n.ID, "both", "c", cfkv.NamespaceValueUpdateParams{Expiration: cf.F(float64(start + 300)), ExpirationTTL: cf.F(120.0)})
	e.kv.MustPut(n.ID, "forever", "d", cfkv.NamespaceValueUpdateParams{})

	wantExp := map[string]int64{"ttl": start + 60, "abs": start + 300, "both": start + 120}
	for k, exp := range wantExp {
		_, res, err := e.kv.Get(n.ID, k)
		if err != nil {
			t.Fatal(err)
		}
		if h := res.Header.Get("Expiration"); h != strconv.FormatInt(exp, 10) {
			t.Fatalf("%s: Expiration header %q, want %d", k, h, exp)
		}
	}
	for _, k := range e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{}) {
		if int64(k.Expiration) != wantExp[k.Name] {
			t.Fatalf("%s: listed expiration %v, want %d", k.Name, k.Expiration, wantExp[k.Name])
		}
		if _, ok := wantExp[k.Name]; !ok && strings.Contains(k.JSON.RawJSON(), "expiration") {
			t.Fatalf("%s: a key without expiration lists %s", k.Name, k.JSON.RawJSON())
		}
	}

	// At the expiration second the key is gone.
	e.Clock.Advance(60 * time.Second)
	_, _, err := e.kv.Get(n.ID, "ttl")
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10009)
	_, err = e.kv.Namespaces.Metadata.Get(e.ctx, n.ID, "ttl", cfkv.NamespaceMetadataGetParams{AccountID: acct})
	edgetest.WantAPIError(t, err, http.StatusNotFound, 10009)
	if got := keyNames(e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{})); !reflect.DeepEqual(got, []string{"abs", "both", "forever"}) {
		t.Fatalf("keys after 60s = %q", got)
	}
	bulk, err := e.kv.Namespaces.BulkGet(e.ctx, n.ID, cfkv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"ttl", "abs"})})
	if err != nil {
		t.Fatal(err)
	}
	if raw := bulk.JSON.RawJSON(); !jsonEqual(t, raw, `{"values":{"ttl":null,"abs":"b"}}`) {
		t.Fatalf("bulk get after expiry = %s", raw)
	}

	e.Clock.Advance(300 * time.Second)
	if got := keyNames(e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{})); !reflect.DeepEqual(got, []string{"forever"}) {
		t.Fatalf("keys after 360s = %q", got)
	}

	// Expired keys do not count towards a page, and do not produce a dangling cursor.
	var items []cfkv.NamespaceBulkUpdateParamsBody
	for i := range 15 {
		items = append(items, cfkv.NamespaceBulkUpdateParamsBody{Key: cf.F(fmt.Sprintf("short-%02d", i)), Value: cf.F("x"), ExpirationTTL: cf.F(60.0)})
	}
	if _, err := e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, cfkv.NamespaceBulkUpdateParams{AccountID: acct, Body: items}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(61 * time.Second)
	page, err := e.kv.Namespaces.Keys.List(e.ctx, n.ID, cfkv.NamespaceKeyListParams{AccountID: acct, Limit: cf.F(10.0)})
	if err != nil || len(page.Result) != 1 || page.ResultInfo.Cursor != "" {
		t.Fatalf("page over expired keys: %s, %v", page.JSON.RawJSON(), err)
	}
	// A key can be written again after it expired.
	e.kv.MustPut(n.ID, "ttl", "again", cfkv.NamespaceValueUpdateParams{})
	if got, _, err := e.kv.Get(n.ID, "ttl"); err != nil || got != "again" {
		t.Fatalf("rewritten expired key = %q, %v", got, err)
	}
}

func TestKVBulk(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	acct := cf.F(edgetest.AccountID)
	n := e.kv.MustCreateNamespace("bulk")
	start := e.Clock.Now().Unix()

	items := []cfkv.NamespaceBulkUpdateParamsBody{
		{Key: cf.F("text"), Value: cf.F("hello")},
		{Key: cf.F("dir/b64 key"), Value: cf.F(base64.StdEncoding.EncodeToString([]byte("\x00bin"))), Base64: cf.F(true)},
		{Key: cf.F("json"), Value: cf.F(`{"a":[1,2]}`), Metadata: cf.F[any](map[string]any{"m": 1.0}), ExpirationTTL: cf.F(600.0)},
	}
	res, err := e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, cfkv.NamespaceBulkUpdateParams{AccountID: acct, Body: items})
	if err != nil {
		t.Fatal(err)
	}
	if res.SuccessfulKeyCount != 3 || res.UnsuccessfulKeys == nil || len(res.UnsuccessfulKeys) != 0 {
		t.Fatalf("bulk write result = %s", res.JSON.RawJSON())
	}
	if got, _, err := e.kv.Get(n.ID, "dir/b64 key"); err != nil || got != "\x00bin" {
		t.Fatalf("base64 value = %q, %v", got, err)
	}
	keys := e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{})
	if len(keys) != 3 || keys[1].Name != "json" || int64(keys[1].Expiration) != start+600 || !reflect.DeepEqual(keys[1].Metadata, map[string]any{"m": 1.0}) {
		t.Fatalf("listed keys = %+v", keys)
	}

	get, err := e.kv.Namespaces.BulkGet(e.ctx, n.ID, cfkv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"text", "json", "missing"})})
	if err != nil {
		t.Fatal(err)
	}
	if raw := get.JSON.RawJSON(); !jsonEqual(t, raw, `{"values":{"text":"hello","json":"{\"a\":[1,2]}","missing":null}}`) {
		t.Fatalf("bulk get text = %s", raw)
	}
	get, err = e.kv.Namespaces.BulkGet(e.ctx, n.ID, cfkv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"json"}), Type: cf.F(cfkv.NamespaceBulkGetParamsTypeJson)})
	if err != nil || !jsonEqual(t, get.JSON.RawJSON(), `{"values":{"json":{"a":[1,2]}}}`) {
		t.Fatalf("bulk get json = %s, %v", get.JSON.RawJSON(), err)
	}
	_, err = e.kv.Namespaces.BulkGet(e.ctx, n.ID, cfkv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"text"}), Type: cf.F(cfkv.NamespaceBulkGetParamsTypeJson)})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
	get, err = e.kv.Namespaces.BulkGet(e.ctx, n.ID, cfkv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F([]string{"json", "text"}), WithMetadata: cf.F(true)})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf(`{"values":{"json":{"value":"{\"a\":[1,2]}","metadata":{"m":1},"expiration":%d},"text":{"value":"hello","metadata":null}}}`, start+600)
	if !jsonEqual(t, get.JSON.RawJSON(), want) {
		t.Fatalf("bulk get with metadata = %s\nwant %s", get.JSON.RawJSON(), want)
	}
	tooMany := make([]string, kv.MaxBulkGetKeys+1)
	for i := range tooMany {
		tooMany[i] = strconv.Itoa(i)
	}
	_, err = e.kv.Namespaces.BulkGet(e.ctx, n.ID, cfkv.NamespaceBulkGetParams{AccountID: acct, Keys: cf.F(tooMany)})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)

	// A bulk write with one invalid item writes nothing.
	_, err = e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, cfkv.NamespaceBulkUpdateParams{AccountID: acct, Body: []cfkv.NamespaceBulkUpdateParamsBody{
		{Key: cf.F("fine"), Value: cf.F("x")},
		{Key: cf.F("bad-ttl"), Value: cf.F("x"), ExpirationTTL: cf.F(10.0)},
	}})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10033)
	_, err = e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, cfkv.NamespaceBulkUpdateParams{AccountID: acct, Body: []cfkv.NamespaceBulkUpdateParamsBody{
		{Key: cf.F("fine"), Value: cf.F("x")},
		{Key: cf.F(strings.Repeat("k", 513)), Value: cf.F("x")},
	}})
	edgetest.WantAPIError(t, err, http.StatusRequestURITooLong, 10033)
	_, err = e.kv.Namespaces.BulkUpdate(e.ctx, n.ID, cfkv.NamespaceBulkUpdateParams{AccountID: acct, Body: []cfkv.NamespaceBulkUpdateParamsBody{
		{Key: cf.F("fine"), Value: cf.F("not base64!"), Base64: cf.F(true)},
	}})
	edgetest.WantAPIError(t, err, http.StatusBadRequest, 10001)
	if _, _, err := e.kv.Get(n.ID, "fine"); err == nil {
		t.Fatal("a rejected bulk write stored a key")
	}

	// Bulk delete through both SDK entry points, with an absent key among them.
	del, err := e.kv.Namespaces.BulkDelete(e.ctx, n.ID, cfkv.NamespaceBulkDeleteParams{AccountID: acct, Body: []string{"text", "absent"}})
	if err != nil || del.SuccessfulKeyCount != 2 {
		t.Fatalf("bulk delete = %v, %v", del, err)
	}
	if _, err := e.kv.Namespaces.Keys.BulkDelete( //nolint:staticcheck // deprecated in the SDK, still served by the API
		e.ctx, n.ID, cfkv.NamespaceKeyBulkDeleteParams{AccountID: acct, Body: []string{"dir/b64 key"}}); err != nil {
		t.Fatal(err)
	}
	if got := keyNames(e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{})); !reflect.DeepEqual(got, []string{"json"}) {
		t.Fatalf("keys after bulk delete = %q", got)
	}
	// The legacy DELETE .../bulk with an array body.
	status, _, body := e.Raw(http.MethodDelete, nsPath(n.ID)+"/bulk", http.Header{"Content-Type": {"application/json"}}, strings.NewReader(`["json"]`))
	if status != http.StatusOK || !strings.Contains(string(body), `"successful_key_count":1`) {
		t.Fatalf("legacy bulk delete: %d %s", status, body)
	}
	if got := e.kv.Keys(n.ID, cfkv.NamespaceKeyListParams{}); len(got) != 0 {
		t.Fatalf("keys after legacy bulk delete = %q", keyNames(got))
	}

	// Batch limits of 10 000.
	over := make([]string, kv.MaxBulkItems+1)
	for i := range over {
		over[i] = strconv.Itoa(i)
	}
	_, err = e.kv.Namespaces.BulkDelete(e.ctx, n.ID, cfkv.NamespaceBulkDeleteParams{AccountID: acct, Body: over})
	edgetest.WantAPIError(t, err, http.StatusRequestEntityTooLarge, 10001)
	if _, err := e.kv.Namespaces.BulkDelete(e.ctx, n.ID, cfkv.NamespaceBulkDeleteParams{AccountID: acct, Body: over[:kv.MaxBulkItems]}); err != nil {
		t.Fatalf("a bulk delete of %d keys: %v", kv.MaxBulkItems, err)
	}
}
