package localedge

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// r2Bucket is an R2 bucket as the API returns it (snake_case, location upper case).
type r2Bucket struct {
	Name         string `json:"name"`
	CreationDate string `json:"creation_date"`
	Location     string `json:"location"`
	StorageClass string `json:"storage_class"`
	Jurisdiction string `json:"jurisdiction"`
}

// r2Object is one stored object.
type r2Object struct {
	Key            string            `json:"key"`
	Body           []byte            `json:"body"`
	Etag           string            `json:"etag"`
	Size           int64             `json:"size"`
	LastModified   time.Time         `json:"last_modified"`
	ContentType    string            `json:"content_type,omitempty"`
	StorageClass   string            `json:"storage_class"`
	CustomMetadata map[string]string `json:"custom_metadata,omitempty"`
}

var (
	r2BucketName     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	r2LocationHints  = map[string]bool{"apac": true, "eeur": true, "enam": true, "weur": true, "wnam": true, "oc": true}
	r2StorageClasses = map[string]bool{"Standard": true, "InfrequentAccess": true}
	r2Jurisdictions  = map[string]bool{"default": true, "eu": true, "fedramp": true}
)

// r2MessageEnvelope is R2's variant of the envelope: messages are strings.
func writeR2Result(w http.ResponseWriter, result, info any) {
	writeJSON(w, http.StatusOK, struct {
		Success    bool         `json:"success"`
		Errors     []apiMessage `json:"errors"`
		Messages   []string     `json:"messages"`
		Result     any          `json:"result"`
		ResultInfo any          `json:"result_info,omitempty"`
	}{true, []apiMessage{}, []string{}, result, info})
}

func (s *Server) registerR2Routes() {
	const b = "/accounts/{account_id}/r2/buckets"
	s.handle("POST "+b, s.r2CreateBucket)
	s.handle("GET "+b, s.r2ListBuckets)
	s.handle("GET "+b+"/{bucket_name}", s.r2GetBucket)
	s.handle("PATCH "+b+"/{bucket_name}", s.r2EditBucket)
	s.handle("DELETE "+b+"/{bucket_name}", s.r2DeleteBucket)
	s.handle("GET "+b+"/{bucket_name}/objects", s.r2ListObjects)
	s.handle("PUT "+b+"/{bucket_name}/objects/{object_key}", s.r2PutObject)
	s.handle("GET "+b+"/{bucket_name}/objects/{object_key}", s.r2GetObject)
	s.handle("DELETE "+b+"/{bucket_name}/objects/{object_key}", s.r2DeleteObject)
}

// r2Jurisdiction reads the cf-r2-jurisdiction header ("default" when absent).
func r2Jurisdiction(r *http.Request) (string, error) {
	j := r.Header.Get("cf-r2-jurisdiction")
	if j == "" {
		return "default", nil
	}
	if !r2Jurisdictions[j] {
		return "", errorf(http.StatusBadRequest, 10001, "invalid jurisdiction %q: use default, eu or fedramp", j)
	}
	return j, nil
}

func r2BucketKey(jurisdiction, name string) string { return jurisdiction + "/" + name }

func errR2BucketNotFound() *apiError {
	return errorf(http.StatusNotFound, 10006, "The specified bucket does not exist.")
}

// r2BucketOf loads the bucket named in the path, in the request's jurisdiction.
func r2BucketOf(tx *Tx, r *http.Request) (r2Bucket, error) {
	var b r2Bucket
	j, err := r2Jurisdiction(r)
	if err != nil {
		return b, err
	}
	ok, err := tx.Get(bucketR2Buckets, r2BucketKey(j, r.PathValue("bucket_name")), &b)
	if err == nil && !ok {
		err = errR2BucketNotFound()
	}
	return b, err
}

