package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

// invalidServiceName is the script name of the plan-only cases: nothing is created, so it
// needs no random suffix.
const invalidServiceName = "tf-acc-invalid"

// expectOneOfErrors matches any of texts, each as expectError does: for a diagnostic that
// names whichever of two set elements Terraform happens to hand over second.
func expectOneOfErrors(texts ...string) *regexp.Regexp {
	alts := make([]string, len(texts))
	for i, text := range texts {
		alts[i] = "(?:" + expectError(text).String() + ")"
	}
	return regexp.MustCompile(strings.Join(alts, "|"))
}

// invalidServiceResource renders a provider block (with extra provider lines) and a service
// whose attributes are exactly body: for cases that change what serviceConfig fixes.
func (e *testEdge) invalidServiceResource(providerExtra, body string) string {
	return e.providerBlock(providerExtra) + fmt.Sprintf(`
resource "servicesdo_service" "test" {
%s
}
`, body)
}

// Every bad input is refused at plan time with a diagnostic that names the attribute, the rule
// and the fix.
func TestAccService_invalidInput(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	dir := t.TempDir()
	code := writeCode(t, dir, "index.js", workerCode("ok"))
	tsCode := writeCode(t, dir, "index.ts", workerCode("ok"))
	missing := filepath.Join(dir, "does-not-exist", "index.js")
	// The date messages name today's date (UTC), as the provider computes it when it plans;
	// should the test run across midnight, the next day's date is accepted too.
	today := time.Now().UTC().Format("2006-01-02")
	later := time.Now().UTC().Add(10 * time.Minute).Format("2006-01-02")
	zone := fmt.Sprintf("zone_id = %q", testZoneID)
	long := strings.Repeat("a", 64)
	syntaxCode := writeCode(t, dir, "syntax/index.js", "export const x = ;\nexport default {}\n")
	importCode := writeCode(t, dir, "import/index.js", `import helper from "./gone.js"; export default { fetch() { return helper() } }`)
	bookCode := writeCode(t, dir, "book/index.js", `export class Book {} export default { fetch() { return new Response("b") } }`)
	srcDir := filepath.Dir(writeCode(t, dir, "src/index.js", workerCode("dir")))
	const missingZone = "cccccccccccccccccccccccccccccccc"
	const rule = "1–63 lower-case letters, digits and hyphens, starting and ending with a letter or digit."

	cases := map[string]struct {
		name          string         // script name, default invalidServiceName
		extra         string         // attributes added to serviceConfig
		config        string         // the whole configuration instead of serviceConfig
		want          []string       // the diagnostic's detail; several when Terraform may report either
		pattern       *regexp.Regexp // instead of want, when the detail is matched in parts
		versionChecks []tfversion.TerraformVersionCheck
	}{
		// 1. script names
		"name upper case and underscore": {
			name: "Cart_Service",
			want: []string{`"Cart_Service" is not a valid Worker name: use ` + rule},
		},
		"name leading hyphen": {
			name: "-cart",
			want: []string{`"-cart" is not a valid Worker name: use ` + rule},
		},
		"name 64 characters": {
			name: long,
			want: []string{fmt.Sprintf(`%q is not a valid Worker name: use %s`, long, rule)},
		},

		// 2. compatibility_date
		"compatibility_date format": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025/01/01"
`, invalidServiceName, code)),
			want: []string{
				fmt.Sprintf(`compatibility_date "2025/01/01" is not a date in YYYY-MM-DD form, such as %q.`, today),
				fmt.Sprintf(`compatibility_date "2025/01/01" is not a date in YYYY-MM-DD form, such as %q.`, later),
			},
		},
		"compatibility_date in the future": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2999-01-01"
`, invalidServiceName, code)),
			want: []string{
				fmt.Sprintf(`compatibility_date 2999-01-01 is in the future: use today's date (%s) or an earlier one.`, today),
				fmt.Sprintf(`compatibility_date 2999-01-01 is in the future: use today's date (%s) or an earlier one.`, later),
			},
		},

		// 3. main_module
		"main_module not among the modules": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "worker.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
`, invalidServiceName, code)),
			want: []string{`main_module "worker.js" is not among the modules (index.js): name one of them.`},
		},

		// 4. unreadable module file
		"module file missing": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
`, invalidServiceName, missing)),
			want: []string{fmt.Sprintf(`cannot read module "index.js" from %s: no such file or directory.`, missing)},
		},

		// 5. unknown module extension
		"module extension unknown": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.ts"
  modules            = { "index.ts" = %q }
  compatibility_date = "2025-01-01"
