package rollout

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxVersions is how many versions one Workers deployment may hold.
const MaxVersions = 2

// Share is one version's part of a deployment's traffic.
type Share struct {
	VersionID string
	Percent   float64
}

// Split is the traffic of one deployment: one or two versions, in deployment order, with
// percentages that sum to 100. Every split this package writes lists the stable version
// first and the candidate second, on every step, so that Durable Objects keep the version
// they were assigned (Cloudflare keeps an object's version when the order is unchanged and
// only the percentages move).
type Split []Share

// Only is the split that sends all traffic to version.
func Only(version string) Split { return Split{{VersionID: version, Percent: 100}} }

// TwoWay is the split that gives candidate percent % and stable the rest, stable first. At
// 100 % the stable version leaves the deployment; at 0 % the candidate stays in it, which
// makes it reachable with the Cloudflare-Workers-Version-Overrides header (a preview).
func TwoWay(stable, candidate string, percent float64) Split {
	if percent >= 100 {
		return Only(candidate)
	}
	return Split{{VersionID: stable, Percent: 100 - percent}, {VersionID: candidate, Percent: percent}}
}

// Percent is version's share of the traffic (0 when it is not in the split).
func (s Split) Percent(version string) float64 {
	for _, sh := range s {
		if sh.VersionID == version {
			return sh.Percent
		}
	}
	return 0
}

// Has reports whether version is in the split (at any percentage, 0 included).
func (s Split) Has(version string) bool {
	for _, sh := range s {
		if sh.VersionID == version {
			return true
		}
	}
	return false
}

// Equal reports whether both splits list the same versions in the same order at the same
// percentages.
func (s Split) Equal(o Split) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i].VersionID != o[i].VersionID || math.Abs(s[i].Percent-o[i].Percent) > percentTolerance {
			return false
		}
	}
	return true
}

// percentTolerance absorbs float noise in percentages read back from the API.
const percentTolerance = 1e-9

// Validate checks the split against the platform's rules: one or two distinct versions, each
// at 0–100 %, summing to 100.
func (s Split) Validate() error {
	if len(s) == 0 {
		return fmt.Errorf("a deployment needs at least one version")
	}
	if len(s) > MaxVersions {
		return fmt.Errorf("a deployment holds at most %d versions, this one has %d (%s)", MaxVersions, len(s), s)
	}
	total := 0.0
	for i, sh := range s {
		if sh.VersionID == "" {
			return fmt.Errorf("version %d of the deployment has no id", i+1)
		}
		if sh.Percent < 0 || sh.Percent > 100 || math.IsNaN(sh.Percent) {
			return fmt.Errorf("version %s has %s %%: a share is 0–100 %%", sh.VersionID, formatPercent(sh.Percent))
		}
		total += sh.Percent
	}
	if len(s) == 2 && s[0].VersionID == s[1].VersionID {
		return fmt.Errorf("version %s is listed twice", s[0].VersionID)
	}
	if math.Abs(total-100) > percentTolerance {
		return fmt.Errorf("the shares sum to %s %%, not 100 %%", formatPercent(total))
	}
	return nil
}

// String renders the split as "95 % a, 5 % b".
func (s Split) String() string { return s.render(func(id string) string { return id }) }

// Short renders the split with abbreviated version ids, for logs.
func (s Split) Short() string { return s.render(ShortID) }

func (s Split) render(name func(string) string) string {
	parts := make([]string, len(s))
	for i, sh := range s {
		parts[i] = formatPercent(sh.Percent) + " % " + name(sh.VersionID)
	}
	return strings.Join(parts, ", ")
}

func (s Split) clone() Split { return append(Split(nil), s...) }

// ShortID abbreviates a version id (a UUID) to its first 8 characters, for logs and messages.
func ShortID(id string) string {
	if id == "" {
		return "(new version)"
	}
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func formatPercent(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// formatDuration renders d without the zero units time.Duration.String keeps ("5m", not "5m0s").
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.Round(time.Second).String()
	if d < time.Second {
		s = d.String()
	}
	for _, unit := range []string{"h0m0s", "m0s"} {
		if strings.HasSuffix(s, unit) {
			s = strings.TrimSuffix(s, unit) + unit[:1]
		}
	}
	return s
}
