package api

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
)

// A blob is a large value (an R2 object's body) kept as a file under <data dir>/blobs, so
// that it is streamed to and from disk instead of held in memory and in edge.db. The store
// records blob ids; a blob no record names is garbage (a crash between writing it and
// committing its record), which is harmless.

// Blob describes a written blob.
type Blob struct {
	ID   string
	Size int64
	MD5  string // hex
}

var blobIDRE = lazyregexp.New(`^[0-9a-f]{32}$`)

func (s *Store) blobDir() string { return filepath.Join(s.dir, "blobs") }

func (s *Store) blobPath(id string) (string, error) {
	if !blobIDRE.MatchString(id) {
		return "", fmt.Errorf("invalid blob id %q", id)
	}
	return filepath.Join(s.blobDir(), id[:2], id), nil
}

// ErrBlobTooLarge is returned by WriteBlob when r holds more than its limit.
var ErrBlobTooLarge = errors.New("blob exceeds its size limit")

// WriteBlob streams r into a new blob of at most limit bytes (more is ErrBlobTooLarge and
// nothing is kept).
func (s *Store) WriteBlob(r io.Reader, limit int64) (Blob, error) {
	id := NewHexID()
	path, _ := s.blobPath(id)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Blob{}, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), id+".*.partial")
	if err != nil {
		return Blob{}, err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	sum := md5.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), io.LimitReader(r, limit+1))
	if err == nil && n > limit {
		err = ErrBlobTooLarge
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return Blob{}, err
	}
	return Blob{ID: id, Size: n, MD5: hexSum(sum)}, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// OpenBlob opens a blob for reading.
func (s *Store) OpenBlob(id string) (*os.File, error) {
	path, err := s.blobPath(id)
	if err != nil {
		return nil, err
	}
	return os.Open(path)
}

// RemoveBlob deletes a blob; an absent one is not an error.
func (s *Store) RemoveBlob(id string) error {
	path, err := s.blobPath(id)
	if err != nil || id == "" {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