func (s *Server) r2CreateBucket(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name         string `json:"name"`
		LocationHint string `json:"locationHint"`
		StorageClass string `json:"storageClass"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		return errorf(http.StatusBadRequest, 10040, "The JSON you provided was not well formed.")
	}
	j, err := r2Jurisdiction(r)
	if err != nil {
		return err
	}
	if !r2BucketName.MatchString(body.Name) {
		return errorf(http.StatusBadRequest, 10005, "The specified bucket name is not valid.")
	}
	if body.StorageClass == "" {
		body.StorageClass = "Standard"
	}
	if !r2StorageClasses[body.StorageClass] {
		return errorf(http.StatusBadRequest, 10040, "The JSON you provided was not well formed.")
	}
	hint := strings.ToLower(body.LocationHint)
	if hint != "" && !r2LocationHints[hint] {
		return errorf(http.StatusBadRequest, 10040, "The JSON you provided was not well formed.")
	}
	if hint == "" {
		// Without a hint the bucket lands near the client; the EU jurisdiction keeps it in Europe.
		hint = "enam"
		if j == "eu" {
			hint = "weur"
		}
	}
	bucket := r2Bucket{
		Name:         body.Name,
		CreationDate: s.now().Format("2006-01-02T15:04:05.000Z"),
		Location:     strings.ToUpper(hint),
		StorageClass: body.StorageClass,
		Jurisdiction: j,
	}
	err = s.store.Update(func(tx *Tx) error {
		if _, exists := tx.GetRaw(bucketR2Buckets, r2BucketKey(j, body.Name)); exists {
			return errorf(http.StatusConflict, 10004, "The bucket you tried to create already exists, and you own it.")
		}
		return tx.Put(bucketR2Buckets, r2BucketKey(j, body.Name), bucket)
	})
	if err != nil {
		return err
	}
	writeR2Result(w, bucket, nil)
	return nil
}

func (s *Server) r2ListBuckets(w http.ResponseWriter, r *http.Request) error {
	j, err := r2Jurisdiction(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	perPage := 20
	if v := q.Get("per_page"); v != "" {
		if perPage, err = strconv.Atoi(v); err != nil || perPage < 1 || perPage > 1000 {
			return errorf(http.StatusBadRequest, 10001, "per_page must be between 1 and 1000, got %q", v)
		}
	}
	after := q.Get("start_after")
	if c := q.Get("cursor"); c != "" {
		if after, err = decodeCursor(c); err != nil {
			return err
		}
	}
	var all []r2Bucket
	err = s.store.View(func(tx *Tx) error {
		return tx.Each(bucketR2Buckets, j+"/", "", func(_ string, raw []byte) (bool, error) {
			var b r2Bucket
			if err := json.Unmarshal(raw, &b); err != nil {
				return false, err
			}
			if strings.Contains(b.Name, q.Get("name_contains")) && b.Name > after {
				all = append(all, b)
			}
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	if q.Get("direction") == "desc" {
		sort.Slice(all, func(i, k int) bool { return all[i].Name > all[k].Name })
	}
	cursor := ""
	if len(all) > perPage {
		all = all[:perPage]
		cursor = encodeCursor(all[perPage-1].Name)
	}
	if all == nil {
		all = []r2Bucket{}
	}
	writeR2Result(w, map[string]any{"buckets": all}, map[string]any{"cursor": cursor, "per_page": perPage})
	return nil
}

func (s *Server) r2GetBucket(w http.ResponseWriter, r *http.Request) error {
	var b r2Bucket
	err := s.store.View(func(tx *Tx) (err error) {
		b, err = r2BucketOf(tx, r)
		return err
	})
	if err != nil {
		return err
	}
	writeR2Result(w, b, nil)
	return nil
}

func (s *Server) r2EditBucket(w http.ResponseWriter, r *http.Request) error {
	class := r.Header.Get("cf-r2-storage-class")
	if !r2StorageClasses[class] {
		return errorf(http.StatusBadRequest, 10062, "The storage class %q is not valid: use Standard or InfrequentAccess.", class)
	}
	var b r2Bucket
	err := s.store.Update(func(tx *Tx) (err error) {
		if b, err = r2BucketOf(tx, r); err != nil {
			return err
		}
		b.StorageClass = class
		return tx.Put(bucketR2Buckets, r2BucketKey(b.Jurisdiction, b.Name), b)
	})
	if err != nil {
		return err
	}
	writeR2Result(w, b, nil)
	return nil
}

func r2ObjectPrefix(b r2Bucket) string { return b.Jurisdiction + "/" + b.Name + "/" }

func (s *Server) r2DeleteBucket(w http.ResponseWriter, r *http.Request) error {
	err := s.store.Update(func(tx *Tx) error {
		b, err := r2BucketOf(tx, r)
		if err != nil {
			return err
		}
		empty := true
		if err := tx.Each(bucketR2Objects, r2ObjectPrefix(b), "", func(string, []byte) (bool, error) {
			empty = false
			return false, nil
		}); err != nil {
			return err
		}
		if !empty {
			return errorf(http.StatusConflict, 10008, "The bucket you tried to delete is not empty.")
		}
		return tx.Delete(bucketR2Buckets, r2BucketKey(b.Jurisdiction, b.Name))
	})
	if err != nil {
		return err
	}
	writeR2Result(w, map[string]any{}, nil)
	return nil
}

// r2ObjectInfo is an object in a listing (no body).
func r2ObjectInfo(o r2Object) map[string]any {
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

func (s *Server) r2ListObjects(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	perPage := 1000
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return errorf(http.StatusBadRequest, 10001, "per_page must be between 1 and 1000, got %q", v)
		}
		perPage = n
	}
	after := q.Get("start_after")
	if c := q.Get("cursor"); c != "" {
		var err error
		if after, err = decodeCursor(c); err != nil {
			return err
		}
	}
	objects := []map[string]any{}
	cursor := ""
	err := s.store.View(func(tx *Tx) error {
		b, err := r2BucketOf(tx, r)
		if err != nil {
			return err
		}
		base := r2ObjectPrefix(b)
		startAfter := ""
		if after != "" {
			startAfter = base + after
		}
		last := ""
		return tx.Each(bucketR2Objects, base+q.Get("prefix"), startAfter, func(_ string, raw []byte) (bool, error) {
			if len(objects) == perPage {
				cursor = encodeCursor(last)
				return false, nil
			}
			var o r2Object
			if err := json.Unmarshal(raw, &o); err != nil {
				return false, err
			}
			objects = append(objects, r2ObjectInfo(o))
			last = o.Key
			return true, nil
		})
	})
	if err != nil {
		return err
	}
	writeR2Result(w, objects, map[string]any{"cursor": cursor, "per_page": perPage, "is_truncated": cursor != "", "delimited": []string{}})
	return nil
}

func (s *Server) r2PutObject(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return errorf(http.StatusBadRequest, 10026, "could not read request body: %v", err)
	}
	sum := md5.Sum(body)
	o := r2Object{
		Key: r.PathValue("object_key"), Body: body, Etag: hex.EncodeToString(sum[:]), Size: int64(len(body)),
		LastModified: s.now(), ContentType: r.Header.Get("Content-Type"), StorageClass: "Standard",
	}
	if class := r.Header.Get("cf-r2-storage-class"); class != "" {
		if !r2StorageClasses[class] {
			return errorf(http.StatusBadRequest, 10062, "The storage class %q is not valid: use Standard or InfrequentAccess.", class)
		}
		o.StorageClass = class
	}
	err = s.store.Update(func(tx *Tx) error {
		b, err := r2BucketOf(tx, r)
		if err != nil {
			return err
		}
		if class := r.Header.Get("cf-r2-storage-class"); class == "" {
			o.StorageClass = b.StorageClass
		}
		return tx.Put(bucketR2Objects, r2ObjectPrefix(b)+o.Key, o)
	})
	if err != nil {
		return err
	}
	writeR2Result(w, map[string]any{"key": o.Key, "etag": o.Etag, "size": strconv.FormatInt(o.Size, 10), "storage_class": o.StorageClass}, nil)
	return nil
}

func (s *Server) r2GetObject(w http.ResponseWriter, r *http.Request) error {
	var o r2Object
	err := s.store.View(func(tx *Tx) error {
		b, err := r2BucketOf(tx, r)
		if err != nil {
			return err
		}
		ok, err := tx.Get(bucketR2Objects, r2ObjectPrefix(b)+r.PathValue("object_key"), &o)
		if err == nil && !ok {
			err = errorf(http.StatusNotFound, 10007, "The specified key does not exist.")
		}
		return err
	})
	if err != nil {
		return err
	}
	ct := o.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("ETag", `"`+o.Etag+`"`)
	w.Header().Set("Last-Modified", o.LastModified.Format(http.TimeFormat))
	_, _ = w.Write(o.Body)
	return nil
}

func (s *Server) r2DeleteObject(w http.ResponseWriter, r *http.Request) error {
	key := r.PathValue("object_key")
	err := s.store.Update(func(tx *Tx) error {
		b, err := r2BucketOf(tx, r)
		if err != nil {
			return err
		}
		return tx.Delete(bucketR2Objects, r2ObjectPrefix(b)+key)
	})
	if err != nil {
		return err
	}
	writeR2Result(w, map[string]any{"key": key}, nil)
	return nil
}
