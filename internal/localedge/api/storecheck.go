package api

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
)

// bbolt's file format: two meta pages at the start, each a 16-byte page header followed by
// the meta (magic, version, page size, flags, root bucket, freelist page, page high-water
// mark, transaction id, checksum of the preceding meta bytes).
const (
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	boltPageHeader = 16
	boltMetaSize   = 64 // up to and including the checksum
)

type boltMeta struct {
	pageSize uint32
	pages    uint64 // high-water mark: the file holds at least this many pages
	txid     uint64
}

// readMeta reads the meta at offset; ok is false when it is not a valid meta.
func readMeta(f *os.File, offset int64) (boltMeta, bool) {
	buf := make([]byte, boltPageHeader+boltMetaSize)
	if _, err := f.ReadAt(buf, offset); err != nil {
		return boltMeta{}, false
	}
	m := buf[boltPageHeader:]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
		return boltMeta{}, false
	}
	h := fnv.New64a()
	_, _ = h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, false
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), pages: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, true
}

// checkStoreFile refuses a database file that is cut short: bbolt maps the pages its meta
// claims, and touching the missing ones faults. A missing or empty file is fine (bbolt
// creates it).
func checkStoreFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() == 0 {
		return nil
	}
	first, ok0 := readMeta(f, 0)
	if !ok0 && info.Size() < boltPageHeader+boltMetaSize {
		return fmt.Errorf("only %d bytes, not a database", info.Size())
	}
	best, ok := first, ok0
	// The second meta page follows the first; its offset is the page size, which only a valid
	// first meta tells, so try the common sizes when it is damaged.
	sizes := []int64{4096, 8192, 16384, 65536}
	if ok0 {
		sizes = []int64{int64(first.pageSize)}
	}
	for _, ps := range sizes {
		if second, ok1 := readMeta(f, ps); ok1 && (!ok || second.txid > best.txid) {
			best, ok = second, true
		}
	}
	if !ok {
		if _, err := f.ReadAt(make([]byte, 1), 0); err == io.EOF {
			return nil
		}
		return errors.New("neither of its meta pages is valid: not a local edge database, or overwritten")
	}
	if want := int64(best.pages) * int64(best.pageSize); info.Size() < want {
		return fmt.Errorf("truncated: %d of its %d bytes are there", info.Size(), want)
	}
	return nil
}

// setPanicOnFault makes a memory fault on this goroutine (reading an mmap past the end of a
// truncated file) a recoverable panic instead of a crash.
func setPanicOnFault() { debug.SetPanicOnFault(true) }
