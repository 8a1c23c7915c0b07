package workers

import (
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
)

// GatewayModule is the API gateway program (gateway/dist/worker.js): one ES module, uploaded
// as the gateway service's main module under GatewayMainModule. It reads its configuration
// from the JSON binding GatewayConfigBinding and exports the Durable Object class
// GatewayRateCounterClass. gateway/README.md documents the configuration and the bindings.
//
//go:embed gateway/dist/worker.js
var GatewayModule string

// Names the gateway program and the provider agree on.
const (
	GatewayMainModule = "worker.js"
	// GatewayConfigVersion is the configuration version the embedded program reads.
	GatewayConfigVersion = 1

	// GatewayConfigBinding is the JSON binding holding GatewayConfig.
	GatewayConfigBinding = "GATEWAY_CONFIG"
	// GatewayAPIKeysBinding is the secret holding the salted key hashes (NewGatewayAPIKeysSecret).
	GatewayAPIKeysBinding = "GATEWAY_API_KEYS"
	// GatewayJWTSecretBinding is the secret holding the HS256 key.
	GatewayJWTSecretBinding = "GATEWAY_JWT_SECRET"
	// GatewayRateLimitBinding is the Workers rate-limit binding used for 10 s and 60 s periods;
	// its simple.limit and simple.period must equal rate_limit.requests and rate_limit.period.
	GatewayRateLimitBinding = "GATEWAY_RATE_LIMIT"
	// GatewayRateCounterBinding binds GatewayRateCounterClass (SQLite-backed, in the gateway
	// script itself), used for every other period.
	GatewayRateCounterBinding = "GATEWAY_RATE_COUNTER"
	GatewayRateCounterClass   = "GatewayRateCounter"

	// GatewayMinCompatibilityDate is the oldest compatibility date the program runs on (it
	// calls its Durable Object over RPC).
	GatewayMinCompatibilityDate = "2024-04-03"
)

// GatewayConfig is the JSON configuration of one gateway (GatewayConfigBinding). Every
// duration is a whole number: milliseconds for timeout_ms, seconds elsewhere.
type GatewayConfig struct {
	Version         int               `json:"version"`
	Name            string            `json:"name,omitempty"`
	RequestIDHeader string            `json:"request_id_header,omitempty"`
	Routes          []GatewayRoute    `json:"routes"`
	CORS            *GatewayCORS      `json:"cors,omitempty"`
	Auth            *GatewayAuth      `json:"auth,omitempty"`
	RateLimit       *GatewayRateLimit `json:"rate_limit,omitempty"`
	Logging         *GatewayLogging   `json:"logging,omitempty"`
}

// GatewayRoute sends requests matching Path to the service behind the service binding Binding.
type GatewayRoute struct {
	Path        string   `json:"path"`
	Service     string   `json:"service"`
	Binding     string   `json:"binding"`
	Methods     []string `json:"methods,omitempty"`
	StripPrefix string   `json:"strip_prefix,omitempty"`
	TimeoutMs   int      `json:"timeout_ms,omitempty"`
	Retries     int      `json:"retries,omitempty"`
	VersionID   string   `json:"version_id,omitempty"`
}

type GatewayCORS struct {
	AllowedOrigins   []string `json:"allowed_origins"`
	AllowedMethods   []string `json:"allowed_methods,omitempty"`
	AllowedHeaders   []string `json:"allowed_headers,omitempty"`
	ExposeHeaders    []string `json:"expose_headers,omitempty"`
	AllowCredentials bool     `json:"allow_credentials,omitempty"`
	MaxAge           *int     `json:"max_age,omitempty"`
}

// GatewayAuth: APIKeys says the GatewayAPIKeysBinding secret is bound (the keys themselves
// never appear in the configuration).
type GatewayAuth struct {
	Mode               string      `json:"mode"`
	APIKeys            bool        `json:"api_keys,omitempty"`
	JWT                *GatewayJWT `json:"jwt,omitempty"`
	PublicPaths        []string    `json:"public_paths,omitempty"`
	ForwardCredentials bool        `json:"forward_credentials,omitempty"`
}

