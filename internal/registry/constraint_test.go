package registry

import (
	"strings"
	"testing"
)

// constraintTests: for each constraint, versions that must match and
// versions that must not. Constraints without "!=", "~>", "," or "latest" follow
// npm's node-semver exactly (satisfies with default options); "~>" follows Terraform's
// version constraints.
var constraintTests = []struct {
	c       string
	match   []string
	nomatch []string
}{
	// latest / any
	{"", []string{"0.0.0", "1.2.3", "99.0.0"}, []string{"1.0.0-rc.1", "0.0.0-0"}},
	{"latest", []string{"0.0.1", "2.0.0"}, []string{"2.0.0-beta"}},
	{" LATEST ", []string{"1.0.0"}, []string{"1.0.0-a"}},
	{"*", []string{"0.0.0", "3.4.5"}, []string{"3.4.5-alpha"}},
	{"x", []string{"1.0.0"}, []string{"1.0.0-0"}},
	{"X", []string{"1.0.0"}, nil},

	// exact
	{"1.2.3", []string{"1.2.3", "v1.2.3", "1.2.3+build.5"}, []string{"1.2.4", "1.2.2", "1.2.3-rc.1"}},
	{"=1.2.3", []string{"1.2.3"}, []string{"1.2.4"}},
	{"v1.2.3", []string{"1.2.3"}, []string{"1.3.0"}},
	{"= 1.2.3", []string{"1.2.3"}, []string{"1.2.30"}},
	{"1.2.3-rc.1", []string{"1.2.3-rc.1"}, []string{"1.2.3-rc.2", "1.2.3", "1.2.3-rc.0"}},
	{"=1.2.3-rc.1+b", []string{"1.2.3-rc.1", "1.2.3-rc.1+other"}, []string{"1.2.3"}},

	// x-ranges and partial versions
	{"1", []string{"1.0.0", "1.9.9"}, []string{"0.9.9", "2.0.0", "1.5.0-beta", "2.0.0-0"}},
	{"1.x", []string{"1.0.0", "1.99.99"}, []string{"2.0.0", "0.1.0"}},
	{"1.x.x", []string{"1.2.3"}, []string{"2.0.0"}},
	{"1.*", []string{"1.2.3"}, []string{"2.0.0"}},
	{"1.2", []string{"1.2.0", "1.2.99"}, []string{"1.3.0", "1.1.9", "1.2.5-rc.1"}},
	{"1.2.x", []string{"1.2.0", "1.2.7"}, []string{"1.3.0", "1.3.0-0"}},
	{"1.2.*", []string{"1.2.0"}, []string{"1.3.0"}},
	{"=1.2", []string{"1.2.5"}, []string{"1.3.0"}},
	{"0.x", []string{"0.0.1", "0.9.0"}, []string{"1.0.0"}},

	// caret
	{"^1.2.3", []string{"1.2.3", "1.2.4", "1.9.0"}, []string{"1.2.2", "2.0.0", "2.0.0-0", "1.3.0-beta", "1.2.3-rc.1"}},
	{"^1.2", []string{"1.2.0", "1.99.0"}, []string{"1.1.9", "2.0.0"}},
	{"^1", []string{"1.0.0", "1.9.9"}, []string{"2.0.0", "0.9.0"}},
	{"^1.x", []string{"1.0.0", "1.5.0"}, []string{"2.0.0"}},
	{"^0.2.3", []string{"0.2.3", "0.2.9"}, []string{"0.3.0", "0.2.2", "1.0.0"}},
	{"^0.2", []string{"0.2.0", "0.2.9"}, []string{"0.3.0", "0.1.9"}},
	{"^0.0.3", []string{"0.0.3"}, []string{"0.0.4", "0.0.2", "0.1.0"}},
	{"^0.0", []string{"0.0.0", "0.0.9"}, []string{"0.1.0"}},
	{"^0.0.x", []string{"0.0.0", "0.0.9"}, []string{"0.1.0"}},
	{"^0", []string{"0.0.0", "0.9.9"}, []string{"1.0.0"}},
	{"^0.x", []string{"0.5.0"}, []string{"1.0.0"}},
	{"^*", []string{"0.0.0", "5.0.0"}, []string{"5.0.0-rc.1"}},
	{"^ 1.2.3", []string{"1.5.0"}, []string{"2.0.0"}},
	{"^v1.2.3", []string{"1.5.0"}, []string{"2.0.0"}},
	{"^1.2.3-beta.2", []string{"1.2.3-beta.2", "1.2.3-beta.4", "1.2.3", "1.9.9"}, []string{"1.2.3-beta.1", "1.2.4-beta.5", "2.0.0-0", "2.0.0"}},
	{"^0.0.3-beta", []string{"0.0.3-beta", "0.0.3-pr.2", "0.0.3"}, []string{"0.0.4", "0.0.4-0", "0.0.3-alpha"}},

	// tilde
	{"~1.2.3", []string{"1.2.3", "1.2.99"}, []string{"1.3.0", "1.2.2", "1.3.0-0"}},
	{"~1.2", []string{"1.2.0", "1.2.9"}, []string{"1.3.0", "1.1.0"}},
	{"~1", []string{"1.0.0", "1.9.9"}, []string{"2.0.0", "0.9.0"}},
	{"~1.x", []string{"1.4.0"}, []string{"2.0.0"}},
	{"~0.2.3", []string{"0.2.3", "0.2.4"}, []string{"0.3.0", "0.2.2"}},
	{"~0", []string{"0.0.0", "0.9.0"}, []string{"1.0.0"}},
	{"~ 1.2.3", []string{"1.2.4"}, []string{"1.3.0"}},
	{"~1.2.3-beta.2", []string{"1.2.3-beta.2", "1.2.3-beta.3", "1.2.3", "1.2.9"}, []string{"1.2.3-beta.1", "1.2.4-beta.2", "1.3.0"}},
	{"~*", []string{"1.0.0"}, []string{"1.0.0-a"}},

	// pessimistic (Terraform's ~>): only the last given part may grow
	{"~> 1.2", []string{"1.2.0", "1.9.9", "1.10.0"}, []string{"2.0.0", "1.1.9", "2.0.0-0", "1.5.0-rc.1"}},
	{"~>1.2", []string{"1.3.0"}, []string{"2.0.0"}},
	{"~> 1.2.3", []string{"1.2.3", "1.2.99"}, []string{"1.3.0", "1.2.2", "1.3.0-0"}},
	{"~> 1", []string{"1.0.0", "1.9.9"}, []string{"2.0.0", "0.9.0"}},
	{"~> 0.2", []string{"0.2.0", "0.9.0"}, []string{"1.0.0", "0.1.9"}},
	{"~> 1.2.3-beta.2", []string{"1.2.3-beta.2", "1.2.3-beta.3", "1.2.3", "1.2.9"}, []string{"1.2.3-beta.1", "1.2.4-beta.1", "1.3.0"}},
	{"~> 1.2, != 1.5.0", []string{"1.4.0", "1.6.0"}, []string{"1.5.0", "2.0.0"}},
	{"~> v2.1", []string{"2.1.0", "2.8.0"}, []string{"3.0.0"}},
	{"~> *", []string{"0.0.1", "5.0.0"}, []string{"5.0.0-rc.1"}},

	// comparisons
	{">1.2.3", []string{"1.2.4", "2.0.0"}, []string{"1.2.3", "1.0.0", "1.2.4-rc.1"}},
	{">=1.2.3", []string{"1.2.3", "9.0.0"}, []string{"1.2.2", "1.2.3-rc.1"}},
	{"<1.2.3", []string{"1.2.2", "0.0.0"}, []string{"1.2.3", "1.2.3-rc.1", "1.2.2-rc.1"}},
	{"<=1.2.3", []string{"1.2.3", "1.0.0"}, []string{"1.2.4"}},
	{">1", []string{"2.0.0", "3.1.0"}, []string{"1.9.9", "1.0.0"}},
	{">1.2", []string{"1.3.0", "2.0.0"}, []string{"1.2.9"}},
	{">=1.2", []string{"1.2.0"}, []string{"1.1.9"}},
	{">=1", []string{"1.0.0"}, []string{"0.9.9"}},
	{"<1.2", []string{"1.1.9"}, []string{"1.2.0", "1.2.0-rc.1"}},
	{"<1", []string{"0.9.9"}, []string{"1.0.0"}},
	{"<=1.2", []string{"1.2.9", "1.0.0"}, []string{"1.3.0"}},
	{"<=1", []string{"1.9.9"}, []string{"2.0.0"}},
	{">*", nil, []string{"0.0.0", "1.0.0"}},
	{"<*", nil, []string{"0.0.0", "1.0.0"}},
	{">=*", []string{"0.0.0", "1.0.0"}, []string{"1.0.0-0"}},
	{"<=*", []string{"0.0.0"}, nil},
	{">= 1.2.3", []string{"1.2.3"}, []string{"1.2.2"}},
	{">=1.2.3-rc.1", []string{"1.2.3-rc.1", "1.2.3-rc.2", "1.2.3", "2.0.0"}, []string{"1.2.3-beta", "1.2.4-rc.1", "2.0.0-rc.1"}},
	{"<2.0.0-rc.1", []string{"1.9.9", "2.0.0-beta"}, []string{"2.0.0-rc.1", "2.0.0", "1.9.9-rc.1"}},

	// ranges: space or comma separated = AND
	{">=2.0.0 <3", []string{"2.0.0", "2.9.9"}, []string{"3.0.0", "1.9.9", "2.5.0-beta", "3.0.0-0"}},
	{">=2.0.0, <3", []string{"2.0.0", "2.9.9"}, []string{"3.0.0", "1.9.9"}},
	{">=2.0.0,<3.0.0", []string{"2.1.0"}, []string{"3.0.0"}},
	{">= 2.0.0 , < 3.0.0", []string{"2.1.0"}, []string{"3.0.0"}},
	{">1.0.0 <=1.2.0", []string{"1.0.1", "1.2.0"}, []string{"1.0.0", "1.2.1"}},
	{">=1.2 <1.4", []string{"1.2.0", "1.3.9"}, []string{"1.4.0", "1.1.0"}},
	{"^1.2 <1.5", []string{"1.4.9"}, []string{"1.5.0"}},
	{">=1.0.0-alpha <1.0.0", []string{"1.0.0-alpha", "1.0.0-beta"}, []string{"1.0.0", "0.9.0-beta"}},
	{">3 <2", nil, []string{"2.5.0", "1.0.0", "4.0.0"}},

	// hyphen ranges
	{"1.2.3 - 2.3.4", []string{"1.2.3", "2.3.4", "2.0.0"}, []string{"1.2.2", "2.3.5", "2.0.0-rc.1"}},
	{"1.2 - 2.3", []string{"1.2.0", "2.3.9"}, []string{"2.4.0", "1.1.9"}},
	{"1.2.3 - 2", []string{"2.9.9"}, []string{"3.0.0"}},
	{"* - 2", []string{"0.0.0", "2.9.9"}, []string{"3.0.0"}},
	{"1.2.3 - *", []string{"1.2.3", "9.9.9"}, []string{"1.2.2"}},
	{"1.2.3-rc.1 - 1.2.3", []string{"1.2.3-rc.1", "1.2.3-rc.5", "1.2.3"}, []string{"1.2.4"}},

	// OR
	{"^1.2 || ^2", []string{"1.2.0", "2.5.0"}, []string{"3.0.0", "1.1.0"}},
	{"1.2.3 || >=3.0.0 <4", []string{"1.2.3", "3.1.0"}, []string{"1.2.4", "4.0.0", "2.0.0"}},
	{"<1.0.0||>=2.0.0", []string{"0.5.0", "2.0.0"}, []string{"1.5.0"}},
	{"1.x || 3.x", []string{"1.0.0", "3.9.0"}, []string{"2.0.0"}},
	{"^1 || 2.0.0-rc.1", []string{"1.5.0", "2.0.0-rc.1"}, []string{"2.0.0-rc.2", "2.0.0", "1.5.0-rc.1"}},
	{"~1.2.3-beta || ^2", []string{"1.2.3-beta.5", "2.1.0"}, []string{"2.1.0-beta", "1.2.4-beta"}},

	// prerelease rules (npm): only when a comparator names the same tuple
	{"^1.0.0", nil, []string{"1.0.1-rc.1", "1.5.0-beta"}},
	{">=1.0.0-rc.1 <2", []string{"1.0.0-rc.2", "1.5.0"}, []string{"1.5.0-rc.1"}},
	{"<=2.0.0-rc.1", []string{"2.0.0-alpha", "2.0.0-rc.1", "1.0.0"}, []string{"2.0.0-rc.2", "1.0.0-rc.1"}},
	{"1.2.3-0 - 1.2.4", []string{"1.2.3-0", "1.2.3-x", "1.2.4"}, []string{"1.2.4-0"}},

	// != (not npm): exclusions
	{"!=1.2.3", []string{"1.2.2", "1.2.4", "0.0.0"}, []string{"1.2.3", "1.2.4-rc.1"}},
	{"^1 !=1.2.3", []string{"1.2.2", "1.2.4"}, []string{"1.2.3", "2.0.0"}},
	{"!=1.2", []string{"1.1.9", "1.3.0"}, []string{"1.2.0", "1.2.9"}},
	{"!=1", []string{"0.9.9", "2.0.0"}, []string{"1.0.0", "1.99.0"}},
	{"!=*", nil, []string{"1.0.0"}},
	{">=1.0.0-rc.1 !=1.0.0-rc.2", []string{"1.0.0-rc.1", "1.0.0-rc.3"}, []string{"1.0.0-rc.2"}},
	{"!=2.0.0-rc.1 ^2.0.0-rc.0", []string{"2.0.0-rc.0", "2.0.0-rc.2"}, []string{"2.0.0-rc.1"}},
	{"!=2.0.0-rc.1", []string{"2.0.0"}, []string{"2.0.0-rc.2", "2.0.0-rc.1"}},
}

