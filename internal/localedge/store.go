package localedge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Store is the local edge's persistence: one bbolt file in the data directory. Every API write
// runs in one bbolt transaction that is fsynced before the response is sent, so whatever the
// API acknowledged survives a crash or restart.
type Store struct {
	db      *bolt.DB
	tempDir string // removed on Close when the store was opened without a data directory
}

// Bucket names of the store. Keys inside a bucket are "/"-joined paths so that a prefix scan
// lists the children of one parent (e.g. the keys of one KV namespace).
const (
	bucketKVNamespaces = "kv_namespaces"
	bucketKVValues     = "kv_values"
	bucketR2Buckets    = "r2_buckets"
	bucketR2Objects    = "r2_objects"
)

// OpenStore opens (or creates) the store under dataDir. An empty dataDir gives a throwaway
// store in a temporary directory, for tests.
func OpenStore(dataDir string) (*Store, error) {
	s := &Store{}
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "servicesdo-local-*")
		if err != nil {
			return nil, err
		}
		dataDir, s.tempDir = dir, dir
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory %s: %w", dataDir, err)
	}
	path := filepath.Join(dataDir, "edge.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("data directory %s is in use by another local edge (the lock on %s is held)", dataDir, path)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	s.db = db
	return s, nil
}

// Close closes the database and removes a temporary data directory.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
	}
	return err
}

// Update runs fn in a read-write transaction, committed (and fsynced) only when fn succeeds.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error { return fn(&Tx{btx}) })
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(tx *Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{btx}) })
}

// Tx is one store transaction with JSON (de)serialisation helpers.
type Tx struct{ tx *bolt.Tx }

func (t *Tx) bucket(name string) (*bolt.Bucket, error) {
	if t.tx.Writable() {
		return t.tx.CreateBucketIfNotExists([]byte(name))
	}
	return t.tx.Bucket([]byte(name)), nil
}

// GetRaw returns a copy of the stored bytes, or nil and false when absent.
func (t *Tx) GetRaw(bucket, key string) ([]byte, bool) {
	b, _ := t.bucket(bucket)
	if b == nil {
		return nil, false
	}
	v := b.Get([]byte(key))
	if v == nil {
		return nil, false
	}
	return bytes.Clone(v), true
}

// Get decodes the JSON stored under key into v; false when absent.
func (t *Tx) Get(bucket, key string, v any) (bool, error) {
	raw, ok := t.GetRaw(bucket, key)
	if !ok {
		return false, nil
	}
	return true, json.Unmarshal(raw, v)
}

// PutRaw stores bytes under key.
func (t *Tx) PutRaw(bucket, key string, value []byte) error {
	b, err := t.bucket(bucket)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), value)
}

// Put stores v as JSON under key.
func (t *Tx) Put(bucket, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return t.PutRaw(bucket, key, raw)
}

// Delete removes key; removing an absent key is not an error.
func (t *Tx) Delete(bucket, key string) error {
	b, err := t.bucket(bucket)
	if err != nil || b == nil {
		return err
	}
	return b.Delete([]byte(key))
}

// Each calls fn for every key with the prefix, in byte order, starting after `after` when it
// is non-empty. fn returns false to stop.
func (t *Tx) Each(bucket, prefix, after string, fn func(key string, raw []byte) (bool, error)) error {
	b, _ := t.bucket(bucket)
	if b == nil {
		return nil
	}
	c := b.Cursor()
	start := []byte(prefix)
	if after != "" && after > prefix {
		start = []byte(after)
	}
	for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, v = c.Next() {
		if after != "" && string(k) <= after {
			continue
		}
		more, err := fn(string(k), v)
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// DeletePrefix removes every key with the prefix and returns how many were removed.
func (t *Tx) DeletePrefix(bucket, prefix string) (int, error) {
	var keys []string
	if err := t.Each(bucket, prefix, "", func(k string, _ []byte) (bool, error) {
		keys = append(keys, k)
		return true, nil
	}); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if err := t.Delete(bucket, k); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}