`, invalidServiceName, tsCode)),
			want: []string{`module "index.ts" has an unknown extension: use one of .bin, .cjs, .html, .js, .map, .mjs, .py, .sql, .txt, .wasm.`},
		},

		// 6. binding names that are not JavaScript identifiers
		"binding name with hyphen": {
			extra: `vars = { "log-level" = "info" }`,
			want:  []string{`Binding "log-level" is not a valid JavaScript identifier: use letters, digits, _ and $, not starting with a digit (e.g. "log_level").`},
		},
		"binding name starting with a digit": {
			extra: `kv_namespaces = { "1KV" = "0123456789abcdef0123456789abcdef" }`,
			want:  []string{`Binding "1KV" is not a valid JavaScript identifier: use letters, digits, _ and $, not starting with a digit (e.g. "_1KV").`},
		},
		"binding name reserved word": {
			extra: `vars = { class = "x" }`,
			want:  []string{`Binding "class" is a JavaScript reserved word: choose another binding name (e.g. "CLASS").`},
		},

		// 7. binding names colliding across kinds
		"binding name in vars and kv_namespaces": {
			extra: `
  vars          = { CACHE = "x" }
  kv_namespaces = { CACHE = "0123456789abcdef0123456789abcdef" }`,
			want: []string{`Binding name "CACHE" is used by both vars and kv_namespaces: binding names share one namespace (env), so rename one of them.`},
		},
		"binding name in secrets and vars": {
			extra: `
  vars    = { TOKEN = "x" }
  secrets = { TOKEN = "s3cret" }`,
			want:          []string{`Binding name "TOKEN" is used by both vars and secrets: binding names share one namespace (env), so rename one of them.`},
			versionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		},

		// 8. a service binding to itself
		"service binding to itself": {
			extra: fmt.Sprintf(`services = { SELF = { service = %q } }`, invalidServiceName),
			want: []string{fmt.Sprintf(`Binding SELF points at this service (%q). A Worker calls itself with fetch on its own URL; bind other services here.`,
				invalidServiceName)},
		},

		// 9, 10. limits
		"memory_mb above the platform's": {
			extra: `limits = { memory_mb = 256 }`,
			want: []string{`memory_mb = 256, but every Worker gets a fixed 128 MB: set memory_mb to 128 or less (or remove it), ` +
				`and split work that needs more memory across services or Durable Objects.`},
		},
		"cpu_ms too low": {
			extra: `limits = { cpu_ms = 5 }`,
			want:  []string{`Attribute limits.cpu_ms value must be between 10 and 300000, got: 5`},
		},
		"cpu_ms too high": {
			extra: `limits = { cpu_ms = 400000 }`,
			want:  []string{`Attribute limits.cpu_ms value must be between 10 and 300000, got: 400000`},
		},

		// 11. route patterns
		"route with a scheme": {
			extra: `routes = [{ pattern = "https://shop.example.com/*" }]`,
			want:  []string{`route pattern "https://shop.example.com/*" must not include a scheme: write "shop.example.com/*".`},
		},
		"route without a host": {
			extra: `routes = [{ pattern = "/cart/*" }]`,
			want:  []string{`route pattern "/cart/*" has no host: write it as host/path, e.g. "api.example.com/*".`},
		},

		// 12. a route with no zone, and no provider zone_id
		"route without a zone": {
			config: edge.invalidServiceResource("", fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  routes             = [{ pattern = "shop.example.com/*" }]
`, invalidServiceName, code)),
			want: []string{`Route "shop.example.com/*" has no zone: set zone_id on the route, or the provider's zone_id (or CLOUDFLARE_ZONE_ID).`},
		},

		// 13. cron expressions
		"cron minute out of range": {
			extra: `crons = ["61 * * * *"]`,
			want:  []string{`cron "61 * * * *": minute field "61": 61 is outside 0–59.`},
		},
		"cron with four fields": {
			extra: `crons = ["* * * *"]`,
			want:  []string{`cron "* * * *" has 4 fields: use five (minute hour day-of-month month day-of-week), e.g. "*/15 * * * *".`},
		},

		// 14. duplicates differing only in host case
		"duplicate routes": {
			extra: `routes = [{ pattern = "Shop.example.com/*" }, { pattern = "shop.example.com/*" }]`,
			// Either element may be the one found second.
			want: []string{
				`Route pattern "Shop.example.com/*" appears more than once (hostnames are case-insensitive): declare each pattern once.`,
				`Route pattern "shop.example.com/*" appears more than once (hostnames are case-insensitive): declare each pattern once.`,
			},
		},
		"duplicate custom domains": {
			extra: `custom_domains = ["Cart.example.com", "cart.example.com"]`,
			want: []string{
				`Custom domain "Cart.example.com" appears more than once (hostnames are case-insensitive): declare each hostname once.`,
				`Custom domain "cart.example.com" appears more than once (hostnames are case-insensitive): declare each hostname once.`,
			},
		},

		// 19. mistakes the platform would refuse at apply time, caught at plan time
		"JavaScript syntax error": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