// GatewayJWT verifies RS256 tokens with the keys at JWKSURL, or (HS256 = true) HS256 tokens
// with the GatewayJWTSecretBinding secret.
type GatewayJWT struct {
	Issuer    string   `json:"issuer,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
	JWKSURL   string   `json:"jwks_url,omitempty"`
	HS256     bool     `json:"hs256,omitempty"`
	ClockSkew int      `json:"clock_skew,omitempty"`
}

type GatewayRateLimit struct {
	Requests int    `json:"requests"`
	Period   int    `json:"period"`
	Key      string `json:"key,omitempty"`
}

type GatewayLogging struct {
	Enabled       bool     `json:"enabled"`
	SampleRate    float64  `json:"sample_rate"`
	RedactHeaders []string `json:"redact_headers,omitempty"`
}

// GatewayRateLimitUsesBinding reports whether a period (seconds) is enforced by the Workers
// rate-limit binding (10 and 60) rather than the Durable Object counter.
func GatewayRateLimitUsesBinding(period int) bool { return period == 10 || period == 60 }

// GatewayServiceBindingName is the service binding name the provider gives a target service:
// "users-api" → "SERVICE_USERS_API". Service names are [a-z0-9-], so the mapping is one to one.
func GatewayServiceBindingName(service string) string {
	return "SERVICE_" + strings.ToUpper(strings.ReplaceAll(service, "-", "_"))
}

// Limits shared with the program (gateway/src).
const (
	gatewayMaxRetries     = 5
	gatewayMaxTimeoutMs   = 600000
	gatewayMaxAge         = 86400
	gatewayMaxClockSkew   = 300
	gatewayMaxRequests    = 1000000
	gatewayMaxPeriod      = 86400
	gatewayMaxAPIKeys     = 30   // their records (at most 159 bytes each) fit one secret
	gatewayMaxConfigBytes = 5120 // Cloudflare's limit on one environment variable, JSON bindings included
	gatewayMinAPIKeyLen   = 20
	gatewayMaxAPIKeyLen   = 512
	gatewayMinJWTSecret   = 32
	gatewayDefaultTimeout = 30000
)

// GatewayProblem is one invalid setting: Path names the servicesdo_gateway attribute
// (names, list indexes and map keys, e.g. ["routes", 1, "path"]), Message says what is wrong,
// the rule and the fix. Attribute names equal the JSON names except routes[].timeout
// (timeout_ms, milliseconds) and auth.jwt.hs256_secret (hs256).
type GatewayProblem struct {
	Path    []any
	Message string
}

func (p GatewayProblem) Error() string { return gatewayPathString(p.Path) + ": " + p.Message }

func gatewayPathString(path []any) string {
	var b strings.Builder
	for _, step := range path {
		switch s := step.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		case gatewayMapKey:
			fmt.Fprintf(&b, "[%q]", string(s))
		}
	}
	return b.String()
}

// gatewayMapKey is a map key step in a GatewayProblem path.
type gatewayMapKey string

type gatewayProblems []GatewayProblem

func (ps *gatewayProblems) add(message string, path ...any) {
	*ps = append(*ps, GatewayProblem{Path: path, Message: message})
}

var (
	gatewayToken       = lazyregexp.New("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	gatewayBindingName = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]*$`)
	gatewayLiteral     = lazyregexp.New(`^[A-Za-z0-9._~-]+$`)
	gatewayParam       = lazyregexp.New(`^:[A-Za-z_][A-Za-z0-9_]*$`)
	gatewayVersionID   = lazyregexp.New(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	gatewayOrigin      = lazyregexp.New(`^(https?)://([a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(:[0-9]{1,5})?$`)
	gatewayAPIKeyID    = lazyregexp.New(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	gatewayAPIKeyChars = lazyregexp.New(`^[A-Za-z0-9._~+/-]+=*$`)
)

var gatewayIdempotent = map[string]bool{"GET": true, "HEAD": true, "OPTIONS": true, "PUT": true, "DELETE": true, "TRACE": true}

// Headers a request id header must not be: the gateway or the platform gives them meaning.
var gatewayReservedHeaders = map[string]bool{
	"authorization": true, "x-api-key": true, "cookie": true, "host": true, "content-length": true,
	"content-type": true, "transfer-encoding": true, "origin": true, "cf-connecting-ip": true,
	"x-forwarded-for": true, "x-forwarded-host": true, "x-forwarded-proto": true,
	"cloudflare-workers-version-overrides": true,
}

// gatewayPattern is a parsed route or public-path pattern.
type gatewayPattern struct {
	shape         string   // parameter names erased: equal shapes match the same requests
	rank          []int    // precedence, compared from the left (gatewayComparePatterns)
	literalPrefix []string // the leading literal segments
}

const (
	gatewayRankWildcard = 1
	gatewayRankEnd      = 2
	gatewayRankParam    = 3
	gatewayRankLiteral  = 4
)

// parseGatewayPattern checks a pattern as the program does (gateway/src/path.js) and explains
// a refusal with the fix.
func parseGatewayPattern(p string) (gatewayPattern, error) {
	if !strings.HasPrefix(p, "/") {
		return gatewayPattern{}, fmt.Errorf("pattern %q must start with \"/\", e.g. %q", p, "/"+p)
	}
	if p == "/" {
		return gatewayPattern{shape: "/", rank: []int{gatewayRankEnd}}, nil
	}
	if strings.HasSuffix(p, "/") {
		return gatewayPattern{}, fmt.Errorf("pattern %q must not end with \"/\": write %q (it matches %q too) or %q for everything below it", p, strings.TrimRight(p, "/"), p, strings.TrimRight(p, "/")+"/*")
	}
	segments := strings.Split(p[1:], "/")
	var pat gatewayPattern
	shape := make([]string, 0, len(segments))
	names := map[string]bool{}
	for i, seg := range segments {
		switch {
		case seg == "":
			return gatewayPattern{}, fmt.Errorf("pattern %q has an empty segment (\"//\"): requests never contain one, since \"//\" is read as \"/\"; remove the extra \"/\"", p)
		case seg == "*":
			if i != len(segments)-1 {
				return gatewayPattern{}, fmt.Errorf("pattern %q: \"*\" matches the rest of the path, so it must be the last segment; use \":name\" for one segment in the middle", p)
			}
			pat.rank = append(pat.rank, gatewayRankWildcard)
			shape = append(shape, "*")
		case strings.HasPrefix(seg, ":"):
			if !gatewayParam.MatchString(seg) {
				return gatewayPattern{}, fmt.Errorf("pattern %q: parameter %q must be \":\" followed by a name of letters, digits and \"_\" that does not start with a digit, e.g. \":id\"", p, seg)
			}
			if names[seg] {
				return gatewayPattern{}, fmt.Errorf("pattern %q names parameter %s twice: give each parameter its own name", p, seg)
			}
			names[seg] = true
			pat.rank = append(pat.rank, gatewayRankParam)
			shape = append(shape, ":")
		default:
			if !gatewayLiteral.MatchString(seg) || seg == "." || seg == ".." || strings.HasSuffix(seg, ".") {
				return gatewayPattern{}, fmt.Errorf("pattern %q: segment %q may contain only letters, digits and \"-\" \".\" \"_\" \"~\" and must not end in \".\"; use \":name\" for a variable segment and a final \"*\" for the rest of a path", p, seg)
			}
			pat.rank = append(pat.rank, gatewayRankLiteral)
			shape = append(shape, seg)
			if len(pat.literalPrefix) == i {
				pat.literalPrefix = append(pat.literalPrefix, seg)
			}
		}
	}
	if segments[len(segments)-1] != "*" {
		pat.rank = append(pat.rank, gatewayRankEnd)
	}
	pat.shape = "/" + strings.Join(shape, "/")
	return pat, nil
}

// gatewayComparePatterns orders patterns by precedence (negative: a wins), as the program does:
// from the left, a literal segment beats ":param", which beats the end of an exact pattern,
// which beats "*".
func gatewayComparePatterns(a, b gatewayPattern) int {
	for i := 0; i < max(len(a.rank), len(b.rank)); i++ {
		var ra, rb int
		if i < len(a.rank) {
			ra = a.rank[i]
		}
		if i < len(b.rank) {
			rb = b.rank[i]
		}
		if ra != rb {
			return rb - ra
		}
	}
	return 0
}

// ValidateGatewayConfig checks a configuration at plan time and returns every problem, in
// attribute order. It knows nothing of the target services themselves (the resource checks
// that they exist when it can).
func ValidateGatewayConfig(cfg GatewayConfig) []GatewayProblem {
	var ps gatewayProblems
	if cfg.Version != GatewayConfigVersion {
		ps.add(fmt.Sprintf("is %d, but the embedded gateway program reads version %d", cfg.Version, GatewayConfigVersion), "version")
	}
	if h := cfg.RequestIDHeader; h != "" {
		if !gatewayToken.MatchString(h) {
			ps.add(fmt.Sprintf("%q is not a header name: use letters, digits and \"-\", e.g. \"X-Request-Id\"", h), "request_id_header")
		} else if gatewayReservedHeaders[strings.ToLower(h)] || strings.HasPrefix(strings.ToLower(h), "x-gateway-") {
			ps.add(fmt.Sprintf("%q already means something to the gateway or the platform: choose another name, e.g. \"X-Request-Id\"", h), "request_id_header")
		}
	}
	validateGatewayRoutes(&ps, cfg.Routes)
	if cfg.CORS != nil {
		validateGatewayCORS(&ps, *cfg.CORS)
	}
	if cfg.Auth != nil {
		validateGatewayAuth(&ps, *cfg.Auth)
	}
	if cfg.RateLimit != nil {
		validateGatewayRateLimit(&ps, *cfg.RateLimit, cfg.Auth)
	}
	if cfg.Logging != nil {
		if r := cfg.Logging.SampleRate; r < 0 || r > 1 {
			ps.add(fmt.Sprintf("is %g: use a fraction from 0 (log nothing) to 1 (log every request)", r), "logging", "sample_rate")
		}
		checkGatewayTokens(&ps, cfg.Logging.RedactHeaders, "header name", "logging", "redact_headers")
	}
	if out, err := json.Marshal(cfg); err == nil && len(out) > gatewayMaxConfigBytes {
		ps.add(fmt.Sprintf("the gateway configuration takes %d bytes, more than one Workers JSON binding holds (%d bytes): use fewer routes, or shorter patterns, lists and names", len(out), gatewayMaxConfigBytes), "routes")
	}
	return ps
}

func validateGatewayRoutes(ps *gatewayProblems, routes []GatewayRoute) {
	if len(routes) == 0 {
		ps.add("a gateway needs at least one route: add a routes entry mapping a path pattern such as \"/users/*\" to a service", "routes")
		return
	}
	shapes := map[string]int{}
	bindings := map[string]string{} // binding → service
	for i, r := range routes {
		pat, err := parseGatewayPattern(r.Path)
		if err != nil {
			ps.add(err.Error(), "routes", i, "path")
		} else if j, dup := shapes[pat.shape]; dup {
			if routes[j].Path == r.Path {
				ps.add(fmt.Sprintf("%q is also routes[%d].path: each path pattern may appear once; merge the two routes (list all their methods in one) or remove one", r.Path, j), "routes", i, "path")
			} else {
				ps.add(fmt.Sprintf("%q matches exactly the same requests as routes[%d].path %q (parameter names do not count): merge the two routes or make one pattern more specific", r.Path, j, routes[j].Path), "routes", i, "path")
			}
		} else {
			shapes[pat.shape] = i
		}
		if r.Service == "" {
			ps.add("is empty: name the service this route sends requests to", "routes", i, "service")
		}
		switch {
		case !gatewayBindingName.MatchString(r.Binding) || strings.HasPrefix(r.Binding, "GATEWAY_"):
			ps.add(fmt.Sprintf("binding %q of service %q is not a usable service binding name: use letters, digits and \"_\" not starting with \"GATEWAY_\", such as %q", r.Binding, r.Service, GatewayServiceBindingName(r.Service)), "routes", i, "service")
		case bindings[r.Binding] != "" && bindings[r.Binding] != r.Service:
			ps.add(fmt.Sprintf("binding %q is already the binding of service %q: each service needs its own binding name", r.Binding, bindings[r.Binding]), "routes", i, "service")
		default:
			bindings[r.Binding] = r.Service
		}
		validateGatewayMethods(ps, r, i)
		if r.StripPrefix != "" && err == nil {
			validateGatewayStripPrefix(ps, r, pat, i)
		}
		if r.TimeoutMs < 0 || r.TimeoutMs > gatewayMaxTimeoutMs {
			ps.add(fmt.Sprintf("is %d ms: use a timeout from 1 ms to %d s (unset: %d s)", r.TimeoutMs, gatewayMaxTimeoutMs/1000, gatewayDefaultTimeout/1000), "routes", i, "timeout")
		}
		if r.VersionID != "" && !gatewayVersionID.MatchString(r.VersionID) {
			ps.add(fmt.Sprintf("%q is not a Workers version id (a lowercase UUID such as the target service's deployed_version_id)", r.VersionID), "routes", i, "version_id")
		}
	}
}

func validateGatewayMethods(ps *gatewayProblems, r GatewayRoute, i int) {
	seen := map[string]bool{}
	var unsafe []string
	for j, m := range r.Methods {
		switch {
		case !gatewayToken.MatchString(m) || m != strings.ToUpper(m):
			ps.add(fmt.Sprintf("%q is not an HTTP method: write methods in upper case, e.g. \"GET\"", m), "routes", i, "methods", j)
		case seen[m]:
			ps.add(fmt.Sprintf("%q is listed twice: list each method once", m), "routes", i, "methods", j)
		default:
			seen[m] = true
			if !gatewayIdempotent[m] {
				unsafe = append(unsafe, m)
			}
		}
	}
	switch {
	case r.Retries < 0 || r.Retries > gatewayMaxRetries:
		ps.add(fmt.Sprintf("is %d: use 0 to %d retries", r.Retries, gatewayMaxRetries), "routes", i, "retries")
	case r.Retries > 0 && len(unsafe) > 0:
		ps.add(fmt.Sprintf("is %d, but methods include %s: a retry sends a request again, which is safe only for idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE); move %s to a route without retries or set retries = 0", r.Retries, strings.Join(unsafe, ", "), strings.Join(unsafe, ", ")), "routes", i, "retries")
	}
}

func validateGatewayStripPrefix(ps *gatewayProblems, r GatewayRoute, pat gatewayPattern, i int) {
	p := r.StripPrefix
	ok := strings.HasPrefix(p, "/") && p != "/" && !strings.HasSuffix(p, "/")
	if ok {
		for j, seg := range strings.Split(p[1:], "/") {
			if j >= len(pat.literalPrefix) || pat.literalPrefix[j] != seg {
				ok = false
				break
			}
		}
	}
	if !ok {
		example := "/" + strings.Join(pat.literalPrefix, "/")
		if len(pat.literalPrefix) == 0 {
			ps.add(fmt.Sprintf("%q cannot be removed from %q: the pattern starts with a variable segment, so there is no fixed prefix to strip; remove strip_prefix", p, r.Path), "routes", i, "strip_prefix")
			return
		}
		ps.add(fmt.Sprintf("%q is not a prefix of whole literal segments of %q: strip_prefix removes leading fixed segments of the path, e.g. %q", p, r.Path, example), "routes", i, "strip_prefix")
	}
}

func validateGatewayCORS(ps *gatewayProblems, c GatewayCORS) {
	if len(c.AllowedOrigins) == 0 {
		ps.add("is empty: list the origins browsers may call the gateway from (scheme://host[:port]), or \"*\" for any origin", "cors", "allowed_origins")
	}
	star := slices.Contains(c.AllowedOrigins, "*")
	seen := map[string]bool{}
	for i, o := range c.AllowedOrigins {
		switch {
		case o == "*":
			if len(c.AllowedOrigins) > 1 {
				ps.add("\"*\" allows every origin, so listing others beside it has no effect: keep either \"*\" or the explicit origins", "cors", "allowed_origins", i)
			}
		case o == "null":
			ps.add("\"null\" is the origin of sandboxed iframes, file: pages and some redirects, which any site can produce: allowing it allows everyone; remove it", "cors", "allowed_origins", i)
		case strings.Contains(o, "*"):
			ps.add(fmt.Sprintf("%q: wildcard origins are not supported, origins are matched exactly; list each origin (scheme://host[:port])", o), "cors", "allowed_origins", i)
		case !gatewayOrigin.MatchString(o):
			ps.add(fmt.Sprintf("%q is not an origin: write scheme://host[:port] in lower case, without a path or trailing \"/\", e.g. \"https://app.example.com\"", o), "cors", "allowed_origins", i)
		case seen[o]:
			ps.add(fmt.Sprintf("%q is listed twice: list each origin once", o), "cors", "allowed_origins", i)
		}
		seen[o] = true
	}
	if c.AllowCredentials && star {
		ps.add("is true with allowed_origins = [\"*\"]: browsers refuse credentials with Access-Control-Allow-Origin \"*\", and reflecting any origin instead would let every site act as the user; list the allowed origins explicitly", "cors", "allow_credentials")
	}
	checkGatewayTokens(ps, c.AllowedMethods, "HTTP method", "cors", "allowed_methods")
	checkGatewayTokens(ps, c.AllowedHeaders, "header name", "cors", "allowed_headers")
	checkGatewayTokens(ps, c.ExposeHeaders, "header name", "cors", "expose_headers")
	if c.MaxAge != nil && (*c.MaxAge < 0 || *c.MaxAge > gatewayMaxAge) {
		ps.add(fmt.Sprintf("is %d s: use 0 to %d seconds (browsers cap it further: Chrome at 7200)", *c.MaxAge, gatewayMaxAge), "cors", "max_age")
	}
}

func validateGatewayAuth(ps *gatewayProblems, a GatewayAuth) {
	hasCredentials := a.APIKeys || a.JWT != nil
	switch a.Mode {
	case "none":
		if hasCredentials {
			ps.add("is \"none\", so the configured api_keys or jwt would never be checked: set mode to \"optional\" or \"required\", or remove them", "auth", "mode")
		}
	case "optional", "required":
		if !hasCredentials {
			ps.add(fmt.Sprintf("is %q but there is nothing to check credentials against: set auth.api_keys, or auth.jwt with jwks_url (RS256) or hs256_secret (HS256)", a.Mode), "auth", "mode")
		}
	default:
		ps.add(fmt.Sprintf("%q is not a mode: use \"none\", \"optional\" (check credentials when sent) or \"required\"", a.Mode), "auth", "mode")
	}
	if j := a.JWT; j != nil {
		switch {
		case j.JWKSURL != "" && j.HS256:
			ps.add("sets both jwks_url (RS256) and hs256_secret (HS256): a gateway accepts one kind of JWT, so that one algorithm can never be taken for the other; keep one", "auth", "jwt")
		case j.JWKSURL == "" && !j.HS256:
			ps.add("needs jwks_url (RS256 tokens, keys fetched from the identity provider) or hs256_secret (HS256 tokens)", "auth", "jwt")
		case j.JWKSURL != "":
			if u, err := url.Parse(j.JWKSURL); err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
				ps.add(fmt.Sprintf("%q must be an https URL: the keys that decide who is authenticated must not travel unencrypted or be spoofable in transit", j.JWKSURL), "auth", "jwt", "jwks_url")
			}
		}
		seen := map[string]bool{}
		for i, aud := range j.Audiences {
			if aud == "" {
				ps.add("is empty: write the audience (aud) the tokens are issued for", "auth", "jwt", "audiences", i)
			} else if seen[aud] {
				ps.add(fmt.Sprintf("%q is listed twice", aud), "auth", "jwt", "audiences", i)
			}
			seen[aud] = true
		}
		if j.ClockSkew < 0 || j.ClockSkew > gatewayMaxClockSkew {
			ps.add(fmt.Sprintf("is %d s: use 0 to %d seconds", j.ClockSkew, gatewayMaxClockSkew), "auth", "jwt", "clock_skew")
		}
	}
	shapes := map[string]int{}
	for i, p := range a.PublicPaths {
		pat, err := parseGatewayPattern(p)
		if err != nil {
			ps.add(err.Error(), "auth", "public_paths", i)
			continue
		}
		if j, dup := shapes[pat.shape]; dup {
			ps.add(fmt.Sprintf("%q matches the same requests as public_paths[%d] %q: remove one", p, j, a.PublicPaths[j]), "auth", "public_paths", i)
		}
		shapes[pat.shape] = i
	}
}

