package provider

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// baseService is a deployed service as state holds it.
func baseService() serviceModel {
	return serviceModel{
		Name: types.StringValue("cart"), MainModule: types.StringValue("index.js"),
		ModuleHashes:      mapOfStrings(map[string]string{"index.js": "aa"}),
		CompatibilityDate: types.StringValue("2025-01-01"), CompatibilityFlags: types.SetNull(types.StringType),
		UsageModel: types.StringValue("standard"), Tags: types.SetNull(types.StringType),
		Vars: mapOfStrings(map[string]string{"MODE": "a"}), JSONVars: types.MapNull(types.StringType),
		KVNamespaces: types.MapNull(types.StringType), R2Buckets: types.MapNull(bindingKinds[3].elem),
		DurableObjects: types.MapNull(bindingKinds[4].elem), Services: types.MapNull(bindingKinds[5].elem),
		SecretNames: setOfStrings([]string{"API_KEY"}), SecretsVersion: types.Int64Value(1),
		Routes: types.SetNull(routeType), CustomDomains: types.SetNull(types.StringType), Crons: types.SetNull(types.StringType),
		WorkersDev: types.BoolValue(false), Rollout: types.StringValue("immediate"), AllowDelete: types.BoolValue(false),
		DurableObjectClasses: types.MapValueMust(types.BoolType, map[string]attr.Value{}), MigrationTag: types.StringValue(""),
	}
}

func doBinding(class, renamedFrom string) types.Map {
	obj := types.ObjectValueMust(doBindingModel{}.attrTypes(), map[string]attr.Value{
		"class_name": types.StringValue(class), "script_name": types.StringNull(), "sqlite": types.BoolNull(), "renamed_from": stringOrNull(types.StringNull(), renamedFrom),
	})
	return types.MapValueMust(bindingKinds[4].elem, map[string]attr.Value{"LEDGER": obj})
}