`, invalidServiceName, syntaxCode)),
			want: []string{`module index.js does not parse as JavaScript: line 1, column 18: Unexpected ";". Cloudflare would reject the upload: fix the module.`},
		},
		"import of a missing module": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
`, invalidServiceName, importCode)),
			want: []string{`module index.js imports "./gone.js", which is not among the modules (index.js). The Workers runtime resolves imports among the uploaded modules only: add the module, or fix the import.`},
		},
		"Durable Object class not exported": {
			extra: `durable_objects = { COUNTER = { class_name = "Counter" } }`,
			want: []string{`Class "Counter" (binding COUNTER) is not exported by the main module index.js, which exports default. Cloudflare refuses a Durable Object ` +
				`class the Worker does not export: export it from index.js (export class Counter { … }), or correct class_name.`},
		},
		"renamed_from a class that never existed": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  modules            = { "index.js" = %q }
  compatibility_date = "2025-01-01"
  durable_objects    = { BOOKS = { class_name = "Book", renamed_from = "Ledger" } }
`, invalidServiceName, bookCode)),
			want: []string{`durable object class "Book" has renamed_from = "Ledger", but the service has no class "Ledger" (it has no Durable Object classes), ` +
				`so there is nothing to rename. Remove renamed_from to create "Book" as a new class, or set it to the class being replaced.`},
		},
		"source_dir with inline_modules": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  source_dir         = %q
  inline_modules     = { "index.js" = "export default {}" }
  compatibility_date = "2025-01-01"
`, invalidServiceName, srcDir)),
			want: []string{`source_dir and inline_modules cannot be set together: a module in both would silently come from inline_modules. ` +
				`Keep the code in one place: files under source_dir (and modules for single files), or inline_modules.`},
			versionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		},
		"binding to a missing service": {
			extra: `services = { OTHER = { service = "no-such-service" } }`,
			want: []string{fmt.Sprintf(`Service "no-such-service" (binding OTHER) does not exist in account %s, and no resource of this configuration creates it. `+
				`Create it first, or refer to the resource that creates it so Terraform orders the two.`, edge.accountID)},
		},
		"binding to a missing KV namespace": {
			extra: `kv_namespaces = { CACHE = "0123456789abcdef0123456789abcdef" }`,
			want:  []string{fmt.Sprintf(`KV namespace "0123456789abcdef0123456789abcdef" (binding CACHE) does not exist in account %s, and no resource of this configuration creates it.`, edge.accountID)},
		},
		"binding to a missing R2 bucket": {
			extra: `r2_buckets = { FILES = { bucket_name = "no-such-bucket" } }`,
			want:  []string{fmt.Sprintf(`R2 bucket "no-such-bucket" (binding FILES) does not exist in account %s, and no resource of this configuration creates it.`, edge.accountID)},
		},
		"route outside its zone": {
			extra: `routes = [{ pattern = "shop.other.org/*" }]`,
			want: []string{fmt.Sprintf(`Route "shop.other.org/*" has host shop.other.org, which is not in zone %s (the provider's zone_id %q): a route's host must be `+
				`the zone's name or a name under it. Use the zone_id of the zone that holds shop.other.org.`, testZoneName, testZoneID)},
		},
		"route in an unknown zone": {
			extra: fmt.Sprintf(`routes = [{ pattern = "shop.example.com/*", zone_id = %q }]`, missingZone),
			want:  []string{fmt.Sprintf(`Route "shop.example.com/*" is in zone_id %q, which is not a zone of account %s (reading zone %s: Cloudflare API error 7003`, missingZone, edge.accountID, missingZone)},
		},

		// 17. no code at all
		"no code": {
			config: edge.invalidServiceResource(zone, fmt.Sprintf(`
  name               = %q
  main_module        = "index.js"
  compatibility_date = "2025-01-01"
`, invalidServiceName)),
			want: []string{`Set source_dir, modules (files) or inline_modules so that main_module names one of the service's modules.`},
		},

		// 18. JSON variables, semantic versions, custom domains
		"json_vars not JSON": {
			extra: `json_vars = { FEATURES = "{beta: true" }`,
			// The detail must name the variable (the diagnostic's source snippet shows the
			// whole map, not the key), may give the parser's reason, and must give the fix.
			pattern: regexp.MustCompile(expectError(`json_vars["FEATURES"] is not JSON`).String() + `[\s\S]*` +
				expectError(`build it with jsonencode(...).`).String()),
		},
		"version not semver": {
			extra: `version = "1.0"`,
			want:  []string{`Attribute version must be a semantic version such as 1.4.0 or 2.0.0-rc.1, got: 1.0`},
		},
		"custom domain not a hostname": {
			extra: `custom_domains = ["localhost"]`,
			want:  []string{`"localhost" is not a fully qualified hostname (two or more labels) such as "api.example.com".`},
		},
	}

	for caseName, tc := range cases {
		t.Run(caseName, func(t *testing.T) {
			t.Parallel()
			if caseName == "route without a zone" && os.Getenv(envZoneID) != "" {
				t.Skipf("%s is set: the provider falls back to it, so a route always has a zone", envZoneID)
			}
			config := tc.config
			if config == "" {
				name := tc.name
				if name == "" {
					name = invalidServiceName
				}
				config = edge.serviceConfig(name, code, tc.extra)
			}
			expectErr := tc.pattern
			if expectErr == nil {
				expectErr = expectOneOfErrors(tc.want...)
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				TerraformVersionChecks:   tc.versionChecks,
				Steps: []resource.TestStep{{
					Config:      config,
					PlanOnly:    true,
					ExpectError: expectErr,
				}},
			})
		})
	}
}

