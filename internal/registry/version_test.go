package registry

import (
	"math/rand"
	"reflect"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in    string
		want  Version
		canon string
	}{
		{"1.2.0", Version{Major: 1, Minor: 2}, "1.2.0"},
		{"v1.2.3", Version{Major: 1, Minor: 2, Patch: 3}, "1.2.3"},
		{"0.0.0", Version{}, "0.0.0"},
		{"10.20.30", Version{Major: 10, Minor: 20, Patch: 30}, "10.20.30"},
		{"1.0.0-alpha", Version{Major: 1, Pre: []string{"alpha"}}, "1.0.0-alpha"},
		{"1.0.0-alpha.1", Version{Major: 1, Pre: []string{"alpha", "1"}}, "1.0.0-alpha.1"},
		{"1.0.0-0.3.7", Version{Major: 1, Pre: []string{"0", "3", "7"}}, "1.0.0-0.3.7"},
		{"1.0.0-x.7.z.92", Version{Major: 1, Pre: []string{"x", "7", "z", "92"}}, "1.0.0-x.7.z.92"},
		{"1.0.0-x-y-z.--", Version{Major: 1, Pre: []string{"x-y-z", "--"}}, "1.0.0-x-y-z.--"},
		{"1.0.0-alpha+001", Version{Major: 1, Pre: []string{"alpha"}, Build: "001"}, "1.0.0-alpha+001"},
		{"1.0.0+20130313144700", Version{Major: 1, Build: "20130313144700"}, "1.0.0+20130313144700"},
		{"1.0.0-beta+exp.sha.5114f85", Version{Major: 1, Pre: []string{"beta"}, Build: "exp.sha.5114f85"}, "1.0.0-beta+exp.sha.5114f85"},
		{"1.0.0+21AF26D3----117B344092BD", Version{Major: 1, Build: "21AF26D3----117B344092BD"}, "1.0.0+21AF26D3----117B344092BD"},
		{"1.0.0-0A.is.legal", Version{Major: 1, Pre: []string{"0A", "is", "legal"}}, "1.0.0-0A.is.legal"},
		{"18446744073709551615.0.0", Version{Major: 18446744073709551615}, "18446744073709551615.0.0"},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tt.in, err)
			continue
		}
		tt.want.raw = tt.in
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseVersion(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if got.String() != tt.canon {
			t.Errorf("ParseVersion(%q).String() = %q, want %q", tt.in, got.String(), tt.canon)
		}
	}
}

func TestParseVersionErrors(t *testing.T) {
	for _, in := range []string{
		"", "1", "1.0", "1.2.3.4", "v", "vv1.2.3", "V1.2.3", "01.2.3", "1.02.3", "1.2.03",
		"1.2.3-", "1.2.3+", "1.2.3-01", "1.2.3-alpha..1", "1.2.3-alpha_1", "1.2.3+a..b",
		"1.2.3+a+b", "-1.2.3", "1.2.-3", "a.b.c", " 1.2.3", "1.2.3 ", "1.2.x", "*",
		"18446744073709551616.0.0", "1.2.3-é",
	} {
		_, err := ParseVersion(in)
		if err == nil {
			t.Errorf("ParseVersion(%q) succeeded, want error", in)
			continue
		}
		want := `"` + in + `" is not a semantic version: use MAJOR.MINOR.PATCH such as "1.2.0"`
		if err.Error() != want {
			t.Errorf("ParseVersion(%q) error = %q, want %q", in, err, want)
		}
	}
}

func mustVersion(t *testing.T, s string) Version {
	t.Helper()
	v, err := ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1.0.0", "1.0.0", 0},
		{"v1.0.0", "1.0.0", 0},
		{"1.0.0+build.1", "1.0.0+build.2", 0},
		{"1.0.0-rc.1+a", "1.0.0-rc.1+b", 0},
		{"1.0.0", "2.0.0", -1},
		{"2.0.0", "2.1.0", -1},
		{"2.1.0", "2.1.1", -1},
		{"1.10.0", "1.9.0", 1},
		{"1.0.0-alpha", "1.0.0", -1},
		{"1.0.0-alpha", "1.0.0-alpha.1", -1},
		{"1.0.0-alpha.1", "1.0.0-alpha.beta", -1},
		{"1.0.0-beta.2", "1.0.0-beta.11", -1},
		{"1.0.0-rc.1", "1.0.0-beta.11", 1},
		{"1.0.0-1", "1.0.0-a", -1},
		{"1.0.0-A", "1.0.0-a", -1},
		{"1.0.0-99999999999999999999", "1.0.0-100000000000000000000", -1},
		{"0.9.9", "1.0.0-0", -1},
	}
	for _, tt := range tests {
		a, b := mustVersion(t, tt.a), mustVersion(t, tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.Compare(a); got != -tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// TestOrdering checks a list in ascending precedence (from semver.org §11
// plus more) against every pair, after shuffling.
func TestOrdering(t *testing.T) {
	ordered := []string{
		"0.0.0-0", "0.0.0", "0.0.1", "0.1.0", "0.10.0",
		"1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
		"1.0.1", "1.1.0", "1.2.0-rc.1", "1.2.0", "1.10.0", "2.0.0", "10.0.0",
	}
	vs := make([]Version, len(ordered))
	for i, s := range ordered {
		vs[i] = mustVersion(t, s)
	}
	for i := range vs {
		for j := range vs {
			want := cmpInt(i, j)
			if got := vs[i].Compare(vs[j]); got != want {
				t.Errorf("%s.Compare(%s) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	r := rand.New(rand.NewSource(1))
	shuffled := append([]Version(nil), vs...)
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	sortVersions(shuffled)
	for i, v := range shuffled {
		if v.String() != ordered[i] {
			t.Fatalf("sorted[%d] = %s, want %s", i, v, ordered[i])
		}
	}
}

func sortVersions(vs []Version) {
	for i := 1; i < len(vs); i++ {
		for j := i; j > 0 && vs[j].Compare(vs[j-1]) < 0; j-- {
			vs[j], vs[j-1] = vs[j-1], vs[j]
		}
	}
}

func TestSortNewestFirst(t *testing.T) {
	in := []string{"1.0.0", "not-a-version", "2.1.0-beta.1", "v1.2.0", "2.0.0", "1.2.0", "", "1.10.0", "abc", "0.9.0"}
	SortNewestFirst(in)
	want := []string{"2.1.0-beta.1", "2.0.0", "1.10.0", "v1.2.0", "1.2.0", "1.0.0", "0.9.0", "", "abc", "not-a-version"}
	if strings.Join(in, ",") != strings.Join(want, ",") {
		t.Fatalf("SortNewestFirst = %q\nwant            %q", in, want)
	}
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"2.0.0", "1.0.0", -1}, {"1.0.0", "2.0.0", 1}, {"1.2.0", "v1.2.0", 0},
		{"1.0.0", "x", -1}, {"x", "1.0.0", 1}, {"a", "b", -1},
	} {
		if got := NewestFirst(c.a, c.b); got != c.want {
			t.Errorf("NewestFirst(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}
