package validation

import (
	"fmt"
	"strings"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
)

// ScriptNameRule describes Worker script names in words.
const ScriptNameRule = "1–63 lower-case letters, digits and hyphens, starting and ending with a letter or digit"

var scriptName = lazyregexp.New(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// CheckScriptName returns an error saying what is wrong with a Worker script name.
func CheckScriptName(name string) error {
	if !scriptName.MatchString(name) {
		return fmt.Errorf("%q is not a valid Worker name: use %s", name, ScriptNameRule)
	}
	return nil
}

// CheckCompatibilityDate accepts a YYYY-MM-DD date that is not after today (UTC): the
// platform rejects dates from the future.
func CheckCompatibilityDate(date string, now time.Time) error {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return fmt.Errorf("%q is not a date in YYYY-MM-DD form, such as %q", date, now.UTC().Format(time.DateOnly))
	}
	today := now.UTC().Truncate(24 * time.Hour)
	if d.After(today) {
		return fmt.Errorf("%s is in the future: use today's date (%s) or an earlier one", date, today.Format(time.DateOnly))
	}
	return nil
}

var jsIdentifier = lazyregexp.New(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// jsReserved are the words a binding cannot be named: it becomes a property of env, and
// workerd also exposes bindings of service-worker scripts as globals.
var jsReserved = map[string]bool{
	"await": true, "break": true, "case": true, "catch": true, "class": true, "const": true, "continue": true,
	"debugger": true, "default": true, "delete": true, "do": true, "else": true, "enum": true, "export": true,
	"extends": true, "false": true, "finally": true, "for": true, "function": true, "if": true, "implements": true,
	"import": true, "in": true, "instanceof": true, "interface": true, "let": true, "new": true, "null": true,
	"package": true, "private": true, "protected": true, "public": true, "return": true, "static": true,
	"super": true, "switch": true, "this": true, "throw": true, "true": true, "try": true, "typeof": true,
	"var": true, "void": true, "while": true, "with": true, "yield": true,
}

// CheckBindingName accepts names that are valid JavaScript identifiers and not reserved words.
func CheckBindingName(name string) error {
	if !jsIdentifier.MatchString(name) {
		return fmt.Errorf("%q is not a valid JavaScript identifier: use letters, digits, _ and $, not starting with a digit (e.g. %q)", name, suggestIdentifier(name))
	}
	if jsReserved[name] {
		return fmt.Errorf("%q is a JavaScript reserved word: choose another binding name (e.g. %q)", name, strings.ToUpper(name))
	}
	return nil
}

func suggestIdentifier(name string) string {
	var b strings.Builder
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r == '$':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteRune('_')
			}
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	if b.Len() == 0 {
		return "BINDING"
	}
	return b.String()
}

// CheckRoutePattern accepts Cloudflare route patterns: host[/path], no scheme, with `*` only
// as a host prefix (`*.example.com`, `*example.com`) or at the end of the path.
func CheckRoutePattern(pattern string) error {
	if i := strings.Index(pattern, "://"); i >= 0 {
		return fmt.Errorf("route pattern %q must not include a scheme: write %q", pattern, pattern[i+3:])
	}
	host, path, _ := strings.Cut(pattern, "/")
	if host == "" || host == "*" {
		return fmt.Errorf("route pattern %q has no host: write it as host/path, e.g. \"api.example.com/*\"", pattern)
	}
	bareHost := strings.TrimPrefix(strings.TrimPrefix(host, "*"), ".")
	if strings.Contains(bareHost, "*") || !hostname.MatchString(bareHost) {
		return fmt.Errorf("route pattern %q has an invalid host %q: use a hostname, optionally starting with \"*\" or \"*.\"", pattern, host)
	}
	if i := strings.Index(path, "*"); i >= 0 && i != len(path)-1 {
		return fmt.Errorf("route pattern %q has a \"*\" inside its path: a wildcard may only end the path", pattern)
	}
	return nil
}

var hostname = lazyregexp.New(`^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)

// CheckHostname accepts a DNS hostname with at least two labels (custom domains).
func CheckHostname(h string) error {
	if !hostname.MatchString(h) || !strings.Contains(h, ".") {
		return fmt.Errorf("%q is not a fully qualified hostname (two or more labels) such as \"api.example.com\"", h)
	}
	return nil
}

// RouteHost is the hostname a route pattern matches under: the pattern's host without a
// leading "*." or "*" wildcard ("*.shop.example.com/*" → "shop.example.com").
func RouteHost(pattern string) string {
	host, _, _ := strings.Cut(pattern, "/")
	if h, ok := strings.CutPrefix(host, "*."); ok {
		return h
	}
	return strings.TrimPrefix(host, "*")
}

// HostInZone reports whether host is the zone's name or a name under it (case-insensitive).
func HostInZone(host, zone string) bool {
	host, zone = strings.ToLower(host), strings.ToLower(zone)
	return host == zone || strings.HasSuffix(host, "."+zone)
}
