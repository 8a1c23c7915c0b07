package registry

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Constraint is a version constraint with npm semantics: alternatives
// separated by "||", each a set of comparators that must all hold
// (separated by spaces or commas).
type Constraint struct {
	raw  string
	sets [][]comparator
}

type comparator struct {
	op string  // "<", "<=", ">", ">=", "=", "!=", or "!in" (outside [v, hi))
	v  Version //
	hi Version // upper bound of "!in"
}

func (c comparator) matches(v Version) bool {
	d := v.Compare(c.v)
	switch c.op {
	case "<":
		return d < 0
	case "<=":
		return d <= 0
	case ">":
		return d > 0
	case ">=":
		return d >= 0
	case "=":
		return d == 0
	case "!=":
		return d != 0
	case "!in":
		return d < 0 || v.Compare(c.hi) >= 0
	}
	return false
}

// ParseConstraint parses a version constraint:
//
//   - "latest" or "": any release (no prereleases)
//   - "1.2.3", "=1.2.3": exactly that version
//   - ">=2.0.0 <3", ">=2.0.0, <3": all must hold
//   - "^1.2", "^0.2.3": compatible versions (npm caret rules for 0.x)
//   - "~1.2.3", "~1.2": patch updates
//   - "~> 1.2", "~> 1.2.3": Terraform's pessimistic operator: only the last given part may
//     grow (">= 1.2, < 2.0" and ">= 1.2.3, < 1.3.0")
//   - "1.2.x", "1.x", "1", "*": x-ranges
//   - ">", ">=", "<", "<=", "!=" comparisons, partial versions allowed
//   - "1.2.3 - 2.3": hyphen ranges
//   - "^1.2 || ^2": alternatives
//
// A prerelease version matches only when a comparator of the same
// alternative names a prerelease of the same MAJOR.MINOR.PATCH.
func ParseConstraint(s string) (Constraint, error) {
	c, why := parseConstraint(s)
	if why != "" {
		return Constraint{}, fmt.Errorf(`invalid version constraint %q: %s; use e.g. "^1.2", ">=2.0.0 <3" or "latest"`, s, why)
	}
	return c, nil
}

func parseConstraint(s string) (Constraint, string) {
	raw := strings.TrimSpace(s)
	if raw == "" || strings.EqualFold(raw, "latest") {
		return Constraint{raw: "latest", sets: [][]comparator{nil}}, ""
	}
	c := Constraint{raw: raw}
	for _, alt := range strings.Split(raw, "||") {
		set, why := parseSet(alt)
		if why != "" {
			return Constraint{}, why
		}
		c.sets = append(c.sets, set)
	}
	return c, ""
}

var operators = []string{">=", "<=", "!=", "~>", ">", "<", "=", "^", "~"}

// misspelt are operators written the wrong way round, with what was meant.
var misspelt = map[string]string{"=>": ">=", "=<": "<=", "==": "="}

func splitOp(tok string) (op, rest string) {
	for o := range misspelt {
		if strings.HasPrefix(tok, o) {
			return o, tok[len(o):]
		}
	}
	for _, o := range operators {
		if strings.HasPrefix(tok, o) {
			return o, tok[len(o):]
		}
	}
	return "", tok
}

func parseSet(alt string) ([]comparator, string) {
	fields := strings.Fields(strings.ReplaceAll(alt, ",", " "))
	if len(fields) == 0 {
		return nil, `empty alternative around "||"`
	}
	// Join operators written apart from their version (">= 1.2.3").
	var toks []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if op, rest := splitOp(f); op != "" && rest == "" {
			if i+1 >= len(fields) || fields[i+1] == "-" {
				return nil, fmt.Sprintf("operator %q has no version", op)
			}
			f += fields[i+1]
			i++
		}
		toks = append(toks, f)
	}
	var set []comparator
	for i := 0; i < len(toks); i++ {
		tok := toks[i]
		if strings.EqualFold(tok, "latest") {
			return nil, `"latest" can't be combined with other constraints`
		}
		if tok == "-" {
			return nil, `hyphen range needs a version on both sides, e.g. "1.2.3 - 2.3.4"`
		}
		if i+2 < len(toks) && toks[i+1] == "-" {
			cs, why := hyphenRange(tok, toks[i+2])
			if why != "" {
				return nil, why
			}
			set = append(set, cs...)
			i += 2
			continue
		}
		if i+1 < len(toks) && toks[i+1] == "-" {
			return nil, `hyphen range needs a version on both sides, e.g. "1.2.3 - 2.3.4"`
		}
		cs, why := parseComparator(tok)
		if why != "" {
			return nil, why
		}
		set = append(set, cs...)
	}
	return set, ""
}

