package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Store is the local edge's persistence: one bbolt file (edge.db) in the data directory, plus
// a blobs/ directory for large values (R2 object bodies) that would not fit in memory. Every
// API write runs in one bbolt transaction that is fsynced before the response is sent, so
// whatever the API acknowledged survives a crash or restart.
type Store struct {
	db      *bolt.DB
	dir     string
	tempDir string // removed on Close when the store was opened without a data directory
}

// StoreFile is the name of the database file in the data directory.
const StoreFile = "edge.db"

// OpenStore opens (or creates) the store under dataDir. An empty dataDir gives a throwaway
// store in a temporary directory, for tests. A damaged edge.db is refused with an error that
// names the file and what to do, instead of crashing on it.
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
	s.dir = dataDir
	path := filepath.Join(dataDir, StoreFile)
	if err := checkStoreFile(path); err != nil {
		return nil, damaged(path, err)
	}
	db, err := openChecked(path)
	if err != nil {
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("data directory %s is in use by another local edge (the lock on %s is held)", dataDir, path)
		}
		return nil, damaged(path, err)
	}
	s.db = db
	return s, nil
}

func damaged(path string, err error) error {
	return fmt.Errorf("the local edge's store %s is damaged (%v). Move it aside (mv %s %s.damaged) to start with an empty local edge, or restore it from a backup", path, err, path, path)
}

// Close closes the database and removes a temporary data directory.
func (s *Store) Close() error {
	err := s.db.Close()
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
	}
	return err
}

// Dir is the data directory.
func (s *Store) Dir() string { return s.dir }

// Update runs fn in a read-write transaction, committed (and fsynced) only when fn succeeds.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.db.Update(func(btx *bolt.Tx) error { return fn(&Tx{btx}) })
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(tx *Tx) error) error {
	return s.db.View(func(btx *bolt.Tx) error { return fn(&Tx{btx}) })
}

// errDryRun rolls back a DryRun transaction.
var errDryRun = errors.New("dry run")

// DryRun runs fn in a read-write transaction that is always rolled back: fn sees its own
// writes (a migration's new namespaces, say) but nothing is stored. It returns fn's error.
func (s *Store) DryRun(fn func(tx *Tx) error) error {
	err := s.Update(func(tx *Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errDryRun
	})
	if errors.Is(err, errDryRun) {
		return nil
	}
	return err
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

// Has reports whether key is stored.
func (t *Tx) Has(bucket, key string) bool {
	_, ok := t.GetRaw(bucket, key)
	return ok
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

// Entry is a stored value with its key.
type Entry[T any] struct {
	Key   string
	Value T
}

// Entries decodes every value under the prefix, with its key, in key order.
func Entries[T any](tx *Tx, bucket, prefix string) ([]Entry[T], error) {
	var out []Entry[T]
	err := tx.Each(bucket, prefix, "", func(key string, raw []byte) (bool, error) {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			return false, err
		}
		out = append(out, Entry[T]{Key: key, Value: v})
		return true, nil
	})
	return out, err
}

// All decodes every value under the prefix, in key order.
func All[T any](tx *Tx, bucket, prefix string) ([]T, error) {
	entries, err := Entries[T](tx, bucket, prefix)
	out := make([]T, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.Value)
	}
	return out, err
}

// Get decodes the value under key, or returns notFound when it is absent.
func Get[T any](tx *Tx, bucket, key string, notFound error) (T, error) {
	var v T
	ok, err := tx.Get(bucket, key, &v)
	if err == nil && !ok {
		err = notFound
	}
	return v, err
}

// openChecked opens the database and walks every page once, with memory faults turned into
// panics (a truncated file is memory-mapped past its end, and reading there would otherwise
// kill the process) and panics turned into errors.
func openChecked(path string) (db *bolt.DB, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if p := recover(); p != nil {
				if db != nil {
					_ = db.Close()
					db = nil
				}
				err = fmt.Errorf("%v", p)
			}
		}()
		setPanicOnFault()
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if err != nil {
			return
		}
		err = db.View(func(tx *bolt.Tx) error {
			for cerr := range tx.Check() {
				return cerr
			}
			return nil
		})
		if err != nil {
			_ = db.Close()
			db = nil
		}
	}()
	<-done
	return db, err
}

// View runs read in a read-only transaction and writes what it returns as the result.
func View[T any](w http.ResponseWriter, store *Store, read func(tx *Tx) (T, error)) error {
	var out T
	if err := store.View(func(tx *Tx) (err error) {
		out, err = read(tx)
		return err
	}); err != nil {
		return err
	}
	WriteResult(w, out)
	return nil
}

// Update runs write in a read-write transaction and, once it is committed, writes what it
// returned as the result.
func Update[T any](w http.ResponseWriter, store *Store, write func(tx *Tx) (T, error)) error {
	var out T
	if err := store.Update(func(tx *Tx) (err error) {
		out, err = write(tx)
		return err
	}); err != nil {
		return err
	}
	WriteResult(w, out)
	return nil
}