func validateGatewayRateLimit(ps *gatewayProblems, r GatewayRateLimit, auth *GatewayAuth) {
	if r.Requests < 1 || r.Requests > gatewayMaxRequests {
		ps.add(fmt.Sprintf("is %d: allow at least 1 request per period (at most %d)", r.Requests, gatewayMaxRequests), "rate_limit", "requests")
	}
	if r.Period < 1 || r.Period > gatewayMaxPeriod {
		ps.add(fmt.Sprintf("is %d s, which is not supported: use a whole number of seconds from 1 to %d; 10 and 60 are counted by the Workers rate-limit binding, any other period by a Durable Object", r.Period, gatewayMaxPeriod), "rate_limit", "period")
	}
	switch {
	case r.Key == "" || r.Key == "ip":
	case r.Key == "api_key":
		if auth == nil || auth.Mode == "none" {
			ps.add("is \"api_key\" but auth.mode is \"none\", so no request has an identity to count by: set auth, or key by \"ip\"", "rate_limit", "key")
		}
	case strings.HasPrefix(r.Key, "header:"):
		if name := strings.TrimPrefix(r.Key, "header:"); !gatewayToken.MatchString(name) {
			ps.add(fmt.Sprintf("%q: \"header:\" must be followed by a header name, e.g. \"header:X-Tenant-Id\"", r.Key), "rate_limit", "key")
		}
	default:
		ps.add(fmt.Sprintf("%q is not a key: use \"ip\" (CF-Connecting-IP), \"api_key\" (the authenticated key or JWT subject) or \"header:<name>\"", r.Key), "rate_limit", "key")
	}
}