// partial is a possibly incomplete version: n of major, minor, patch are given.
type partial struct {
	n                   int
	major, minor, patch uint64
	pre                 []string
}

func parsePartial(s string) (partial, string) {
	bad := fmt.Sprintf("%q is not a version: use MAJOR[.MINOR[.PATCH]], with x or * for any", s)
	if s == "" {
		return partial{}, "missing version"
	}
	rest := strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(rest, '+'); i >= 0 { // build metadata: ignored
		if !validIdents(rest[i+1:], false) {
			return partial{}, bad
		}
		rest = rest[:i]
	}
	var p partial
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		pre := rest[i+1:]
		rest = rest[:i]
		if !validIdents(pre, true) {
			return partial{}, bad
		}
		p.pre = strings.Split(pre, ".")
	}
	parts := strings.Split(rest, ".")
	if len(parts) > 3 {
		return partial{}, bad
	}
	nums := [3]*uint64{&p.major, &p.minor, &p.patch}
	wild := false
	for i, part := range parts {
		if part == "x" || part == "X" || part == "*" {
			wild = true
			continue
		}
		if wild {
			return partial{}, fmt.Sprintf("%q has a number after a wildcard", s)
		}
		n, ok := parseNumber(part)
		if !ok {
			return partial{}, bad
		}
		*nums[i] = n
		p.n = i + 1
	}
	if p.pre != nil && p.n < 3 {
		return partial{}, fmt.Sprintf("%q has a prerelease but no patch number: use e.g. \"1.2.0-rc.1\"", s)
	}
	if p.major == math.MaxUint64 || p.minor == math.MaxUint64 || p.patch == math.MaxUint64 {
		return partial{}, fmt.Sprintf("%q has a number that is too large", s)
	}
	return p, ""
}

func ver(major, minor, patch uint64, pre ...string) Version {
	return Version{Major: major, Minor: minor, Patch: patch, Pre: pre}
}

// low is the smallest version p stands for.
func (p partial) low() Version { return ver(p.major, p.minor, p.patch, p.pre...) }

// next is the first version above the x-range p (as a -0 prerelease bound).
func (p partial) next() Version {
	switch p.n {
	case 1:
		return ver(p.major+1, 0, 0, "0")
	case 2:
		return ver(p.major, p.minor+1, 0, "0")
	}
	return ver(p.major, p.minor, p.patch+1, "0")
}

var (
	none = comparator{op: "<", v: ver(0, 0, 0, "0")} // matches nothing
)

func xrange(p partial) []comparator {
	switch p.n {
	case 0:
		return nil
	case 3:
		return []comparator{{op: "=", v: p.low()}}
	}
	return []comparator{{op: ">=", v: p.low()}, {op: "<", v: p.next()}}
}

func parseComparator(tok string) ([]comparator, string) {
	op, rest := splitOp(tok)
	if meant, ok := misspelt[op]; ok {
		return nil, fmt.Sprintf("%q is not an operator (did you mean %q?)", op, meant+rest)
	}
	p, why := parsePartial(rest)
	if why != "" {
		return nil, why
	}
	switch op {
	case "", "=":
		return xrange(p), ""
	case "^":
		switch {
		case p.n == 0:
			return nil, ""
		case p.n == 1 || p.major > 0:
			return []comparator{{op: ">=", v: p.low()}, {op: "<", v: ver(p.major+1, 0, 0, "0")}}, ""
		case p.n == 2 || p.minor > 0:
			return []comparator{{op: ">=", v: p.low()}, {op: "<", v: ver(0, p.minor+1, 0, "0")}}, ""
		default:
			return []comparator{{op: ">=", v: p.low()}, {op: "<", v: ver(0, 0, p.patch+1, "0")}}, ""
		}
	case "~":
		switch p.n {
		case 0:
			return nil, ""
		case 1:
			return []comparator{{op: ">=", v: p.low()}, {op: "<", v: ver(p.major+1, 0, 0, "0")}}, ""
		default:
			return []comparator{{op: ">=", v: p.low()}, {op: "<", v: ver(p.major, p.minor+1, 0, "0")}}, ""
		}
	case "~>":
		switch p.n {
		case 0:
			return nil, ""
		case 1, 2:
			return []comparator{{op: ">=", v: p.low()}, {op: "<", v: ver(p.major+1, 0, 0, "0")}}, ""
		default:
			return []comparator{{op: ">=", v: p.low()}, {op: "<", v: ver(p.major, p.minor+1, 0, "0")}}, ""
		}
	case ">":
		switch p.n {
		case 0:
			return []comparator{none}, ""
		case 3:
			return []comparator{{op: ">", v: p.low()}}, ""
		}
		return []comparator{{op: ">=", v: stripPre(p.next())}}, ""
	case ">=":
		if p.n == 0 {
			return nil, ""
		}
		return []comparator{{op: ">=", v: p.low()}}, ""
	case "<":
		switch p.n {
		case 0:
			return []comparator{none}, ""
		case 3:
			return []comparator{{op: "<", v: p.low()}}, ""
		}
		return []comparator{{op: "<", v: ver(p.major, p.minor, 0, "0")}}, ""
	case "<=":
		switch p.n {
		case 0:
			return nil, ""
		case 3:
			return []comparator{{op: "<=", v: p.low()}}, ""
		}
		return []comparator{{op: "<", v: p.next()}}, ""
	case "!=":
		switch p.n {
		case 0:
			return []comparator{none}, ""
		case 3:
			return []comparator{{op: "!=", v: p.low()}}, ""
		}
		return []comparator{{op: "!in", v: p.low(), hi: p.next()}}, ""
	}
	return nil, fmt.Sprintf("unknown operator %q", op)
}