func TestConstraintMatches(t *testing.T) {
	for _, tt := range constraintTests {
		c, err := ParseConstraint(tt.c)
		if err != nil {
			t.Errorf("ParseConstraint(%q): %v", tt.c, err)
			continue
		}
		for _, s := range tt.match {
			if !c.Matches(mustVersion(t, s)) {
				t.Errorf("%q does not match %s, want match", tt.c, s)
			}
		}
		for _, s := range tt.nomatch {
			if c.Matches(mustVersion(t, s)) {
				t.Errorf("%q matches %s, want no match", tt.c, s)
			}
		}
	}
}

func TestConstraintString(t *testing.T) {
	for in, want := range map[string]string{
		"":             "latest",
		"  ":           "latest",
		"latest":       "latest",
		"Latest":       "latest",
		"^1.2":         "^1.2",
		" >=2.0.0 <3 ": ">=2.0.0 <3",
		"1.x || 2.x":   "1.x || 2.x",
	} {
		c, err := ParseConstraint(in)
		if err != nil {
			t.Errorf("ParseConstraint(%q): %v", in, err)
			continue
		}
		if got := c.String(); got != want {
			t.Errorf("ParseConstraint(%q).String() = %q, want %q", in, got, want)
		}
	}
	var zero Constraint
	if zero.String() != "latest" || !zero.Matches(mustVersion(t, "1.0.0")) || zero.Matches(mustVersion(t, "1.0.0-rc.1")) {
		t.Errorf("zero Constraint should behave as latest")
	}
}

