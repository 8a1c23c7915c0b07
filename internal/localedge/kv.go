package localedge

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// kvNamespace is a Workers KV namespace as the API returns it.
type kvNamespace struct {
	ID                  string `json:"id"`
	Title               string `json:"title"`
	SupportsURLEncoding bool   `json:"supports_url_encoding"`
}

// kvEntry is one stored key.
type kvEntry struct {
	Value      []byte          `json:"value"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
	Expiration int64           `json:"expiration,omitempty"`
}

// KV limits of the platform.
const (
	kvMaxTitleLength    = 512
	kvMaxKeyBytes       = 512
	kvMaxValueBytes     = 25 << 20
	kvMaxMetadataBytes  = 1024
	kvMinExpirationTTL  = 60
	kvMaxBulkWriteItems = 10000
	kvMaxBulkGetKeys    = 100
)

func kvValueKey(namespaceID, key string) string { return namespaceID + "/" + key }

func (s *Server) registerKVRoutes() {
	const ns = "/accounts/{account_id}/storage/kv/namespaces"
	s.handle("POST "+ns, s.kvCreateNamespace)
	s.handle("GET "+ns, s.kvListNamespaces)
	s.handle("GET "+ns+"/{namespace_id}", s.kvGetNamespace)
	s.handle("PUT "+ns+"/{namespace_id}", s.kvRenameNamespace)
	s.handle("DELETE "+ns+"/{namespace_id}", s.kvDeleteNamespace)
	s.handle("PUT "+ns+"/{namespace_id}/values/{key_name}", s.kvPutValue)
	s.handle("GET "+ns+"/{namespace_id}/values/{key_name}", s.kvGetValue)
	s.handle("DELETE "+ns+"/{namespace_id}/values/{key_name}", s.kvDeleteValue)
	s.handle("GET "+ns+"/{namespace_id}/metadata/{key_name}", s.kvGetMetadata)
	s.handle("GET "+ns+"/{namespace_id}/keys", s.kvListKeys)
	s.handle("PUT "+ns+"/{namespace_id}/bulk", s.kvBulkWrite)
	s.handle("POST "+ns+"/{namespace_id}/bulk/delete", s.kvBulkDelete)
	s.handle("DELETE "+ns+"/{namespace_id}/bulk", s.kvBulkDelete)
	s.handle("POST "+ns+"/{namespace_id}/bulk/get", s.kvBulkGet)
}

func errKVNamespaceNotFound() *apiError {
	return errorf(http.StatusNotFound, 10013, "get namespace: 'namespace not found'")
}

func validateKVTitle(title string) error {
	if strings.TrimSpace(title) == "" {
		return errorf(http.StatusBadRequest, 10019, "title is required")
	}
	if utf8.RuneCountInString(title) > kvMaxTitleLength {
		return errorf(http.StatusBadRequest, 10019, "title must be at most %d characters", kvMaxTitleLength)
	}
	return nil
}

// kvTitleTaken reports whether another namespace already has the title.
func kvTitleTaken(tx *Tx, title, exceptID string) (bool, error) {
	taken := false
	err := tx.Each(bucketKVNamespaces, "", "", func(_ string, raw []byte) (bool, error) {
		var n kvNamespace
		if err := json.Unmarshal(raw, &n); err != nil {
			return false, err
		}
		taken = n.Title == title && n.ID != exceptID
		return !taken, nil
	})
	return taken, err
}

func errKVTitleExists() *apiError {
	return errorf(http.StatusBadRequest, 10014, "A namespace with this account ID and title already exists")
}

func (s *Server) kvCreateNamespace(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Title string `json:"title"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := validateKVTitle(body.Title); err != nil {
		return err
	}
	ns := kvNamespace{ID: newHexID(), Title: body.Title, SupportsURLEncoding: true}
	err := s.store.Update(func(tx *Tx) error {
		if taken, err := kvTitleTaken(tx, body.Title, ""); err != nil || taken {
			if err == nil {
				err = errKVTitleExists()
			}
			return err
		}
		return tx.Put(bucketKVNamespaces, ns.ID, ns)
	})
	if err != nil {
		return err
	}
	writeResult(w, ns)
	return nil
}

