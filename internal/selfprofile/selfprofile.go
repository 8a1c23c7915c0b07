// Package selfprofile lets a developer measure the provider process that Terraform starts.
// With SERVICESDO_PROFILE_DIR set, the process writes its CPU profile, its allocation
// profile and its resource usage into that directory when it exits; with
// SERVICESDO_USAGE_DIR, only its resource usage (peak RSS, CPU time, allocations), which
// costs nothing measurable. Terraform starts the provider more than once per command, so
// every file carries the process id.
package selfprofile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"time"
)

const (
	// EnvDir names the directory profiles and usage are written to.
	EnvDir = "SERVICESDO_PROFILE_DIR"
	// EnvUsageDir names the directory usage alone is written to.
	EnvUsageDir = "SERVICESDO_USAGE_DIR"
)

// Usage is what a process cost, as written to usage-<pid>.json.
type Usage struct {
	PID         int     `json:"pid"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
	UserSeconds float64 `json:"user_seconds"`
	SysSeconds  float64 `json:"sys_seconds"`
	TotalAlloc  uint64  `json:"total_alloc_bytes"`
	Mallocs     uint64  `json:"mallocs"`
	NumGC       uint32  `json:"num_gc"`
	WallSeconds float64 `json:"wall_seconds"`
	Error       string  `json:"error,omitempty"`
}

// CPUSeconds is user plus system time.
func (u Usage) CPUSeconds() float64 { return u.UserSeconds + u.SysSeconds }

// Start begins measuring when EnvDir or EnvUsageDir is set and returns the function that
// stops and writes the files; otherwise both do nothing. Errors go to stderr: measuring
// must never change what the provider does.
func Start() (stop func()) {
	dir, profile := os.Getenv(EnvDir), true
	if dir == "" {
		dir, profile = os.Getenv(EnvUsageDir), false
	}
	if dir == "" {
		return func() {}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "selfprofile:", err)
		return func() {}
	}
	started, pid := time.Now(), os.Getpid()
	name := func(kind, ext string) string { return filepath.Join(dir, fmt.Sprintf("%s-%d.%s", kind, pid, ext)) }
	var cpu *os.File
	if profile {
		f, err := os.Create(name("cpu", "pprof"))
		if err == nil {
			if err = pprof.StartCPUProfile(f); err == nil {
				cpu = f
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "selfprofile:", err)
		}
	}
	return func() {
		usage := Usage{PID: pid, WallSeconds: time.Since(started).Seconds()}
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				usage.Error = err.Error()
			}
		}
		if profile {
			if err := writeAllocs(name("allocs", "pprof")); err != nil {
				usage.Error = err.Error()
			}
		}
		readRusage(&usage)
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		usage.TotalAlloc, usage.Mallocs, usage.NumGC = ms.TotalAlloc, ms.Mallocs, ms.NumGC
		raw, _ := json.MarshalIndent(usage, "", "  ")
		if err := os.WriteFile(name("usage", "json"), raw, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "selfprofile:", err)
		}
	}
}

func writeAllocs(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// ReadUsage reads every usage file in dir, in process id order.
func ReadUsage(dir string) ([]Usage, error) {
	files, err := filepath.Glob(filepath.Join(dir, "usage-*.json"))
	if err != nil {
		return nil, err
	}
	out := make([]Usage, 0, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var u Usage
		if err := json.Unmarshal(raw, &u); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}