func TestPlanServiceUpdate(t *testing.T) {
	t.Parallel()
	env := serviceEnv{zoneID: "zone1"}
	routes := func(patterns ...string) types.Set {
		var elems []attr.Value
		for _, p := range patterns {
			elems = append(elems, types.ObjectValueMust(routeType.AttrTypes, map[string]attr.Value{"pattern": types.StringValue(p), "zone_id": types.StringNull()}))
		}
		return types.SetValueMust(routeType, elems)
	}
	cases := []struct {
		name   string
		state  func(*serviceModel)
		plan   func(*serviceModel)
		want   serviceChanges
		checks func(t *testing.T, c serviceChanges)
	}{
		{name: "nothing", plan: func(*serviceModel) {}},
		{name: "code", plan: func(m *serviceModel) { m.ModuleHashes = mapOfStrings(map[string]string{"index.js": "bb"}) },
			want: serviceChanges{upload: uploadScript, codeChanged: true}},
		{name: "code under a managed rollout", plan: func(m *serviceModel) {
			m.ModuleHashes, m.Rollout = mapOfStrings(map[string]string{"index.js": "bb"}), types.StringValue("managed")
		}, want: serviceChanges{upload: uploadVersion, codeChanged: true}},
		{name: "a binding", plan: func(m *serviceModel) { m.Vars = mapOfStrings(map[string]string{"MODE": "b"}) },
			want: serviceChanges{upload: uploadScript}},
		{name: "a binding value unknown at plan time", plan: func(m *serviceModel) {
			m.KVNamespaces = types.MapValueMust(types.StringType, map[string]attr.Value{"CACHE": types.StringUnknown()})
		}, want: serviceChanges{upload: uploadScript}},
		{name: "description", plan: func(m *serviceModel) { m.Description = types.StringValue("cart service") },
			want: serviceChanges{upload: uploadScript}},
		{name: "secrets rotated", plan: func(m *serviceModel) { m.SecretsVersion = types.Int64Value(2) },
			want: serviceChanges{putSecrets: []string{"API_KEY"}}},
		{name: "a secret added", plan: func(m *serviceModel) { m.SecretNames = setOfStrings([]string{"API_KEY", "DB"}) },
			want: serviceChanges{putSecrets: []string{"DB"}}},
		{name: "a secret removed", plan: func(m *serviceModel) { m.SecretNames = types.SetNull(types.StringType) },
			want: serviceChanges{deleteSecrets: []string{"API_KEY"}}},
		{name: "a secret added with a code change rides in the upload", plan: func(m *serviceModel) {
			m.SecretNames, m.ModuleHashes = setOfStrings([]string{"API_KEY", "DB"}), mapOfStrings(map[string]string{"index.js": "bb"})
		}, want: serviceChanges{upload: uploadScript, codeChanged: true, putSecrets: []string{"DB"}},
			checks: func(t *testing.T, c serviceChanges) {
				if c.secretsViaAPI() || !c.deploys() {
					t.Error("the secret must travel in the deploying upload")
				}
			}},
		{name: "tags", plan: func(m *serviceModel) { m.Tags = setOfStrings([]string{"team"}) },
			want: serviceChanges{scriptSettings: true}},
		{name: "tags with an upload travel in it", plan: func(m *serviceModel) {
			m.Tags, m.Vars = setOfStrings([]string{"team"}), mapOfStrings(map[string]string{"MODE": "b"})
		}, want: serviceChanges{upload: uploadScript}},
		{name: "crons", plan: func(m *serviceModel) { m.Crons = setOfStrings([]string{"0 * * * *"}) },
			want: serviceChanges{crons: true}, checks: func(t *testing.T, c serviceChanges) {
				if c.touchesScript() || c.makesVersion() || c.movesURL() {
					t.Error("a cron change moves no version, timestamp or URL")
				}
			}},
		{name: "a route", plan: func(m *serviceModel) { m.Routes = routes("shop.example.com/*") },
			want: serviceChanges{routes: true}, checks: func(t *testing.T, c serviceChanges) {
				if !c.movesURL() || c.touchesScript() {
					t.Error("a route change moves the URL only")
				}
			}},
		{name: "the same route through the provider's zone", state: func(m *serviceModel) { m.Routes = routes("shop.example.com/*") },
			plan: func(m *serviceModel) {
				m.Routes = types.SetValueMust(routeType, []attr.Value{types.ObjectValueMust(routeType.AttrTypes, map[string]attr.Value{
					"pattern": types.StringValue("shop.example.com/*"), "zone_id": types.StringValue("zone1")})})
			}},
		{name: "a domain in another case", state: func(m *serviceModel) { m.CustomDomains = setOfStrings([]string{"Shop.example.com"}) },
			plan: func(m *serviceModel) { m.CustomDomains = setOfStrings([]string{"shop.example.com"}) }},
		{name: "workers.dev", plan: func(m *serviceModel) { m.WorkersDev = types.BoolValue(true) },
			want: serviceChanges{workersDev: true}},
		{name: "health only", plan: func(m *serviceModel) {
			m.Health = &healthModel{Path: types.StringValue("/health"), ExpectStatus: types.Int64Null(), Timeout: types.StringNull()}
		}},
		{name: "a class renamed", state: func(m *serviceModel) {
			m.DurableObjects = doBinding("Ledger", "")
			m.DurableObjectClasses = types.MapValueMust(types.BoolType, map[string]attr.Value{"Ledger": types.BoolValue(true)})
			m.MigrationTag = types.StringValue("v1")
		}, plan: func(m *serviceModel) { m.DurableObjects = doBinding("Book", "Ledger") },
			checks: func(t *testing.T, c serviceChanges) {
				if c.upload != uploadScript || c.migration == nil || c.migration.Description() != "v2: rename Ledger → Book (objects and data kept)" {
					t.Errorf("changes %+v, migration %+v", c, c.migration)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			state := baseService()
			if tc.state != nil {
				tc.state(&state)
			}
			plan := state
			tc.plan(&plan)
			got, err := planServiceUpdate(context.Background(), &state, &plan, env)
			if err != nil {
				t.Fatal(err)
			}
			if tc.checks != nil {
				tc.checks(t, got)
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestPlanServiceUpdateRefusesUnsafeMigration(t *testing.T) {
	t.Parallel()
	state := baseService()
	state.DurableObjects = doBinding("Ledger", "")
	state.DurableObjectClasses = types.MapValueMust(types.BoolType, map[string]attr.Value{"Ledger": types.BoolValue(true)})
	plan := state
	plan.DurableObjects = types.MapNull(bindingKinds[4].elem)
	if _, err := planServiceUpdate(context.Background(), &state, &plan, serviceEnv{}); err == nil {
		t.Fatal("removing a class without allow_delete was planned")
	}
}

func TestExplainUploadError(t *testing.T) {
	t.Parallel()
	err := &cloudflare.Error{Kind: cloudflare.KindValidation, Op: `uploading Worker "cart"`, Status: 400, Code: 10021,
		Message: "Uncaught SyntaxError: Unexpected token '}' at index.js:3:1"}
	got := explainUploadError("cart", err)
	for _, want := range []string{
		`uploading Worker "cart": Cloudflare API error 10021 (HTTP 400): Uncaught SyntaxError: Unexpected token '}' at index.js:3:1.`,
		`Cloudflare refused the code or configuration of Worker "cart": the message above names the module and the problem.`,
		"nothing was changed",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("explanation %q lacks %q", got, want)
		}
	}
}
