package kv

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

type titleBody struct {
	Title string `json:"title"`
}

func validateTitle(title string) error {
	if strings.TrimSpace(title) == "" {
		return api.Errorf(http.StatusBadRequest, 10019, "title is required")
	}
	if utf8.RuneCountInString(title) > MaxTitleLength {
		return api.Errorf(http.StatusBadRequest, 10019, "title must be at most %d characters", MaxTitleLength)
	}
	return nil
}

func decodeTitle(w http.ResponseWriter, r *http.Request) (string, error) {
	var body titleBody
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return "", err
	}
	return body.Title, validateTitle(body.Title)
}

// claimTitle fails with 10014 when another namespace has the title.
func claimTitle(tx *api.Tx, title, exceptID string) error {
	taken, err := titleTaken(tx, title, exceptID)
	if err == nil && taken {
		err = errTitleExists()
	}
	return err
}

// inNamespace adapts fn to run on the namespace named by the request's path (10013 when
// there is none), for api.View and api.Update.
func inNamespace[T any](r *http.Request, fn func(tx *api.Tx, n namespace) (T, error)) func(tx *api.Tx) (T, error) {
	return func(tx *api.Tx) (T, error) {
		n, err := namespaceByID(tx, r.PathValue("namespace_id"))
		if err != nil {
			var zero T
			return zero, err
		}
		return fn(tx, n)
	}
}

func (k *KV) createNamespace(w http.ResponseWriter, r *http.Request) error {
	title, err := decodeTitle(w, r)
	if err != nil {
		return err
	}
	ns := namespace{ID: api.NewHexID(), Title: title, SupportsURLEncoding: true}
	err = k.store.Update(func(tx *api.Tx) error {
		if err := claimTitle(tx, title, ""); err != nil {
			return err
		}
		return tx.Put(bucketNamespaces, ns.ID, ns)
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, ns)
	return nil
}

func (k *KV) listNamespaces(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := api.PageParams(r, 20, 1000)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	order, direction := q.Get("order"), q.Get("direction")
	if order != "" && order != "id" && order != "title" {
		return api.Errorf(http.StatusBadRequest, 10001, "order must be id or title, got %q", order)
	}
	if direction != "" && direction != "asc" && direction != "desc" {
		return api.Errorf(http.StatusBadRequest, 10001, "direction must be asc or desc, got %q", direction)
	}
	var all []namespace
	if err := k.store.View(func(tx *api.Tx) (err error) {
		all, err = api.All[namespace](tx, bucketNamespaces, "")
		return err
	}); err != nil {
		return err
	}
	sort.SliceStable(all, func(i, j int) bool {
		less := all[i].ID < all[j].ID
		if order == "title" {
			less = all[i].Title < all[j].Title
		}
		if direction == "desc" {
			return !less
		}
		return less
	})
	api.WritePaged(w, all, page, perPage)
	return nil
}

func (k *KV) getNamespace(w http.ResponseWriter, r *http.Request) error {
	return api.View(w, k.store, inNamespace(r, func(_ *api.Tx, n namespace) (namespace, error) { return n, nil }))
}

func (k *KV) renameNamespace(w http.ResponseWriter, r *http.Request) error {
	title, err := decodeTitle(w, r)
	if err != nil {
		return err
	}
	return api.Update(w, k.store, inNamespace(r, func(tx *api.Tx, n namespace) (namespace, error) {
		if err := claimTitle(tx, title, n.ID); err != nil {
			return n, err
		}
		n.Title = title
		return n, tx.Put(bucketNamespaces, n.ID, n)
	}))
}

func (k *KV) deleteNamespace(w http.ResponseWriter, r *http.Request) error {
	return api.Update(w, k.store, inNamespace(r, func(tx *api.Tx, n namespace) (any, error) {
		if _, err := tx.DeletePrefix(bucketValues, n.ID+"/"); err != nil {
			return nil, err
		}
		return nil, tx.Delete(bucketNamespaces, n.ID)
	}))
}

func validateKey(key string) error {
	switch {
	case key == "":
		return api.Errorf(http.StatusBadRequest, 10001, "key name must not be empty")
	case key == "." || key == "..":
		return api.Errorf(http.StatusBadRequest, 10001, "key names '.' and '..' are not allowed")
	case len(key) > MaxKeyBytes:
		return api.Errorf(http.StatusRequestURITooLong, 10033, "UTF-8 encoded length of %d exceeds key length limit of %d", len(key), MaxKeyBytes)
	}
	return nil
}

// expiration resolves expiration / expiration_ttl (the TTL wins when both are given) into an
// absolute unix time, 0 for none.
func (k *KV) expiration(expiration, ttl int64) (int64, error) {
	now := k.now().Unix()
	if ttl != 0 {
		if ttl < MinExpirationTTL {
			return 0, api.Errorf(http.StatusBadRequest, 10033, "Invalid expiration_ttl of %d. Expiration TTL must be at least %d.", ttl, MinExpirationTTL)
		}
		return now + ttl, nil
	}
	if expiration != 0 && expiration < now+MinExpirationTTL {
		return 0, api.Errorf(http.StatusBadRequest, 10033, "Invalid expiration of %d. Expiration times must be at least %d seconds in the future.", expiration, MinExpirationTTL)
	}
	return expiration, nil
}

func validateMetadata(raw []byte) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if len(raw) > MaxMetadataBytes {
		return nil, api.Errorf(http.StatusRequestEntityTooLarge, 10033, "Metadata length of %d exceeds limit of %d", len(raw), MaxMetadataBytes)
	}
	if !json.Valid(raw) {
		return nil, api.Errorf(http.StatusBadRequest, 10026, "metadata must be valid JSON")
	}
	return json.RawMessage(raw), nil
}

