package provider

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/workers"
)

type gatewayModel struct {
	ID                types.String           `tfsdk:"id"`
	Name              types.String           `tfsdk:"name"`
	Routes            []gatewayRouteModel    `tfsdk:"routes"`
	CORS              *gatewayCORSModel      `tfsdk:"cors"`
	Auth              *gatewayAuthModel      `tfsdk:"auth"`
	RateLimit         *gatewayRateLimitModel `tfsdk:"rate_limit"`
	Logging           *gatewayLoggingModel   `tfsdk:"logging"`
	RequestIDHeader   types.String           `tfsdk:"request_id_header"`
	ZoneRoutes        types.Set              `tfsdk:"zone_routes"`
	CustomDomains     types.Set              `tfsdk:"custom_domains"`
	WorkersDev        types.Bool             `tfsdk:"workers_dev"`
	CompatibilityDate types.String           `tfsdk:"compatibility_date"`
	Config            types.String           `tfsdk:"config"`
	ConfigSHA256      types.String           `tfsdk:"config_sha256"`
	URL               types.String           `tfsdk:"url"`
	DeployedVersionID types.String           `tfsdk:"deployed_version_id"`
}

type gatewayRouteModel struct {
	Path        types.String `tfsdk:"path"`
	Service     types.String `tfsdk:"service"`
	Methods     types.List   `tfsdk:"methods"`
	StripPrefix types.String `tfsdk:"strip_prefix"`
	Timeout     types.String `tfsdk:"timeout"`
	Retries     types.Int64  `tfsdk:"retries"`
	VersionID   types.String `tfsdk:"version_id"`
}

type gatewayCORSModel struct {
	AllowedOrigins   types.List  `tfsdk:"allowed_origins"`
	AllowedMethods   types.List  `tfsdk:"allowed_methods"`
	AllowedHeaders   types.List  `tfsdk:"allowed_headers"`
	ExposeHeaders    types.List  `tfsdk:"expose_headers"`
	AllowCredentials types.Bool  `tfsdk:"allow_credentials"`
	MaxAge           types.Int64 `tfsdk:"max_age"`
}

type gatewayAuthModel struct {
	Mode               types.String     `tfsdk:"mode"`
	APIKeys            types.Map        `tfsdk:"api_keys_wo"`
	SecretsVersion     types.Int64      `tfsdk:"secrets_version"`
	JWT                *gatewayJWTModel `tfsdk:"jwt"`
	PublicPaths        types.List       `tfsdk:"public_paths"`
	ForwardCredentials types.Bool       `tfsdk:"forward_credentials"`
}

type gatewayJWTModel struct {
	Issuer      types.String `tfsdk:"issuer"`
	Audiences   types.List   `tfsdk:"audiences"`
	JWKSURL     types.String `tfsdk:"jwks_url"`
	HS256Secret types.String `tfsdk:"hs256_secret_wo"`
	ClockSkew   types.Int64  `tfsdk:"clock_skew"`
}

type gatewayRateLimitModel struct {
	Requests types.Int64  `tfsdk:"requests"`
	Period   types.Int64  `tfsdk:"period"`
	Key      types.String `tfsdk:"key"`
}

type gatewayLoggingModel struct {
	Enabled       types.Bool    `tfsdk:"enabled"`
	SampleRate    types.Float64 `tfsdk:"sample_rate"`
	RedactHeaders types.List    `tfsdk:"redact_headers"`
}

// gatewaySecrets are the write-only values of a configuration: they reach the Worker as
// secret bindings and are never kept.
type gatewaySecrets struct {
	apiKeys map[string]string
	hs256   string
}

// secrets reads the write-only values from a configuration (the plan and state hold null).
func (m *gatewayModel) secrets() gatewaySecrets {
	var s gatewaySecrets
	if m.Auth == nil {
		return s
	}
	if !m.Auth.APIKeys.IsNull() {
		s.apiKeys = stringMap(m.Auth.APIKeys)
	}
	if m.Auth.JWT != nil {
		s.hs256 = m.Auth.JWT.HS256Secret.ValueString()
	}
	return s
}

// hasAPIKeys and hasHS256 say whether the configuration sets them (known or not).
func (m *gatewayModel) hasAPIKeys() bool { return m.Auth != nil && !m.Auth.APIKeys.IsNull() }
func (m *gatewayModel) hasHS256() bool {
	return m.Auth != nil && m.Auth.JWT != nil && !m.Auth.JWT.HS256Secret.IsNull()
}

func listStrings(l types.List) []string {
	var out []string
	if l.IsNull() || l.IsUnknown() {
		return out
	}
	for _, v := range l.Elements() {
		if s, ok := v.(types.String); ok && !s.IsNull() && !s.IsUnknown() {
			out = append(out, s.ValueString())
		}
	}
	return out
}

// listOrNull is the list of values, or null when there are none.
func listOrNull(values []string) types.List {
	if len(values) == 0 {
		return types.ListNull(types.StringType)
	}
	elems := make([]attr.Value, len(values))
	for i, v := range values {
		elems[i] = types.StringValue(v)
	}
	return types.ListValueMust(types.StringType, elems)
}