// durableObjectCode exports the Counter class and a default fetch handler.
const durableObjectCode = `export class Counter { constructor(state, env) {} async fetch() { return new Response("x") } }
export default { async fetch(request, env) { return new Response("ok") } }
`

// 15. Removing a Durable Object class deletes its data: refused without allow_delete.
func TestAccService_invalidDurableObjectRemoval(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", durableObjectCode)
	name := uniqueName("tf-acc-svc-do-rm")
	counter := `durable_objects = { COUNTER = { class_name = "Counter" } }`
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: edge.serviceConfig(name, code, counter)},
			{
				Config:   edge.serviceConfig(name, code, ""),
				PlanOnly: true,
				ExpectError: expectError(`durable object class(es) Counter are no longer declared: removing a class deletes the data of all its objects. ` +
					`Keep declaring the class, rename it with renamed_from, or set allow_delete = true to delete it and its data.`),
			},
			// Still declaring the class, allow the deletion so that the final destroy may
			// delete the service and its objects.
			{Config: edge.serviceConfig(name, code, counter+"\n  allow_delete = true")},
		},
	})
}

// 16. A migration cannot ship in a gradual (managed) rollout.
func TestAccService_invalidManagedRolloutMigration(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	code := writeCode(t, t.TempDir(), "index.js", durableObjectCode)
	name := uniqueName("tf-acc-svc-do-managed")
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkServicesDestroyed,
		Steps: []resource.TestStep{
			{Config: edge.serviceConfig(name, code, `rollout = "managed"`)},
			{
				Config: edge.serviceConfig(name, code, `
  rollout         = "managed"
  durable_objects = { COUNTER = { class_name = "Counter" } }`),
				PlanOnly: true,
				ExpectError: expectError(`This change needs a Durable Object migration (new Counter), and a migration cannot ship in a gradual version: ` +
					`every instance must run the new classes at once. Apply it with rollout = "immediate" (it deploys at 100 %), ` +
					`then set rollout back to "managed" for later changes.`),
			},
		},
	})
}
