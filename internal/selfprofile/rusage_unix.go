//go:build unix

package selfprofile

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// readRusage fills the peak resident set and the CPU times.
func readRusage(u *Usage) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return
	}
	u.UserSeconds = time.Duration(ru.Utime.Nano()).Seconds()
	u.SysSeconds = time.Duration(ru.Stime.Nano()).Seconds()
	if peak, ok := peakRSS(); ok {
		u.MaxRSSBytes = peak
		return
	}
	u.MaxRSSBytes = int64(ru.Maxrss) //nolint:unconvert // not an int64 on every unix
	if runtime.GOOS != "darwin" {
		u.MaxRSSBytes *= 1024 // kilobytes everywhere but macOS
	}
}

// peakRSS is this process's own high-water mark from /proc (Linux). getrusage's maxrss is
// not: on Linux it also counts the memory of the process before it executed this program,
// which for a provider is a vfork of Terraform, so it reports Terraform's size.
func peakRSS() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer func() { _ = f.Close() }()
	scanner := bufio.NewScanner(f)
	for scanner.Scan() {
		if rest, ok := strings.CutPrefix(scanner.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}