// maxValueRequestBytes bounds a value PUT: the value, its metadata and the multipart framing.
const maxValueRequestBytes = MaxValueBytes + 64<<10

// readLimited reads at most limit bytes of r; more is tooLarge.
func readLimited(r io.Reader, limit int64, tooLarge func(n int64) error) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(int64(len(b)))
	}
	return b, nil
}

// readWrite reads a value write while streaming it: a multipart form with a `value` part and
// an optional `metadata` JSON part (or metadata.* fields, as the SDK sends Go maps), or a raw
// body. No part is read past its limit.
func readWrite(w http.ResponseWriter, r *http.Request) (value, metadata []byte, err error) {
	body, err := api.LimitBody(w, r, maxValueRequestBytes)
	if err != nil {
		return nil, nil, errValueTooLarge(r.ContentLength)
	}
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		value, err = readLimited(body, MaxValueBytes, func(n int64) error { return errValueTooLarge(n) })
		return value, nil, readError(err)
	}
	mr, err := r.MultipartReader()
	if err != nil || params["boundary"] == "" {
		return nil, nil, api.Errorf(http.StatusBadRequest, 10026, "could not parse multipart body: %v", err)
	}
	flat := map[string]string{}
	gotValue := false
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, readError(err)
		}
		switch name := part.FormName(); {
		case name == "value":
			if value, err = readLimited(part, MaxValueBytes, func(n int64) error { return errValueTooLarge(n) }); err != nil {
				return nil, nil, readError(err)
			}
			gotValue = true
		case name == "metadata" || strings.HasPrefix(name, "metadata."):
			raw, err := readLimited(part, MaxMetadataBytes, func(n int64) error {
				return api.Errorf(http.StatusRequestEntityTooLarge, 10033, "Metadata length of %d exceeds limit of %d", n, MaxMetadataBytes)
			})
			if err != nil {
				return nil, nil, readError(err)
			}
			if name == "metadata" {
				metadata = raw
			} else {
				flat[strings.TrimPrefix(name, "metadata.")] = string(raw)
			}
		default:
			// Parts the API does not know are skipped, bounded by the body limit.
			if _, err := io.Copy(io.Discard, part); err != nil {
				return nil, nil, readError(err)
			}
		}
	}
	if !gotValue {
		return nil, nil, api.Errorf(http.StatusBadRequest, 10026, "multipart body has no value part")
	}
	if metadata == nil && len(flat) > 0 {
		metadata, _ = json.Marshal(flat)
	}
	return value, metadata, nil
}

func readError(err error) error {
	var ae *api.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return ae
	case api.IsTooLarge(err):
		return errValueTooLarge(maxValueRequestBytes)
	}
	return api.Errorf(http.StatusBadRequest, 10026, "could not read request body: %v", err)
}

func (k *KV) putValue(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key_name")
	if err := validateKey(key); err != nil {
		return err
	}
	expiration, err := api.QueryInt(r, "expiration")
	if err != nil {
		return err
	}
	ttl, err := api.QueryInt(r, "expiration_ttl")
	if err != nil {
		return err
	}
	if expiration, err = k.expiration(expiration, ttl); err != nil {
		return err
	}
	value, rawMetadata, err := readWrite(w, r)
	if err != nil {
		return err
	}
	metadata, err := validateMetadata(rawMetadata)
	if err != nil {
		return err
	}
	return api.Update(w, k.store, inNamespace(r, func(tx *api.Tx, n namespace) (any, error) {
		return nil, tx.Put(bucketValues, valueKey(n.ID, key), entry{Value: value, Metadata: metadata, Expiration: expiration})
	}))
}

