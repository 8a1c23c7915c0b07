// Package edge serves HTTP traffic to the Workers the local Cloudflare API has deployed: it
// picks the script for each request the way Cloudflare does (workers.dev address, custom
// domain, most specific zone route), hands the request to the Workers runtime, and records
// analytics.
package edge

import (
	"net"
	"sort"
	"strings"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

// WorkersDevSuffix is the local stand-in for <account>.workers.dev: <script>.localhost.
// <script>.<account subdomain>.workers.dev reaches the same script when that Host is sent.
const WorkersDevSuffix = ".localhost"

type route struct {
	host     string // lower case, may start with "*"
	path     string // may end with "*"
	script   string
	wildHost bool
}

// Table maps hosts and paths to scripts.
type Table struct {
	workersDev map[string]bool   // scripts served on <script>.localhost
	devSuffix  string            // ".<subdomain>.workers.dev", "" without a subdomain
	domains    map[string]string // hostname → script
	routes     []route           // most specific first
	scripts    []string
}

// NewTable builds the routing table of a deployment.
func NewTable(snap deploy.Snapshot) *Table {
	t := &Table{workersDev: map[string]bool{}, domains: map[string]string{}}
	if snap.WorkersSubdomain != "" {
		t.devSuffix = "." + strings.ToLower(snap.WorkersSubdomain) + ".workers.dev"
	}
	for _, s := range snap.Scripts {
		t.scripts = append(t.scripts, s.Name)
		if s.WorkersDev {
			t.workersDev[s.Name] = true
		}
	}
	for _, d := range snap.Domains {
		t.domains[strings.ToLower(d.Hostname)] = d.Script
	}
	for _, r := range snap.Routes {
		host, path, found := strings.Cut(r.Pattern, "/")
		path = "/" + path
		if !found {
			path = "/"
		}
		host = strings.ToLower(host)
		t.routes = append(t.routes, route{host: host, path: path, script: r.Script, wildHost: strings.HasPrefix(host, "*")})
	}
	// Cloudflare applies the most specific pattern: an exact host beats a wildcard one, and
	// a longer pattern beats a shorter one.
	sort.SliceStable(t.routes, func(i, j int) bool {
		a, b := t.routes[i], t.routes[j]
		if a.wildHost != b.wildHost {
			return !a.wildHost
		}
		if len(a.host)+len(a.path) != len(b.host)+len(b.path) {
			return len(a.host)+len(a.path) > len(b.host)+len(b.path)
		}
		return a.host+a.path < b.host+b.path
	})
	sort.Strings(t.scripts)
	return t
}

// Scripts lists every deployed script.
func (t *Table) Scripts() []string { return t.scripts }

// Match returns the script that serves host and path.
func (t *Table) Match(host, path string) (string, bool) {
	host = strings.ToLower(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if name, ok := strings.CutSuffix(host, WorkersDevSuffix); ok && t.workersDev[name] {
		return name, true
	}
	if name, ok := strings.CutSuffix(host, t.devSuffix); ok && t.devSuffix != "" && t.workersDev[name] {
		return name, true
	}
	if script, ok := t.domains[host]; ok {
		return script, true
	}
	for _, r := range t.routes {
		if hostMatches(r.host, host) && pathMatches(r.path, path) {
			return r.script, true
		}
	}
	return "", false
}

func hostMatches(pattern, host string) bool {
	if !strings.HasPrefix(pattern, "*") {
		return pattern == host
	}
	// A leading * is a glob: "*.example.com" matches subdomains only, "*example.com" also
	// matches example.com itself.
	return strings.HasSuffix(host, pattern[1:])
}

func pathMatches(pattern, path string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(path, prefix)
	}
	return pattern == path
}