func checkGatewayTokens(ps *gatewayProblems, values []string, what string, path ...any) {
	for i, v := range values {
		if !gatewayToken.MatchString(v) {
			ps.add(fmt.Sprintf("%q is not a valid %s", v, what), append(slices.Clip(path), i)...)
		}
	}
}

// ValidateGatewayAPIKeys checks the API keys (id → key) the resource hashes into the
// GatewayAPIKeysBinding secret. Messages name key ids, never key values.
func ValidateGatewayAPIKeys(keys map[string]string) []GatewayProblem {
	var ps gatewayProblems
	if len(keys) > gatewayMaxAPIKeys {
		ps.add(fmt.Sprintf("has %d keys: at most %d fit (their hashes share one Workers secret of 5 KB, and each request is checked against every key); use JWTs for more clients", len(keys), gatewayMaxAPIKeys), "auth", "api_keys")
	}
	ids := slices.Sorted(maps.Keys(keys))
	byValue := map[string]string{}
	for _, id := range ids {
		key := keys[id]
		if !gatewayAPIKeyID.MatchString(id) {
			ps.add(fmt.Sprintf("key id %q must be 1 to 64 letters, digits, \"_\" \".\" \"-\", starting with a letter or digit: it is logged and sent to services as the client's identity", id), "auth", "api_keys", gatewayMapKey(id))
			continue
		}
		switch {
		case len(key) < gatewayMinAPIKeyLen || len(key) > gatewayMaxAPIKeyLen:
			ps.add(fmt.Sprintf("is %d characters: use %d to %d random characters", len(key), gatewayMinAPIKeyLen, gatewayMaxAPIKeyLen), "auth", "api_keys", gatewayMapKey(id))
		case !gatewayAPIKeyChars.MatchString(key):
			ps.add("has characters a Bearer token cannot carry: use letters, digits and \"-\" \".\" \"_\" \"~\" \"+\" \"/\" (\"=\" only at the end)", "auth", "api_keys", gatewayMapKey(id))
		case byValue[key] != "":
			ps.add(fmt.Sprintf("has the same key as %q: give each client its own key, so the identity sent to services is unambiguous", byValue[key]), "auth", "api_keys", gatewayMapKey(id))
		default:
			byValue[key] = id
		}
	}
	return ps
}