func stripPre(v Version) Version { v.Pre = nil; return v }

func hyphenRange(lo, hi string) ([]comparator, string) {
	if op, _ := splitOp(lo); op != "" {
		return nil, fmt.Sprintf("hyphen range bound %q can't have an operator", lo)
	}
	if op, _ := splitOp(hi); op != "" {
		return nil, fmt.Sprintf("hyphen range bound %q can't have an operator", hi)
	}
	a, why := parsePartial(lo)
	if why != "" {
		return nil, why
	}
	b, why := parsePartial(hi)
	if why != "" {
		return nil, why
	}
	var set []comparator
	if a.n > 0 {
		set = append(set, comparator{op: ">=", v: a.low()})
	}
	switch b.n {
	case 0:
	case 3:
		set = append(set, comparator{op: "<=", v: b.low()})
	default:
		set = append(set, comparator{op: "<", v: b.next()})
	}
	return set, ""
}

// Matches reports whether v satisfies c. A prerelease version matches only
// if the alternative it satisfies names a prerelease of the same
// MAJOR.MINOR.PATCH (so "^1.2.0-rc.1" matches 1.2.0-rc.2 but not
// 1.3.0-rc.1, and "latest" matches no prerelease).
func (c Constraint) Matches(v Version) bool {
	if c.sets == nil { // zero Constraint: same as "latest"
		return len(v.Pre) == 0
	}
	for _, set := range c.sets {
		if matchSet(set, v) {
			return true
		}
	}
	return false
}

func matchSet(set []comparator, v Version) bool {
	for _, cmp := range set {
		if !cmp.matches(v) {
			return false
		}
	}
	if len(v.Pre) == 0 {
		return true
	}
	for _, cmp := range set {
		if cmp.op == "!=" || cmp.op == "!in" || len(cmp.v.Pre) == 0 {
			continue
		}
		if cmp.v.Major == v.Major && cmp.v.Minor == v.Minor && cmp.v.Patch == v.Patch {
			return true
		}
	}
	return false
}

// String returns the constraint as written ("latest" for an empty one).
func (c Constraint) String() string {
	if c.raw == "" {
		return "latest"
	}
	return c.raw
}

// Resolve returns the newest of versions that satisfies constraint.
// Entries of versions that are not semantic versions are ignored. The
// returned string is the element of versions as given.
func Resolve(name, constraint string, versions []string) (string, error) {
	c, err := ParseConstraint(constraint)
	if err != nil {
		return "", err
	}
	var valid []Version
	for _, s := range versions {
		if v, ok := parseVersion(s); ok {
			valid = append(valid, v)
		}
	}
	// Newest first; equal precedence keeps the input order.
	sort.SliceStable(valid, func(i, j int) bool { return valid[i].Compare(valid[j]) > 0 })
	for _, v := range valid {
		if c.Matches(v) {
			return v.original(), nil
		}
	}
	if len(valid) == 0 {
		return "", fmt.Errorf("no version of %s matches %q: no versions are available", name, c.String())
	}
	seen := map[string]bool{}
	var list []string
	for _, v := range valid {
		if s := v.original(); !seen[s] {
			seen[s] = true
			list = append(list, s)
		}
	}
	return "", fmt.Errorf("no version of %s matches %q: available versions are %s", name, c.String(), strings.Join(list, ", "))
}