func int64OrNull(v int) types.Int64 {
	if v == 0 {
		return types.Int64Null()
	}
	return types.Int64Value(int64(v))
}

// timeoutMs is a route's timeout in milliseconds, 0 when unset (the program's default).
func timeoutMs(s types.String) int {
	d, err := time.ParseDuration(s.ValueString())
	if s.IsNull() || s.IsUnknown() || err != nil {
		return 0
	}
	return int(d / time.Millisecond)
}

// gatewayConfig builds the gateway program's configuration from the model. keys and hs256 say
// whether those secrets are configured (their values are write-only: only the configuration has
// them).
func (m *gatewayModel) gatewayConfig(keys, hs256 bool) workers.GatewayConfig {
	cfg := workers.GatewayConfig{Version: workers.GatewayConfigVersion, Name: m.Name.ValueString(), RequestIDHeader: m.RequestIDHeader.ValueString(), Routes: []workers.GatewayRoute{}}
	for _, r := range m.Routes {
		cfg.Routes = append(cfg.Routes, workers.GatewayRoute{
			Path: r.Path.ValueString(), Service: r.Service.ValueString(), Binding: workers.GatewayServiceBindingName(r.Service.ValueString()),
			Methods: listStrings(r.Methods), StripPrefix: r.StripPrefix.ValueString(), TimeoutMs: timeoutMs(r.Timeout),
			Retries: int(r.Retries.ValueInt64()), VersionID: r.VersionID.ValueString(),
		})
	}
	if c := m.CORS; c != nil {
		cors := &workers.GatewayCORS{
			AllowedOrigins: listStrings(c.AllowedOrigins), AllowedMethods: listStrings(c.AllowedMethods), AllowedHeaders: listStrings(c.AllowedHeaders),
			ExposeHeaders: listStrings(c.ExposeHeaders), AllowCredentials: c.AllowCredentials.ValueBool(),
		}
		if !c.MaxAge.IsNull() && !c.MaxAge.IsUnknown() {
			age := int(c.MaxAge.ValueInt64())
			cors.MaxAge = &age
		}
		cfg.CORS = cors
	}
	if a := m.Auth; a != nil {
		auth := &workers.GatewayAuth{Mode: a.Mode.ValueString(), APIKeys: keys, PublicPaths: listStrings(a.PublicPaths), ForwardCredentials: a.ForwardCredentials.ValueBool()}
		if j := a.JWT; j != nil {
			auth.JWT = &workers.GatewayJWT{Issuer: j.Issuer.ValueString(), Audiences: listStrings(j.Audiences), JWKSURL: j.JWKSURL.ValueString(), HS256: hs256, ClockSkew: int(j.ClockSkew.ValueInt64())}
		}
		cfg.Auth = auth
	}
	if r := m.RateLimit; r != nil {
		cfg.RateLimit = &workers.GatewayRateLimit{Requests: int(r.Requests.ValueInt64()), Period: int(r.Period.ValueInt64()), Key: r.Key.ValueString()}
	}
	if l := m.Logging; l != nil {
		rate := 1.0
		if !l.SampleRate.IsNull() && !l.SampleRate.IsUnknown() {
			rate = l.SampleRate.ValueFloat64()
		}
		cfg.Logging = &workers.GatewayLogging{Enabled: l.Enabled.IsNull() || l.Enabled.ValueBool(), SampleRate: rate, RedactHeaders: listStrings(l.RedactHeaders)}
	}
	return cfg
}

// canonicalGatewayConfig is the configuration's JSON as uploaded and its SHA-256 (hex): the
// same configuration always gives the same bytes, so the hash shows drift.
func canonicalGatewayConfig(cfg workers.GatewayConfig) (string, string, error) {
	out, err := json.Marshal(cfg)
	if err != nil {
		return "", "", err
	}
	sum := sha256.Sum256(out)
	return string(out), hex.EncodeToString(sum[:]), nil
}

