package r2

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// writeResult writes R2's variant of the envelope, whose messages are strings.
func writeResult(w http.ResponseWriter, result, info any) {
	api.WriteJSON(w, http.StatusOK, struct {
		Success    bool          `json:"success"`
		Errors     []api.Message `json:"errors"`
		Messages   []string      `json:"messages"`
		Result     any           `json:"result"`
		ResultInfo any           `json:"result_info,omitempty"`
	}{true, []api.Message{}, []string{}, result, info})
}

func (s *R2) createBucket(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name         string `json:"name"`
		LocationHint string `json:"locationHint"`
		StorageClass string `json:"storageClass"`
	}
	if err := api.DecodeJSON(w, r, &body); err != nil {
		return errMalformedJSON()
	}
	j, err := jurisdictionOf(r)
	if err != nil {
		return err
	}
	if !bucketNameRE.MatchString(body.Name) {
		return errInvalidBucketName()
	}
	if body.StorageClass == "" {
		body.StorageClass = "Standard"
	}
	hint := strings.ToLower(body.LocationHint)
	if !storageClasses[body.StorageClass] || (hint != "" && !locationHints[hint]) {
		return errMalformedJSON()
	}
	if hint == "" {
		// Without a hint the bucket lands near the client; the EU jurisdiction keeps it in Europe.
		hint = "enam"
		if j == "eu" {
			hint = "weur"
		}
	}
	created := bucket{
		Name:         body.Name,
		CreationDate: s.now().Format("2006-01-02T15:04:05.000Z"),
		Location:     strings.ToUpper(hint),
		StorageClass: body.StorageClass,
		Jurisdiction: j,
	}
	err = s.store.Update(func(tx *api.Tx) error {
		if tx.Has(bucketBuckets, bucketKey(j, body.Name)) {
			return errBucketExists()
		}
		return tx.Put(bucketBuckets, bucketKey(j, body.Name), created)
	})
	if err != nil {
		return err
	}
	writeResult(w, created, nil)
	return nil
}

// perPage reads per_page (1 to 1000).
func perPage(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("per_page")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, api.Errorf(http.StatusBadRequest, 10001, "per_page must be between 1 and 1000, got %q", v)
	}
	return n, nil
}

// startAfter is where a listing starts: after its cursor, else after start_after.
func startAfter(r *http.Request) (string, error) {
	if c := r.URL.Query().Get("cursor"); c != "" {
		return api.DecodeCursor(c)
	}
	return r.URL.Query().Get("start_after"), nil
}

func (s *R2) listBuckets(w http.ResponseWriter, r *http.Request) error {
	j, err := jurisdictionOf(r)
	if err != nil {
		return err
	}
	limit, err := perPage(r, 20)
	if err != nil {
		return err
	}
	after, err := startAfter(r)
	if err != nil {
		return err
	}
	var all []bucket
	if err := s.store.View(func(tx *api.Tx) (err error) {
		all, err = api.All[bucket](tx, bucketBuckets, j+"/")
		return err
	}); err != nil {
		return err
	}
	q := r.URL.Query()
	picked := []bucket{}
	for _, b := range all {
		if strings.Contains(b.Name, q.Get("name_contains")) && b.Name > after {
			picked = append(picked, b)
		}
	}
	if q.Get("direction") == "desc" {
		sort.Slice(picked, func(i, k int) bool { return picked[i].Name > picked[k].Name })
	}
	cursor := ""
	if len(picked) > limit {
		picked = picked[:limit]
		cursor = api.EncodeCursor(picked[limit-1].Name)
	}
	writeResult(w, map[string]any{"buckets": picked}, map[string]any{"cursor": cursor, "per_page": limit})
	return nil
}

func (s *R2) getBucket(w http.ResponseWriter, r *http.Request) error {
	var b bucket
	if err := s.store.View(func(tx *api.Tx) (err error) {
		b, err = bucketOf(tx, r)
		return err
	}); err != nil {
		return err
	}
	writeResult(w, b, nil)
	return nil
}

func (s *R2) editBucket(w http.ResponseWriter, r *http.Request) error {
	class := r.Header.Get("cf-r2-storage-class")
	if !storageClasses[class] {
		return errStorageClass(class)
	}
	var b bucket
	err := s.store.Update(func(tx *api.Tx) (err error) {
		if b, err = bucketOf(tx, r); err != nil {
			return err
		}
		b.StorageClass = class
		return tx.Put(bucketBuckets, bucketKey(b.Jurisdiction, b.Name), b)
	})
	if err != nil {
		return err
	}
	writeResult(w, b, nil)
	return nil
}

func (s *R2) deleteBucket(w http.ResponseWriter, r *http.Request) error {
	err := s.store.Update(func(tx *api.Tx) error {
		b, err := bucketOf(tx, r)
		if err != nil {
			return err
		}
		empty := true
		if err := tx.Each(bucketObjects, objectPrefix(b), "", func(string, []byte) (bool, error) {
			empty = false
			return false, nil
		}); err != nil {
			return err
		}
		if !empty {
			return errBucketNotEmpty()
		}
		return tx.Delete(bucketBuckets, bucketKey(b.Jurisdiction, b.Name))
	})
	if err != nil {
		return err
	}
	writeResult(w, map[string]any{}, nil)
	return nil
}

