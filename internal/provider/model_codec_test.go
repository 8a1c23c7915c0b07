package provider

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func serviceSchema(t testing.TB) resource.SchemaResponse {
	t.Helper()
	var resp resource.SchemaResponse
	(&serviceResource{}).Schema(context.Background(), resource.SchemaRequest{}, &resp)
	if resp.Diagnostics.HasError() {
		t.Fatal(resp.Diagnostics)
	}
	return resp
}

// fullServiceModel has every attribute set, with unknowns and nested objects, as a plan
// can hold them.
func fullServiceModel(t testing.TB) serviceModel {
	t.Helper()
	ctx := context.Background()
	obj := func(types map[string]attr.Type, values map[string]attr.Value) attr.Value {
		return typesObject(t, types, values)
	}
	m := serviceModel{
		ID: types.StringValue("svc"), Name: types.StringValue("svc"), Description: types.StringValue("does things"),
		Version: types.StringValue("1.2.3"), Domain: types.StringValue("commerce"), Tags: setOfStrings([]string{"a", "b"}),
		MainModule: types.StringValue("index.js"), SourceDir: types.StringNull(),
		Modules:       mapOfStrings(map[string]string{"index.js": "src/index.js", "lib.js": "src/lib.js"}),
		InlineModules: types.MapNull(types.StringType), ModuleHashes: types.MapUnknown(types.StringType),
		CompatibilityDate: types.StringValue("2025-01-01"), CompatibilityFlags: setOfStrings([]string{"nodejs_compat"}),
		UsageModel: types.StringValue("standard"),
		Limits:     &limitsModel{CPUMs: types.Int64Value(50), MemoryMB: types.Int64Null()},
		Vars:       mapOfStrings(map[string]string{"A": "1"}), JSONVars: mapOfStrings(map[string]string{"J": `{"x":1}`}),
		Secrets: types.MapNull(types.StringType), SecretsVersion: types.Int64Value(3), SecretNames: setOfStrings([]string{"TOKEN"}),
		KVNamespaces: types.MapValueMust(types.StringType, map[string]attr.Value{"KV": types.StringUnknown()}),
		R2Buckets: types.MapValueMust(types.ObjectType{AttrTypes: r2BindingModel{}.attrTypes()}, map[string]attr.Value{
			"BUCKET": obj(r2BindingModel{}.attrTypes(), map[string]attr.Value{"bucket_name": types.StringValue("b"), "jurisdiction": types.StringValue("eu")}),
		}),
		DurableObjects: types.MapValueMust(types.ObjectType{AttrTypes: doBindingModel{}.attrTypes()}, map[string]attr.Value{
			"COUNTER": obj(doBindingModel{}.attrTypes(), map[string]attr.Value{
				"class_name": types.StringValue("Counter"), "script_name": types.StringNull(), "sqlite": types.BoolValue(true), "renamed_from": types.StringNull(),
			}),
		}),
		AllowDelete:    types.BoolValue(false),
		Services:       types.MapNull(types.ObjectType{AttrTypes: serviceBindingModel{}.attrTypes()}),
		QueueProducers: mapOfStrings(map[string]string{"EVENTS": "orders"}),
		QueueConsumers: types.ListValueMust(queueConsumerType, []attr.Value{obj(queueConsumerModel{}.attrTypes(), map[string]attr.Value{
			"queue": types.StringValue("orders"), "max_batch_size": types.Int64Value(10), "max_batch_timeout": types.Int64Value(5), "max_retries": types.Int64Value(3),
			"max_concurrency": types.Int64Null(), "dead_letter_queue": types.StringUnknown(), "retry_delay": types.Int64Value(0),
		})}),
		Registry: &registryModel{Binding: types.StringValue("REGISTRY"), NamespaceID: types.StringNull()},
		Routes: types.SetValueMust(routeType, []attr.Value{
			obj(routeModel{}.attrTypes(), map[string]attr.Value{"pattern": types.StringValue("example.com/*"), "zone_id": types.StringNull()}),
		}),
		CustomDomains: types.SetNull(types.StringType), WorkersDev: types.BoolValue(true), Crons: setOfStrings([]string{"0 * * * *"}),
		Health:        &healthModel{Path: types.StringValue("/health"), ExpectStatus: types.Int64Null(), Timeout: types.StringValue("5s")},
		Observability: &observeModel{Enabled: types.BoolValue(true), HeadSamplingRate: types.Float64Value(0.5)},
		Rollout:       types.StringValue("managed"), MigrationTag: types.StringValue("v1"),
		DurableObjectClasses:   types.MapValueMust(types.BoolType, map[string]attr.Value{"Counter": types.BoolValue(true)}),
		DurableObjectMigration: types.StringValue("v1: new Counter"), Etag: types.StringUnknown(), LatestVersionID: types.StringUnknown(),
		DeployedVersionID: types.StringValue("v-1"), URL: types.StringUnknown(), CreatedOn: types.StringValue("2025-01-01T00:00:00Z"),
		ModifiedOn: types.StringUnknown(), Timeouts: timeoutsNull(ctx),
	}
	return m
}

