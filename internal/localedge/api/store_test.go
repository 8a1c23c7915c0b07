package api_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// writeStore makes a data directory whose edge.db holds a few hundred values.
func writeStore(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	s, err := api.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(func(tx *api.Tx) error {
		for i := range 500 {
			if err := tx.Put("values", fmt.Sprintf("k%04d", i), strings.Repeat("v", 400)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, filepath.Join(dir, api.StoreFile)
}

// A damaged edge.db is refused with a message that names the file and what to do, instead of
// crashing the process (a truncated file is memory-mapped past its end).
func TestOpenStoreRefusesDamagedFile(t *testing.T) {
	t.Parallel()
	_, full := writeStore(t)
	info, err := os.Stat(full)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		damage func(path string) error
		want   string
	}{
		{"truncated to a tenth", func(p string) error { return os.Truncate(p, info.Size()/10) }, "truncated"},
		{"truncated to a half", func(p string) error { return os.Truncate(p, info.Size()/2) }, "truncated"},
		{"cut inside the first page", func(p string) error { return os.Truncate(p, 100) }, "damaged"},
		{"meta pages overwritten", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt(make([]byte, 2*4096), 0)
			return err
		}, "meta pages"},
		{"a data page overwritten", func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte(strings.Repeat("\xff", 4096)), 4*4096)
			return err
		}, "damaged"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir, path := writeStore(t)
			if err := c.damage(path); err != nil {
				t.Fatal(err)
			}
			s, err := api.OpenStore(dir)
			if err == nil {
				_ = s.Close()
				t.Fatal("a damaged store opened")
			}
			msg := err.Error()
			if !strings.Contains(msg, path) || !strings.Contains(msg, c.want) || !strings.Contains(msg, "mv "+path+" "+path+".damaged") {
				t.Fatalf("error %q: want the file, %q and how to move it aside", msg, c.want)
			}
		})
	}
	// An intact store still opens.
	dir, _ := writeStore(t)
	s, err := api.OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
}