func TestParseConstraintErrors(t *testing.T) {
	tests := []struct{ in, why string }{
		{"^x.1", `"x.1" has a number after a wildcard`},
		{"1.x.3", `"1.x.3" has a number after a wildcard`},
		{"1.2.3.4", `"1.2.3.4" is not a version: use MAJOR[.MINOR[.PATCH]], with x or * for any`},
		{"abc", `"abc" is not a version: use MAJOR[.MINOR[.PATCH]], with x or * for any`},
		{"01.2", `"01.2" is not a version: use MAJOR[.MINOR[.PATCH]], with x or * for any`},
		{">=1.2.3 <", `operator "<" has no version`},
		{">=", `operator ">=" has no version`},
		{"^", `operator "^" has no version`},
		{"~>", `operator "~>" has no version`},
		{"=>1.0", `"=>" is not an operator (did you mean ">=1.0"?)`},
		{"=> 1.0", `"=>" is not an operator (did you mean ">=1.0"?)`},
		{"=<2", `"=<" is not an operator (did you mean "<=2"?)`},
		{"^1 =>1.2.3", `"=>" is not an operator (did you mean ">=1.2.3"?)`},
		{"1.x ||", `empty alternative around "||"`},
		{"|| 1.x", `empty alternative around "||"`},
		{"1 || || 2", `empty alternative around "||"`},
		{"latest || 1.x", `"latest" can't be combined with other constraints`},
		{"^1 latest", `"latest" can't be combined with other constraints`},
		{"1.2.3 -", `hyphen range needs a version on both sides, e.g. "1.2.3 - 2.3.4"`},
		{"- 1.2.3", `hyphen range needs a version on both sides, e.g. "1.2.3 - 2.3.4"`},
		{">=1.2.3 - 2", `hyphen range bound ">=1.2.3" can't have an operator`},
		{"1 - ^2", `hyphen range bound "^2" can't have an operator`},
		{"1.2-rc.1", `"1.2-rc.1" has a prerelease but no patch number: use e.g. "1.2.0-rc.1"`},
		{"^1.2.3-01", `"1.2.3-01" is not a version: use MAJOR[.MINOR[.PATCH]], with x or * for any`},
		{"==1.2.3", `"==" is not an operator (did you mean "=1.2.3"?)`},
		{">>1", `">1" is not a version: use MAJOR[.MINOR[.PATCH]], with x or * for any`},
		{"1.2.3 | 2", `"|" is not a version: use MAJOR[.MINOR[.PATCH]], with x or * for any`},
		{"18446744073709551615", `"18446744073709551615" has a number that is too large`},
	}
	for _, tt := range tests {
		_, err := ParseConstraint(tt.in)
		if err == nil {
			t.Errorf("ParseConstraint(%q) succeeded, want error", tt.in)
			continue
		}
		want := `invalid version constraint "` + tt.in + `": ` + tt.why + `; use e.g. "^1.2", ">=2.0.0 <3" or "latest"`
		if err.Error() != want {
			t.Errorf("ParseConstraint(%q) error:\n got %s\nwant %s", tt.in, err, want)
		}
	}
}