// ValidateGatewayJWTSecret checks an HS256 secret without revealing it.
func ValidateGatewayJWTSecret(secret string) error {
	if len(secret) < gatewayMinJWTSecret {
		return fmt.Errorf("auth.jwt.hs256_secret is %d bytes: HS256 needs at least %d bytes (256 bits) of secret, or tokens can be forged by guessing it", len(secret), gatewayMinJWTSecret)
	}
	return nil
}

// API key hashing, shared with the program (gateway/src/credentials.js) through the vectors
// in gateway/testdata/api-key-vectors.json.
const (
	GatewayAPIKeyAlgorithm    = "hmac-sha256"
	GatewayAPIKeysVersion     = 1
	gatewayAPIKeySaltLen      = 16
	gatewayAPIKeysSecretLimit = 5120 // Cloudflare's limit on one secret, in bytes
)

// HashGatewayAPIKey is HMAC-SHA256 keyed by the salt over the key's UTF-8 bytes. A key's
// hash with a per-key random salt, kept only in a secret, is what the gateway compares.
func HashGatewayAPIKey(key string, salt []byte) []byte {
	mac := hmac.New(sha256.New, salt)
	mac.Write([]byte(key))
	return mac.Sum(nil)
}

// GatewayAPIKeyRecord is one key in the GatewayAPIKeysBinding secret (base64url, no padding).
type GatewayAPIKeyRecord struct {
	ID   string `json:"id"`
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

// GatewayAPIKeysSecret is the JSON value of the GatewayAPIKeysBinding secret.
type GatewayAPIKeysSecret struct {
	Version   int                   `json:"version"`
	Algorithm string                `json:"algorithm"`
	Keys      []GatewayAPIKeyRecord `json:"keys"`
}

// NewGatewayAPIKeysSecret hashes keys (id → key, checked by ValidateGatewayAPIKeys) with a
// fresh salt each, read from random (crypto/rand.Reader in the provider), and returns the
// secret's JSON value, records ordered by id.
func NewGatewayAPIKeysSecret(keys map[string]string, random io.Reader) (string, error) {
	secret := GatewayAPIKeysSecret{Version: GatewayAPIKeysVersion, Algorithm: GatewayAPIKeyAlgorithm, Keys: []GatewayAPIKeyRecord{}}
	ids := slices.Sorted(maps.Keys(keys))
	enc := base64.RawURLEncoding
	for _, id := range ids {
		salt := make([]byte, gatewayAPIKeySaltLen)
		if _, err := io.ReadFull(random, salt); err != nil {
			return "", fmt.Errorf("generating a salt for API key %q: %w", id, err)
		}
		secret.Keys = append(secret.Keys, GatewayAPIKeyRecord{ID: id, Salt: enc.EncodeToString(salt), Hash: enc.EncodeToString(HashGatewayAPIKey(keys[id], salt))})
	}
	out, err := json.Marshal(secret)
	if err != nil {
		return "", err
	}
	if len(out) > gatewayAPIKeysSecretLimit {
		return "", fmt.Errorf("the hashes of %d API keys take %d bytes, more than a Workers secret holds (%d bytes): use fewer keys", len(keys), len(out), gatewayAPIKeysSecretLimit)
	}
	return string(out), nil
}