func typesObject(t testing.TB, attrTypes map[string]attr.Type, values map[string]attr.Value) attr.Value {
	t.Helper()
	v, d := types.ObjectValue(attrTypes, values)
	if d.HasError() {
		t.Fatal(d)
	}
	return v
}

// The codec reads and writes exactly what the framework's Get and Set do.
func TestServiceCodecMatchesFramework(t *testing.T) {
	ctx := context.Background()
	schema := serviceSchema(t).Schema
	sparse := fullServiceModel(t)
	sparse.Limits, sparse.Registry, sparse.Health, sparse.Observability = nil, nil, nil, nil
	sparse.Tags, sparse.Routes = types.SetNull(types.StringType), types.SetValueMust(routeType, nil)
	for name, model := range map[string]serviceModel{"full": fullServiceModel(t), "sparse": sparse} {
		t.Run(name, func(t *testing.T) {
			framework := tfsdk.State{Schema: schema, Raw: tftypes.NewValue(schema.Type().TerraformType(ctx), nil)}
			if d := framework.Set(ctx, &model); d.HasError() {
				t.Fatal(d)
			}
			written, d := serviceCodec().value(ctx, &model)
			if d.HasError() {
				t.Fatal(d)
			}
			if !written.Equal(framework.Raw) {
				t.Fatalf("codec wrote\n%s\nframework wrote\n%s", written, framework.Raw)
			}

			var fromFramework, fromCodec serviceModel
			if d := framework.Get(ctx, &fromFramework); d.HasError() {
				t.Fatal(d)
			}
			if d := getService(ctx, framework.Raw, &fromCodec); d.HasError() {
				t.Fatal(d)
			}
			if !reflect.DeepEqual(fromCodec, fromFramework) {
				t.Fatalf("codec read\n%+v\nframework read\n%+v", fromCodec, fromFramework)
			}
			if !serviceCodec().equal(&fromCodec, &model) {
				t.Fatal("the value read back is not equal to the one written")
			}
		})
	}
}

// A nested object that is unknown cannot be held by a pointer: an error, as from Get.
func TestServiceCodecUnknownNestedObject(t *testing.T) {
	ctx := context.Background()
	model := fullServiceModel(t)
	raw, d := serviceCodec().value(ctx, &model)
	if d.HasError() {
		t.Fatal(d)
	}
	var values map[string]tftypes.Value
	if err := raw.As(&values); err != nil {
		t.Fatal(err)
	}
	values["limits"] = tftypes.NewValue(values["limits"].Type(), tftypes.UnknownValue)
	var got serviceModel
	d = getService(ctx, tftypes.NewValue(raw.Type(), values), &got)
	if !d.HasError() || !strings.Contains(d.Errors()[0].Detail(), "Received unknown value") || d.Errors()[0].Summary() != "Value Conversion Error" {
		t.Fatalf("diagnostics = %v, want the unknown-value conversion error", d)
	}
}