func TestResolve(t *testing.T) {
	versions := []string{"1.4.2", "2.0.0", "not-a-version", "2.1.0", "1.0.0", "3.0.0-rc.1", "v1.5.0", "2.1.0-beta.1", "0.9.0"}
	tests := []struct{ c, want string }{
		{"", "2.1.0"},
		{"latest", "2.1.0"},
		{"*", "2.1.0"},
		{"^1", "v1.5.0"},
		{"^1.4", "v1.5.0"},
		{"~1.4", "1.4.2"},
		{"1.0.0", "1.0.0"},
		{"<2", "v1.5.0"},
		{">=2.0.0 <3", "2.1.0"},
		{"^2.1.0-beta.1", "2.1.0"},
		{"2.1.0-beta.1", "2.1.0-beta.1"},
		{"^3.0.0-rc.0", "3.0.0-rc.1"},
		{"^3.0.0-rc.0 || ^1", "3.0.0-rc.1"},
		{"^0.9", "0.9.0"},
		{"!=2.1.0", "2.0.0"},
		{"^1 || ^2", "2.1.0"},
	}
	for _, tt := range tests {
		got, err := Resolve("UserService", tt.c, versions)
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.c, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Resolve(%q) = %q, want %q", tt.c, got, tt.want)
		}
	}

	_, err := Resolve("UserService", "^3", versions)
	want := `no version of UserService matches "^3": available versions are 3.0.0-rc.1, 2.1.0, 2.1.0-beta.1, 2.0.0, v1.5.0, 1.4.2, 1.0.0, 0.9.0`
	if err == nil || err.Error() != want {
		t.Errorf("Resolve(^3) error:\n got %v\nwant %s", err, want)
	}

	_, err = Resolve("UserService", "", []string{"1.0.0-rc.1", "junk"})
	want = `no version of UserService matches "latest": available versions are 1.0.0-rc.1`
	if err == nil || err.Error() != want {
		t.Errorf("Resolve(latest) error:\n got %v\nwant %s", err, want)
	}

	_, err = Resolve("UserService", "^1", []string{"junk", ""})
	want = `no version of UserService matches "^1": no versions are available`
	if err == nil || err.Error() != want {
		t.Errorf("Resolve(none) error:\n got %v\nwant %s", err, want)
	}

	_, err = Resolve("UserService", "^x.1", versions)
	if err == nil || !strings.HasPrefix(err.Error(), `invalid version constraint "^x.1"`) {
		t.Errorf("Resolve(bad constraint) error = %v", err)
	}

	// Equal precedence: the first listed wins; duplicates are listed once.
	got, err := Resolve("A", "^1", []string{"1.0.0+b", "1.0.0+a"})
	if err != nil || got != "1.0.0+b" {
		t.Errorf("Resolve(ties) = %q, %v", got, err)
	}
	_, err = Resolve("A", "^2", []string{"1.0.0", "1.0.0", "v1.0.0"})
	want = `no version of A matches "^2": available versions are 1.0.0, v1.0.0`
	if err == nil || err.Error() != want {
		t.Errorf("Resolve(dups) error:\n got %v\nwant %s", err, want)
	}
}