// fromGatewayConfig rebuilds the configuration's attributes from a deployed configuration
// (import). Secrets cannot be read back: api_keys_wo and hs256_secret_wo stay null.
func (m *gatewayModel) fromGatewayConfig(cfg workers.GatewayConfig) {
	m.RequestIDHeader = stringOrNull(types.StringNull(), cfg.RequestIDHeader)
	m.Routes = nil
	for _, r := range cfg.Routes {
		route := gatewayRouteModel{
			Path: types.StringValue(r.Path), Service: types.StringValue(r.Service), Methods: listOrNull(r.Methods),
			StripPrefix: stringOrNull(types.StringNull(), r.StripPrefix), Timeout: types.StringNull(), Retries: int64OrNull(r.Retries),
			VersionID: stringOrNull(types.StringNull(), r.VersionID),
		}
		if r.TimeoutMs > 0 {
			route.Timeout = types.StringValue((time.Duration(r.TimeoutMs) * time.Millisecond).String())
		}
		m.Routes = append(m.Routes, route)
	}
	m.CORS = nil
	if c := cfg.CORS; c != nil {
		m.CORS = &gatewayCORSModel{
			AllowedOrigins: listOrNull(c.AllowedOrigins), AllowedMethods: listOrNull(c.AllowedMethods), AllowedHeaders: listOrNull(c.AllowedHeaders),
			ExposeHeaders: listOrNull(c.ExposeHeaders), AllowCredentials: types.BoolNull(), MaxAge: types.Int64Null(),
		}
		if c.AllowCredentials {
			m.CORS.AllowCredentials = types.BoolValue(true)
		}
		if c.MaxAge != nil {
			m.CORS.MaxAge = types.Int64Value(int64(*c.MaxAge))
		}
	}
	m.Auth = nil
	if a := cfg.Auth; a != nil {
		m.Auth = &gatewayAuthModel{Mode: types.StringValue(a.Mode), APIKeys: types.MapNull(types.StringType), SecretsVersion: types.Int64Null(), PublicPaths: listOrNull(a.PublicPaths), ForwardCredentials: types.BoolNull()}
		if a.ForwardCredentials {
			m.Auth.ForwardCredentials = types.BoolValue(true)
		}
		if j := a.JWT; j != nil {
			m.Auth.JWT = &gatewayJWTModel{
				Issuer: stringOrNull(types.StringNull(), j.Issuer), Audiences: listOrNull(j.Audiences), JWKSURL: stringOrNull(types.StringNull(), j.JWKSURL),
				HS256Secret: types.StringNull(), ClockSkew: int64OrNull(j.ClockSkew),
			}
		}
	}
	m.RateLimit = nil
	if r := cfg.RateLimit; r != nil {
		m.RateLimit = &gatewayRateLimitModel{Requests: types.Int64Value(int64(r.Requests)), Period: types.Int64Value(int64(r.Period)), Key: stringOrNull(types.StringNull(), r.Key)}
	}
	m.Logging = nil
	if l := cfg.Logging; l != nil {
		m.Logging = &gatewayLoggingModel{Enabled: types.BoolValue(l.Enabled), SampleRate: types.Float64Value(l.SampleRate), RedactHeaders: listOrNull(l.RedactHeaders)}
	}
}

// gatewayAttributePath turns a GatewayProblem's path into the attribute's path.
func gatewayAttributePath(steps []any) path.Path {
	p := path.Empty()
	for i, step := range steps {
		switch s := step.(type) {
		case int:
			p = p.AtListIndex(s)
		case string:
			switch {
			case s == "api_keys" && i > 0:
				s = "api_keys_wo"
			case s == "hs256":
				s = "hs256_secret_wo"
			case s == "version":
				return path.Root("name")
			}
			p = p.AtName(s)
		default: // a map key
			p = p.AtMapKey(fmt.Sprint(s))
		}
	}
	return p
}

// gatewayRateLimitNamespace is the gateway's own rate-limit namespace id: a positive integer
// (as Cloudflare wants it) derived from the name, so each gateway counts apart.
func gatewayRateLimitNamespace(name string) string {
	h := fnv.New32a()
	h.Write([]byte("servicesdo-gateway/" + name))
	return strconv.FormatUint(uint64(h.Sum32()%1_000_000_000)+1, 10)
}

// gatewayBindings are the bindings of the gateway's Worker: the configuration, one service
// binding per target service, the secrets given, and the rate-limit binding or counter.
func gatewayBindings(cfg workers.GatewayConfig, configJSON string, secrets map[string]string) []cloudflare.Binding {
	bindings := []cloudflare.Binding{{Type: cloudflare.BindingJSON, Name: workers.GatewayConfigBinding, JSON: []byte(configJSON)}}
	services := map[string]bool{}
	for _, r := range cfg.Routes {
		services[r.Service] = true
	}
	names := make([]string, 0, len(services))
	for s := range services {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingService, Name: workers.GatewayServiceBindingName(s), Service: s})
	}
	for _, name := range []string{workers.GatewayAPIKeysBinding, workers.GatewayJWTSecretBinding} {
		if v, ok := secrets[name]; ok {
			bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingSecretText, Name: name, Text: v})
		}
	}
	if rl := cfg.RateLimit; rl != nil {
		if workers.GatewayRateLimitUsesBinding(rl.Period) {
			bindings = append(bindings, cloudflare.Binding{
				Type: cloudflare.BindingRateLimit, Name: workers.GatewayRateLimitBinding, NamespaceID: gatewayRateLimitNamespace(cfg.Name),
				Simple: &cloudflare.RateLimit{Limit: int64(rl.Requests), Period: int64(rl.Period)},
			})
		} else {
			bindings = append(bindings, cloudflare.Binding{Type: cloudflare.BindingDurableObject, Name: workers.GatewayRateCounterBinding, ClassName: workers.GatewayRateCounterClass})
		}
	}
	return bindings
}