// A value whose type is not the schema's is refused on write.
func TestServiceCodecRefusesWrongType(t *testing.T) {
	model := fullServiceModel(t)
	model.Vars = types.MapValueMust(types.BoolType, map[string]attr.Value{"A": types.BoolValue(true)})
	if _, d := serviceCodec().value(context.Background(), &model); !d.HasError() || !strings.Contains(d.Errors()[0].Detail(), "not the schema's") {
		t.Fatalf("diagnostics = %v, want a type mismatch on vars", d)
	}
}

// A model and a schema that do not match are refused when the codec is built.
func TestModelCodecNeedsMatchingSchema(t *testing.T) {
	ctx := context.Background()
	type model struct {
		A types.String `tfsdk:"a"`
	}
	if _, err := newModelCodec[model](ctx, map[string]attr.Type{"a": types.StringType, "b": types.StringType}); err == nil || !strings.Contains(err.Error(), `no field for attribute "b"`) {
		t.Fatalf("err = %v, want a missing field", err)
	}
	if _, err := newModelCodec[model](ctx, map[string]attr.Type{}); err == nil || !strings.Contains(err.Error(), `no attribute "a"`) {
		t.Fatalf("err = %v, want a missing attribute", err)
	}
	type bad struct {
		A string `tfsdk:"a"`
	}
	if _, err := newModelCodec[bad](ctx, map[string]attr.Type{"a": types.StringType}); err == nil || !strings.Contains(err.Error(), "neither an attr.Value") {
		t.Fatalf("err = %v, want an unsupported field type", err)
	}
}

// equal compares every attribute, nested objects included.
func TestServiceCodecEqual(t *testing.T) {
	a, b := fullServiceModel(t), fullServiceModel(t)
	if !serviceCodec().equal(&a, &b) {
		t.Fatal("equal models compare unequal")
	}
	b.Limits.CPUMs = types.Int64Value(51)
	if serviceCodec().equal(&a, &b) {
		t.Fatal("a changed nested attribute compares equal")
	}
	b = fullServiceModel(t)
	b.Health = nil
	if serviceCodec().equal(&a, &b) {
		t.Fatal("a removed nested object compares equal")
	}
	b = fullServiceModel(t)
	b.Etag = types.StringValue("e")
	if serviceCodec().equal(&a, &b) {
		t.Fatal("unknown and known compare equal")
	}
}

// BenchmarkServiceModelRead compares reading a service's state through the codec and
// through the framework's Get (what every Read, ModifyPlan and ValidateConfig does).
func BenchmarkServiceModelRead(b *testing.B) {
	ctx := context.Background()
	schema := serviceSchema(b).Schema
	model := fullServiceModel(b)
	raw, d := serviceCodec().value(ctx, &model)
	if d.HasError() {
		b.Fatal(d)
	}
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m serviceModel
			if d := getService(ctx, raw, &m); d.HasError() {
				b.Fatal(d)
			}
		}
	})
	b.Run("framework", func(b *testing.B) {
		b.ReportAllocs()
		state := tfsdk.State{Schema: schema, Raw: raw}
		for b.Loop() {
			var m serviceModel
			if d := state.Get(ctx, &m); d.HasError() {
				b.Fatal(d)
			}
		}
	})
}

// BenchmarkServiceModelWrite compares writing a service's state through the codec and
// through the framework's Set.
func BenchmarkServiceModelWrite(b *testing.B) {
	ctx := context.Background()
	schema := serviceSchema(b).Schema
	model := fullServiceModel(b)
	b.Run("codec", func(b *testing.B) {
		b.ReportAllocs()
		var raw tftypes.Value
		for b.Loop() {
			if d := setService(ctx, &raw, &model); d.HasError() {
				b.Fatal(d)
			}
		}
	})
	b.Run("framework", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			state := tfsdk.State{Schema: schema, Raw: tftypes.NewValue(schema.Type().TerraformType(ctx), nil)}
			if d := state.Set(ctx, &model); d.HasError() {
				b.Fatal(d)
			}
		}
	})
}
