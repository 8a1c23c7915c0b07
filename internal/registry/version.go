package registry

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Version is a semantic version (https://semver.org/spec/v2.0.0.html).
type Version struct {
	Major, Minor, Patch uint64
	Pre                 []string // prerelease identifiers, e.g. ["rc", "1"]
	Build               string   // build metadata, ignored for precedence
	raw                 string   // the text it was parsed from
}

// ParseVersion parses a semantic version, allowing a leading "v".
func ParseVersion(s string) (Version, error) {
	v, ok := parseVersion(s)
	if !ok {
		return Version{}, fmt.Errorf(`%q is not a semantic version: use MAJOR.MINOR.PATCH such as "1.2.0"`, s)
	}
	return v, nil
}

func parseVersion(s string) (Version, bool) {
	v := Version{raw: s}
	rest := strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		v.Build = rest[i+1:]
		rest = rest[:i]
		if !validIdents(v.Build, false) {
			return Version{}, false
		}
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		pre := rest[i+1:]
		rest = rest[:i]
		if !validIdents(pre, true) {
			return Version{}, false
		}
		v.Pre = strings.Split(pre, ".")
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return Version{}, false
	}
	nums := [3]*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, p := range parts {
		n, ok := parseNumber(p)
		if !ok {
			return Version{}, false
		}
		*nums[i] = n
	}
	return v, true
}

// parseNumber parses a numeric identifier: digits, no leading zeros.
func parseNumber(s string) (uint64, bool) {
	if s == "" || !isDigits(s) || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// validIdents checks dot-separated identifiers of [0-9A-Za-z-]; numeric
// prerelease identifiers must not have leading zeros.
func validIdents(s string, pre bool) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			if !isIdentChar(id[i]) {
				return false
			}
		}
		if pre && isDigits(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// String returns the canonical form MAJOR.MINOR.PATCH[-PRE][+BUILD],
// without any leading "v".
func (v Version) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d.%d.%d", v.Major, v.Minor, v.Patch)
	if len(v.Pre) > 0 {
		b.WriteByte('-')
		b.WriteString(strings.Join(v.Pre, "."))
	}
	if v.Build != "" {
		b.WriteByte('+')
		b.WriteString(v.Build)
	}
	return b.String()
}

// original returns the text v was parsed from, or its canonical form.
func (v Version) original() string {
	if v.raw != "" {
		return v.raw
	}
	return v.String()
}

// Compare returns -1, 0 or +1 as v has lower, equal or higher precedence
// than o. Build metadata is ignored.
func (v Version) Compare(o Version) int {
	if c := cmpUint(v.Major, o.Major); c != 0 {
		return c
	}
	if c := cmpUint(v.Minor, o.Minor); c != 0 {
		return c
	}
	if c := cmpUint(v.Patch, o.Patch); c != 0 {
		return c
	}
	switch {
	case len(v.Pre) == 0 && len(o.Pre) == 0:
		return 0
	case len(v.Pre) == 0:
		return 1
	case len(o.Pre) == 0:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(o.Pre); i++ {
		if c := cmpIdent(v.Pre[i], o.Pre[i]); c != 0 {
			return c
		}
	}
	return cmpInt(len(v.Pre), len(o.Pre))
}

func cmpIdent(a, b string) int {
	an, bn := isDigits(a), isDigits(b)
	switch {
	case an && bn:
		// No leading zeros, so longer means larger (works past uint64).
		if c := cmpInt(len(a), len(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	case an:
		return -1
	case bn:
		return 1
	}
	return strings.Compare(a, b)
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// isIdentChar reports whether c may appear in a prerelease or build identifier.
func isIdentChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-'
}

// NewestFirst orders version strings for listings: semantic versions newest first (equal
// precedence, such as "1.2.0" and "v1.2.0", compare equal), then strings that are not versions,
// in lexical order. Use it with slices.SortStableFunc.
func NewestFirst(a, b string) int {
	va, okA := parseVersion(a)
	vb, okB := parseVersion(b)
	switch {
	case okA && okB:
		return vb.Compare(va)
	case okA:
		return -1
	case okB:
		return 1
	}
	return strings.Compare(a, b)
}

// SortNewestFirst sorts versions in place by NewestFirst, keeping the input order of versions
// of equal precedence.
func SortNewestFirst(versions []string) {
	slices.SortStableFunc(versions, NewestFirst)
}
