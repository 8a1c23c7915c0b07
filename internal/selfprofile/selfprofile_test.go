package selfprofile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestStartWritesProfilesAndUsage(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	t.Setenv(EnvUsageDir, "")
	stop := Start()
	sink := make([][]byte, 0, 64)
	for range 64 {
		sink = append(sink, make([]byte, 1<<16))
	}
	_ = sink
	stop()
	for _, kind := range []string{"cpu", "allocs"} {
		matches, _ := filepath.Glob(filepath.Join(dir, kind+"-*.pprof"))
		if len(matches) != 1 {
			t.Fatalf("%s profiles: %v, want one", kind, matches)
		}
		if info, err := os.Stat(matches[0]); err != nil || info.Size() == 0 {
			t.Fatalf("%s profile is empty: %v", kind, err)
		}
	}
	usage, err := ReadUsage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(usage) != 1 || usage[0].PID != os.Getpid() || usage[0].MaxRSSBytes <= 0 || usage[0].TotalAlloc < 64<<16 || usage[0].Error != "" {
		t.Fatalf("usage = %+v, want this process with its peak RSS and allocations", usage)
	}
}

func TestUsageDirWritesUsageOnly(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, "")
	t.Setenv(EnvUsageDir, dir)
	Start()()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || filepath.Ext(entries[0].Name()) != ".json" {
		t.Fatalf("files = %v, want one usage file", entries)
	}
}

func TestNothingWithoutTheVariables(t *testing.T) {
	t.Setenv(EnvDir, "")
	t.Setenv(EnvUsageDir, "")
	wd := t.TempDir()
	t.Chdir(wd)
	Start()()
	if entries, _ := os.ReadDir(wd); len(entries) != 0 {
		t.Fatalf("wrote %v without being asked", entries)
	}
}