// load returns a live (unexpired) entry.
func (k *KV) load(tx *api.Tx, namespaceID, key string) (entry, bool, error) {
	var e entry
	ok, err := tx.Get(bucketValues, valueKey(namespaceID, key), &e)
	if err != nil || !ok {
		return e, false, err
	}
	return e, !k.expired(e), nil
}

func (k *KV) expired(e entry) bool {
	return e.Expiration != 0 && e.Expiration <= k.now().Unix()
}

// liveEntry loads the request's key of the request's namespace, or the API's not-found error.
func (k *KV) liveEntry(r *http.Request) (entry, error) {
	var e entry
	err := k.store.View(func(tx *api.Tx) error {
		n, err := namespaceByID(tx, r.PathValue("namespace_id"))
		if err != nil {
			return err
		}
		var ok bool
		if e, ok, err = k.load(tx, n.ID, r.PathValue("key_name")); err == nil && !ok {
			err = errKeyNotFound()
		}
		return err
	})
	return e, err
}

func (k *KV) getValue(w http.ResponseWriter, r *http.Request) error {
	e, err := k.liveEntry(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	if e.Expiration != 0 {
		w.Header().Set("Expiration", strconv.FormatInt(e.Expiration, 10))
	}
	_, _ = w.Write(e.Value)
	return nil
}

func (k *KV) getMetadata(w http.ResponseWriter, r *http.Request) error {
	e, err := k.liveEntry(r)
	if err != nil {
		return err
	}
	if e.Metadata == nil {
		api.WriteResult(w, nil)
	} else {
		api.WriteResult(w, e.Metadata)
	}
	return nil
}

func (k *KV) deleteValue(w http.ResponseWriter, r *http.Request) error {
	return api.Update(w, k.store, inNamespace(r, func(tx *api.Tx, n namespace) (any, error) {
		return nil, tx.Delete(bucketValues, valueKey(n.ID, r.PathValue("key_name")))
	}))
}

// keyInfo is one item of a key listing.
type keyInfo struct {
	Name       string          `json:"name"`
	Expiration int64           `json:"expiration,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

func (k *KV) listKeys(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := int64(1000)
	if q.Get("limit") != "" {
		var err error
		if limit, err = api.QueryInt(r, "limit"); err != nil {
			return err
		}
		if limit < 10 || limit > 1000 {
			return api.Errorf(http.StatusBadRequest, 10001, "limit must be between 10 and 1000, got %d", limit)
		}
	}
	after := ""
	if c := q.Get("cursor"); c != "" {
		var err error
		if after, err = api.DecodeCursor(c); err != nil {
			return err
		}
	}
	prefix := q.Get("prefix")
	keys := []keyInfo{}
	cursor := ""
	err := k.store.View(func(tx *api.Tx) error {
		n, err := namespaceByID(tx, r.PathValue("namespace_id"))
		if err != nil {
			return err
		}
		base := n.ID + "/"
		startAfter := ""
		if after != "" {
			startAfter = base + after
		}
		return tx.Each(bucketValues, base+prefix, startAfter, func(key string, raw []byte) (bool, error) {
			var e entry
			if err := json.Unmarshal(raw, &e); err != nil {
				return false, err
			}
			if k.expired(e) {
				return true, nil
			}
			if int64(len(keys)) == limit {
				// There is at least one more key: hand out a cursor after the last one returned.
				cursor = api.EncodeCursor(keys[len(keys)-1].Name)
				return false, nil
			}
			keys = append(keys, keyInfo{Name: strings.TrimPrefix(key, base), Expiration: e.Expiration, Metadata: e.Metadata})
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	api.WritePage(w, keys, map[string]any{"count": len(keys), "cursor": cursor})
	return nil
}

// bulkItem is one write of a bulk PUT.
type bulkItem struct {
	Key           string          `json:"key"`
	Value         string          `json:"value"`
	Base64        bool            `json:"base64"`
	Expiration    int64           `json:"expiration"`
	ExpirationTTL int64           `json:"expiration_ttl"`
	Metadata      json.RawMessage `json:"metadata"`
}

func bulkResult(n int) map[string]any {
	return map[string]any{"successful_key_count": n, "unsuccessful_keys": []string{}}
}

// decodeBulk streams a bulk body (a bare JSON array of at most MaxBulkItems items, at most
// MaxBulkBodyBytes) and calls each for every item as it is decoded, so an oversized body is
// refused as soon as it goes over a limit.
func decodeBulk[T any](w http.ResponseWriter, r *http.Request, each func(T) error) error {
	body, err := api.LimitBody(w, r, MaxBulkBodyBytes)
	if err != nil {
		return errBulkTooLarge()
	}
	dec := json.NewDecoder(body)
	fail := func(err error) error {
		var ae *api.Error
		switch {
		case errors.As(err, &ae):
			return ae
		case api.IsTooLarge(err):
			return errBulkTooLarge()
		}
		return api.Errorf(http.StatusBadRequest, 10026, "could not parse request body: %v", err)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		if err == nil {
			err = errors.New("the body must be a JSON array")
		}
		return fail(err)
	}
	n := 0
	for dec.More() {
		if n++; n > MaxBulkItems {
			return errTooManyPairs(MaxBulkItems)
		}
		var item T
		if err := dec.Decode(&item); err != nil {
			return fail(err)
		}
		if err := each(item); err != nil {
			return fail(err)
		}
	}
	if _, err := dec.Token(); err != nil {
		return fail(err)
	}
	return nil
}

// pair is a validated bulk write.
type pair struct {
	key string
	entry
}

func (k *KV) bulkPair(it bulkItem) (pair, error) {
	if err := validateKey(it.Key); err != nil {
		return pair{}, err
	}
	value := []byte(it.Value)
	if it.Base64 {
		var err error
		if value, err = base64.StdEncoding.DecodeString(it.Value); err != nil {
			return pair{}, api.Errorf(http.StatusBadRequest, 10001, "value of key %q is not valid base64", it.Key)
		}
	}
	if len(value) > MaxValueBytes {
		return pair{}, errValueTooLarge(int64(len(value)))
	}
	expiration, err := k.expiration(it.Expiration, it.ExpirationTTL)
	if err != nil {
		return pair{}, err
	}
	metadata, err := validateMetadata(it.Metadata)
	if err != nil {
		return pair{}, err
	}
	return pair{key: it.Key, entry: entry{Value: value, Metadata: metadata, Expiration: expiration}}, nil
}

func (k *KV) bulkWrite(w http.ResponseWriter, r *http.Request) error {
	var pairs []pair
	if err := decodeBulk(w, r, func(it bulkItem) error {
		p, err := k.bulkPair(it)
		pairs = append(pairs, p)
		return err
	}); err != nil {
		return err
	}
	return api.Update(w, k.store, inNamespace(r, func(tx *api.Tx, n namespace) (map[string]any, error) {
		for _, p := range pairs {
			if err := tx.Put(bucketValues, valueKey(n.ID, p.key), p.entry); err != nil {
				return nil, err
			}
		}
		return bulkResult(len(pairs)), nil
	}))
}

func (k *KV) bulkDelete(w http.ResponseWriter, r *http.Request) error {
	var keys []string
	if err := decodeBulk(w, r, func(key string) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return err
	}
	return api.Update(w, k.store, inNamespace(r, func(tx *api.Tx, n namespace) (map[string]any, error) {
		for _, key := range keys {
			if err := tx.Delete(bucketValues, valueKey(n.ID, key)); err != nil {
				return nil, err
			}
		}
		return bulkResult(len(keys)), nil
	}))
}

func (k *KV) bulkGet(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Keys         []string `json:"keys"`
		Type         string   `json:"type"`
		WithMetadata bool     `json:"withMetadata"`
	}
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.Keys) == 0 || len(body.Keys) > MaxBulkGetKeys {
		return api.Errorf(http.StatusBadRequest, 10001, "a bulk get takes 1 to %d keys, got %d", MaxBulkGetKeys, len(body.Keys))
	}
	if body.Type != "" && body.Type != "text" && body.Type != "json" {
		return api.Errorf(http.StatusBadRequest, 10001, "type must be text or json, got %q", body.Type)
	}
	values := map[string]any{}
	err := k.store.View(func(tx *api.Tx) error {
		n, err := namespaceByID(tx, r.PathValue("namespace_id"))
		if err != nil {
			return err
		}
		for _, key := range body.Keys {
			e, ok, err := k.load(tx, n.ID, key)
			if err != nil {
				return err
			}
			if !ok {
				values[key] = nil
				continue
			}
			var v any = string(e.Value)
			if body.Type == "json" {
				if !json.Valid(e.Value) {
					return api.Errorf(http.StatusBadRequest, 10001, "value of key %q is not JSON", key)
				}
				v = json.RawMessage(e.Value)
			}
			if body.WithMetadata {
				item := map[string]any{"value": v, "metadata": e.Metadata}
				if e.Expiration != 0 {
					item["expiration"] = e.Expiration
				}
				v = item
			}
			values[key] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	api.WriteResult(w, map[string]any{"values": values})
	return nil
}