func (s *Server) kvListNamespaces(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := pageParams(r, 20, 1000)
	if err != nil {
		return err
	}
	var all []kvNamespace
	err = s.store.View(func(tx *Tx) error {
		return tx.Each(bucketKVNamespaces, "", "", func(_ string, raw []byte) (bool, error) {
			var n kvNamespace
			err := json.Unmarshal(raw, &n)
			all = append(all, n)
			return true, err
		})
	})
	if err != nil {
		return err
	}
	q := r.URL.Query()
	order, direction := q.Get("order"), q.Get("direction")
	if order != "" && order != "id" && order != "title" {
		return errorf(http.StatusBadRequest, 10001, "order must be id or title, got %q", order)
	}
	if direction != "" && direction != "asc" && direction != "desc" {
		return errorf(http.StatusBadRequest, 10001, "direction must be asc or desc, got %q", direction)
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
	from, to := pageSlice(len(all), page, perPage)
	result := append([]kvNamespace{}, all[from:to]...)
	writePage(w, result, pageInfo(page, perPage, len(result), len(all)))
	return nil
}

// kvNamespaceOf loads the namespace named by the request's namespace_id.
func kvNamespaceOf(tx *Tx, r *http.Request) (kvNamespace, error) {
	var n kvNamespace
	ok, err := tx.Get(bucketKVNamespaces, r.PathValue("namespace_id"), &n)
	if err == nil && !ok {
		err = errKVNamespaceNotFound()
	}
	return n, err
}

func (s *Server) kvGetNamespace(w http.ResponseWriter, r *http.Request) error {
	var n kvNamespace
	err := s.store.View(func(tx *Tx) (err error) {
		n, err = kvNamespaceOf(tx, r)
		return err
	})
	if err != nil {
		return err
	}
	writeResult(w, n)
	return nil
}

func (s *Server) kvRenameNamespace(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Title string `json:"title"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if err := validateKVTitle(body.Title); err != nil {
		return err
	}
	var n kvNamespace
	err := s.store.Update(func(tx *Tx) (err error) {
		if n, err = kvNamespaceOf(tx, r); err != nil {
			return err
		}
		if taken, err := kvTitleTaken(tx, body.Title, n.ID); err != nil || taken {
			if err == nil {
				err = errKVTitleExists()
			}
			return err
		}
		n.Title = body.Title
		return tx.Put(bucketKVNamespaces, n.ID, n)
	})
	if err != nil {
		return err
	}
	writeResult(w, n)
	return nil
}

func (s *Server) kvDeleteNamespace(w http.ResponseWriter, r *http.Request) error {
	err := s.store.Update(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		if _, err := tx.DeletePrefix(bucketKVValues, n.ID+"/"); err != nil {
			return err
		}
		return tx.Delete(bucketKVNamespaces, n.ID)
	})
	if err != nil {
		return err
	}
	writeResult(w, nil)
	return nil
}

func validateKVKey(key string) error {
	switch {
	case key == "":
		return errorf(http.StatusBadRequest, 10001, "key name must not be empty")
	case key == "." || key == "..":
		return errorf(http.StatusBadRequest, 10001, "key names '.' and '..' are not allowed")
	case len(key) > kvMaxKeyBytes:
		return errorf(http.StatusRequestURITooLong, 10033, "UTF-8 encoded length of %d exceeds key length limit of %d", len(key), kvMaxKeyBytes)
	}
	return nil
}

// kvExpiration resolves expiration / expiration_ttl (the TTL wins when both are given) into
// an absolute unix time, 0 for none.
func (s *Server) kvExpiration(expiration, ttl int64) (int64, error) {
	now := s.now().Unix()
	if ttl != 0 {
		if ttl < kvMinExpirationTTL {
			return 0, errorf(http.StatusBadRequest, 10033, "Invalid expiration_ttl of %d. Expiration TTL must be at least %d.", ttl, kvMinExpirationTTL)
		}
		return now + ttl, nil
	}
	if expiration != 0 && expiration < now+kvMinExpirationTTL {
		return 0, errorf(http.StatusBadRequest, 10033, "Invalid expiration of %d. Expiration times must be at least %d seconds in the future.", expiration, kvMinExpirationTTL)
	}
	return expiration, nil
}

func validateKVMetadata(raw []byte) (json.RawMessage, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	if !json.Valid(raw) {
		return nil, errorf(http.StatusBadRequest, 10026, "metadata must be valid JSON")
	}
	if len(raw) > kvMaxMetadataBytes {
		return nil, errorf(http.StatusRequestEntityTooLarge, 10033, "Metadata length of %d exceeds limit of %d", len(raw), kvMaxMetadataBytes)
	}
	return json.RawMessage(raw), nil
}

func queryInt(r *http.Request, name string) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, 10001, "%s must be an integer, got %q", name, v)
	}
	return n, nil
}

// readKVWrite reads a value write: a multipart form with a `value` field and an optional
// `metadata` JSON field (or metadata.* fields, as the SDK sends Go maps), or a raw body.
func readKVWrite(r *http.Request) (value, metadata []byte, err error) {
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		value, err = io.ReadAll(io.LimitReader(r.Body, kvMaxValueBytes+1))
		return value, nil, err
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		return nil, nil, errorf(http.StatusBadRequest, 10026, "could not parse multipart body: %v", err)
	}
	form := r.MultipartForm
	if vs := form.Value["value"]; len(vs) > 0 {
		value = []byte(vs[0])
	} else if fs := form.File["value"]; len(fs) > 0 {
		f, err := fs[0].Open()
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		if value, err = io.ReadAll(f); err != nil {
			return nil, nil, err
		}
	} else {
		return nil, nil, errorf(http.StatusBadRequest, 10026, "multipart body has no value part")
	}
	if ms := form.Value["metadata"]; len(ms) > 0 {
		metadata = []byte(ms[0])
	} else {
		flat := map[string]string{}
		for k, v := range form.Value {
			if name, ok := strings.CutPrefix(k, "metadata."); ok && len(v) > 0 {
				flat[name] = v[0]
			}
		}
		if len(flat) > 0 {
			metadata, _ = json.Marshal(flat)
		}
	}
	return value, metadata, nil
}

func (s *Server) kvPutValue(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("key_name")
	if err := validateKVKey(key); err != nil {
		return err
	}
	expiration, err := queryInt(r, "expiration")
	if err != nil {
		return err
	}
	ttl, err := queryInt(r, "expiration_ttl")
	if err != nil {
		return err
	}
	if expiration, err = s.kvExpiration(expiration, ttl); err != nil {
		return err
	}
	value, rawMetadata, err := readKVWrite(r)
	if err != nil {
		return err
	}
	if len(value) > kvMaxValueBytes {
		return errorf(http.StatusRequestEntityTooLarge, 10033, "value of %d bytes exceeds the limit of %d bytes", len(value), kvMaxValueBytes)
	}
	metadata, err := validateKVMetadata(rawMetadata)
	if err != nil {
		return err
	}
	err = s.store.Update(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		return tx.Put(bucketKVValues, kvValueKey(n.ID, key), kvEntry{Value: value, Metadata: metadata, Expiration: expiration})
	})
	if err != nil {
		return err
	}
	writeResult(w, nil)
	return nil
}

// kvLoad returns a live (unexpired) entry.
func (s *Server) kvLoad(tx *Tx, namespaceID, key string) (kvEntry, bool, error) {
	var e kvEntry
	ok, err := tx.Get(bucketKVValues, kvValueKey(namespaceID, key), &e)
	if err != nil || !ok {
		return e, false, err
	}
	return e, !s.kvExpired(e), nil
}

func (s *Server) kvExpired(e kvEntry) bool {
	return e.Expiration != 0 && e.Expiration <= s.now().Unix()
}

func errKVKeyNotFound() *apiError { return errorf(http.StatusNotFound, 10009, "get: 'key not found'") }

func (s *Server) kvGetValue(w http.ResponseWriter, r *http.Request) error {
	var e kvEntry
	err := s.store.View(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		var ok bool
		if e, ok, err = s.kvLoad(tx, n.ID, r.PathValue("key_name")); err == nil && !ok {
			err = errKVKeyNotFound()
		}
		return err
	})
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

func (s *Server) kvGetMetadata(w http.ResponseWriter, r *http.Request) error {
	var e kvEntry
	err := s.store.View(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		var ok bool
		if e, ok, err = s.kvLoad(tx, n.ID, r.PathValue("key_name")); err == nil && !ok {
			err = errKVKeyNotFound()
		}
		return err
	})
	if err != nil {
		return err
	}
	if e.Metadata == nil {
		writeResult(w, nil)
	} else {
		writeResult(w, e.Metadata)
	}
	return nil
}

func (s *Server) kvDeleteValue(w http.ResponseWriter, r *http.Request) error {
	err := s.store.Update(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		return tx.Delete(bucketKVValues, kvValueKey(n.ID, r.PathValue("key_name")))
	})
	if err != nil {
		return err
	}
	writeResult(w, nil)
	return nil
}

// kvKey is one item of a key listing.
type kvKey struct {
	Name       string          `json:"name"`
	Expiration int64           `json:"expiration,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"`
}

func (s *Server) kvListKeys(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit := int64(1000)
	if q.Get("limit") != "" {
		var err error
		if limit, err = queryInt(r, "limit"); err != nil {
			return err
		}
		if limit < 10 || limit > 1000 {
			return errorf(http.StatusBadRequest, 10001, "limit must be between 10 and 1000, got %d", limit)
		}
	}
	after := ""
	if c := q.Get("cursor"); c != "" {
		var err error
		if after, err = decodeCursor(c); err != nil {
			return err
		}
	}
	prefix := q.Get("prefix")
	keys := []kvKey{}
	cursor := ""
	err := s.store.View(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		base := n.ID + "/"
		startAfter := ""
		if after != "" {
			startAfter = base + after
		}
		return tx.Each(bucketKVValues, base+prefix, startAfter, func(k string, raw []byte) (bool, error) {
			var e kvEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				return false, err
			}
			if s.kvExpired(e) {
				return true, nil
			}
			if int64(len(keys)) == limit {
				// There is at least one more key: hand out a cursor after the last one returned.
				cursor = encodeCursor(keys[len(keys)-1].Name)
				return false, nil
			}
			keys = append(keys, kvKey{Name: strings.TrimPrefix(k, base), Expiration: e.Expiration, Metadata: e.Metadata})
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	writePage(w, keys, map[string]any{"count": len(keys), "cursor": cursor})
	return nil
}

// kvBulkItem is one write of a bulk PUT.
type kvBulkItem struct {
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

func (s *Server) kvBulkWrite(w http.ResponseWriter, r *http.Request) error {
	var items []kvBulkItem
	if err := decodeJSON(r, &items); err != nil {
		return err
	}
	if len(items) > kvMaxBulkWriteItems {
		return errorf(http.StatusRequestEntityTooLarge, 10001, "a bulk write takes at most %d pairs, got %d", kvMaxBulkWriteItems, len(items))
	}
	entries := make([]kvEntry, len(items))
	for i, it := range items {
		if err := validateKVKey(it.Key); err != nil {
			return err
		}
		value := []byte(it.Value)
		if it.Base64 {
			var err error
			if value, err = base64.StdEncoding.DecodeString(it.Value); err != nil {
				return errorf(http.StatusBadRequest, 10001, "value of key %q is not valid base64", it.Key)
			}
		}
		expiration, err := s.kvExpiration(it.Expiration, it.ExpirationTTL)
		if err != nil {
			return err
		}
		var metadata json.RawMessage
		if len(it.Metadata) > 0 && string(it.Metadata) != "null" {
			if metadata, err = validateKVMetadata(it.Metadata); err != nil {
				return err
			}
		}
		entries[i] = kvEntry{Value: value, Metadata: metadata, Expiration: expiration}
	}
	err := s.store.Update(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		for i, it := range items {
			if err := tx.Put(bucketKVValues, kvValueKey(n.ID, it.Key), entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeResult(w, bulkResult(len(items)))
	return nil
}

func (s *Server) kvBulkDelete(w http.ResponseWriter, r *http.Request) error {
	var keys []string
	if err := decodeJSON(r, &keys); err != nil {
		return err
	}
	if len(keys) > kvMaxBulkWriteItems {
		return errorf(http.StatusRequestEntityTooLarge, 10001, "a bulk delete takes at most %d keys, got %d", kvMaxBulkWriteItems, len(keys))
	}
	err := s.store.Update(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := tx.Delete(bucketKVValues, kvValueKey(n.ID, k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeResult(w, bulkResult(len(keys)))
	return nil
}

func (s *Server) kvBulkGet(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Keys         []string `json:"keys"`
		Type         string   `json:"type"`
		WithMetadata bool     `json:"withMetadata"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if len(body.Keys) == 0 || len(body.Keys) > kvMaxBulkGetKeys {
		return errorf(http.StatusBadRequest, 10001, "a bulk get takes 1 to %d keys, got %d", kvMaxBulkGetKeys, len(body.Keys))
	}
	if body.Type != "" && body.Type != "text" && body.Type != "json" {
		return errorf(http.StatusBadRequest, 10001, "type must be text or json, got %q", body.Type)
	}
	values := map[string]any{}
	err := s.store.View(func(tx *Tx) error {
		n, err := kvNamespaceOf(tx, r)
		if err != nil {
			return err
		}
		for _, k := range body.Keys {
			e, ok, err := s.kvLoad(tx, n.ID, k)
			if err != nil {
				return err
			}
			if !ok {
				values[k] = nil
				continue
			}
			var v any = string(e.Value)
			if body.Type == "json" {
				if !json.Valid(e.Value) {
					return errorf(http.StatusBadRequest, 10001, "value of key %q is not JSON", k)
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
			values[k] = v
		}
		return nil
	})
	if err != nil {
		return err
	}
	writeResult(w, map[string]any{"values": values})
	return nil
}