// objectInfo is an object in a listing (no body).
func objectInfo(o object) map[string]any {
	info := map[string]any{
		"key": o.Key, "etag": o.Etag, "size": o.Size, "storage_class": o.StorageClass,
		"last_modified": o.LastModified.Format(time.RFC3339Nano), "http_metadata": map[string]string{},
		"custom_metadata": map[string]string{},
	}
	if o.ContentType != "" {
		info["http_metadata"] = map[string]string{"contentType": o.ContentType}
	}
	if o.CustomMetadata != nil {
		info["custom_metadata"] = o.CustomMetadata
	}
	return info
}

func (s *R2) listObjects(w http.ResponseWriter, r *http.Request) error {
	limit, err := perPage(r, 1000)
	if err != nil {
		return err
	}
	after, err := startAfter(r)
	if err != nil {
		return err
	}
	objects := []map[string]any{}
	cursor := ""
	err = s.store.View(func(tx *api.Tx) error {
		b, err := bucketOf(tx, r)
		if err != nil {
			return err
		}
		base := objectPrefix(b)
		from := ""
		if after != "" {
			from = base + after
		}
		last := ""
		return tx.Each(bucketObjects, base+r.URL.Query().Get("prefix"), from, func(_ string, raw []byte) (bool, error) {
			if len(objects) == limit {
				cursor = api.EncodeCursor(last)
				return false, nil
			}
			var o object
			if err := json.Unmarshal(raw, &o); err != nil {
				return false, err
			}
			objects = append(objects, objectInfo(o))
			last = o.Key
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	writeResult(w, objects, map[string]any{"cursor": cursor, "per_page": limit, "is_truncated": cursor != "", "delimited": []string{}})
	return nil
}

// objectKey is the key in the path (it may contain "/"), checked against R2's limit.
func objectKey(r *http.Request) (string, error) {
	key := r.PathValue("object_key")
	if key == "" || len(key) > maxKeyBytes {
		return "", errInvalidKey(key)
	}
	return key, nil
}

// putObject streams the body into a blob (at most maxPutBytes; a larger declared length is
// refused before reading), then records the object.
func (s *R2) putObject(w http.ResponseWriter, r *http.Request) error {
	key, err := objectKey(r)
	if err != nil {
		return err
	}
	class := r.Header.Get("cf-r2-storage-class")
	if class != "" && !storageClasses[class] {
		return errStorageClass(class)
	}
	if err := s.store.View(func(tx *api.Tx) error {
		_, err := bucketOf(tx, r)
		return err
	}); err != nil {
		return err
	}
	body, err := api.LimitBody(w, r, maxPutBytes)
	if err != nil {
		return errEntityTooLarge()
	}
	blob, err := s.store.WriteBlob(body, maxPutBytes)
	switch {
	case errors.Is(err, api.ErrBlobTooLarge) || api.IsTooLarge(err):
		return errEntityTooLarge()
	case err != nil:
		return api.Errorf(http.StatusBadRequest, 10026, "could not read request body: %v", err)
	}
	o := object{
		Key: key, Blob: blob.ID, Etag: blob.MD5, Size: blob.Size,
		LastModified: s.now(), ContentType: r.Header.Get("Content-Type"), StorageClass: class,
	}
	var replaced string
	err = s.store.Update(func(tx *api.Tx) error {
		b, err := bucketOf(tx, r)
		if err != nil {
			return err
		}
		if o.StorageClass == "" {
			o.StorageClass = b.StorageClass
		}
		var old object
		if ok, _ := tx.Get(bucketObjects, objectPrefix(b)+key, &old); ok {
			replaced = old.Blob
		}
		return tx.Put(bucketObjects, objectPrefix(b)+key, o)
	})
	if err != nil {
		_ = s.store.RemoveBlob(blob.ID)
		return err
	}
	_ = s.store.RemoveBlob(replaced)
	// The upload result carries the size as a string (cloudflare-go's BucketObjectUploadResponse:
	// "the size of the uploaded object in bytes (as a string)"); listings carry a number.
	writeResult(w, map[string]any{"key": o.Key, "etag": o.Etag, "size": strconv.FormatInt(o.Size, 10), "storage_class": o.StorageClass}, nil)
	return nil
}

func (s *R2) getObject(w http.ResponseWriter, r *http.Request) error {
	key, err := objectKey(r)
	if err != nil {
		return err
	}
	var o object
	if err := s.store.View(func(tx *api.Tx) error {
		b, err := bucketOf(tx, r)
		if err == nil {
			o, err = api.Get[object](tx, bucketObjects, objectPrefix(b)+key, errKeyNotFound())
		}
		return err
	}); err != nil {
		return err
	}
	var body io.Reader = bytes.NewReader(o.Body)
	if o.Blob != "" {
		f, err := s.store.OpenBlob(o.Blob)
		if err != nil {
			return err
		}
		defer f.Close()
		body = f
	}
	ct := o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.FormatInt(o.Size, 10))
	w.Header().Set("ETag", `"`+o.Etag+`"`)
	w.Header().Set("Last-Modified", o.LastModified.Format(http.TimeFormat))
	_, _ = io.Copy(w, body)
	return nil
}

func (s *R2) deleteObject(w http.ResponseWriter, r *http.Request) error {
	key, err := objectKey(r)
	if err != nil {
		return err
	}
	var removed string
	err = s.store.Update(func(tx *api.Tx) error {
		b, err := bucketOf(tx, r)
		if err != nil {
			return err
		}
		var old object
		if ok, _ := tx.Get(bucketObjects, objectPrefix(b)+key, &old); ok {
			removed = old.Blob
		}
		return tx.Delete(bucketObjects, objectPrefix(b)+key)
	})
	if err != nil {
		return err
	}
	_ = s.store.RemoveBlob(removed)
	writeResult(w, map[string]any{"key": key}, nil)
	return nil
}
