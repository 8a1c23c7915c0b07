package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
)

// bindingKind is one kind of binding that the schema declares as a map keyed by binding
// name: the attribute, the API's binding type, and how one element becomes a binding and
// back. bindings(), readBindings() and checkBindingCollisions() range over bindingKinds, so
// a new kind is one entry here plus its schema attribute and model field.
type bindingKind struct {
	attr    string
	apiType string
	field   func(*serviceModel) *types.Map
	elem    attr.Type
	expand  func(ctx context.Context, m *serviceModel, name string, v attr.Value) (cloudflare.Binding, error)
	flatten func(ctx context.Context, m *serviceModel, b cloudflare.Binding, prior attr.Value) (attr.Value, error)
}

var bindingKinds = []bindingKind{
	stringKind("vars", cloudflare.BindingPlainText, func(m *serviceModel) *types.Map { return &m.Vars },
		func(b *cloudflare.Binding, v string) { b.Text = v },
		func(b cloudflare.Binding, _ types.String) string { return b.Text }),
	stringKind("json_vars", cloudflare.BindingJSON, func(m *serviceModel) *types.Map { return &m.JSONVars },
		func(b *cloudflare.Binding, v string) { b.JSON = json.RawMessage(v) },
		func(b cloudflare.Binding, prior types.String) string {
			// Formatting never makes a diff: keep the configured text while it means the same.
			if !prior.IsNull() && !prior.IsUnknown() && jsonEqual([]byte(prior.ValueString()), b.JSON) {
				return prior.ValueString()
			}
			var v any
			_ = json.Unmarshal(b.JSON, &v)
			compact, _ := json.Marshal(v)
			return string(compact)
		}),
	stringKind("kv_namespaces", cloudflare.BindingKVNamespace, func(m *serviceModel) *types.Map { return &m.KVNamespaces },
		func(b *cloudflare.Binding, v string) { b.NamespaceID = v },
		func(b cloudflare.Binding, _ types.String) string { return b.NamespaceID }),
	objectKind("r2_buckets", cloudflare.BindingR2Bucket, func(m *serviceModel) *types.Map { return &m.R2Buckets },
		func(_ *serviceModel, b *cloudflare.Binding, v r2BindingModel) {
			b.BucketName, b.Jurisdiction = v.BucketName.ValueString(), v.Jurisdiction.ValueString()
		},
		func(_ *serviceModel, b cloudflare.Binding, _ *r2BindingModel) r2BindingModel {
			return r2BindingModel{BucketName: types.StringValue(b.BucketName), Jurisdiction: stringOrNull(types.StringNull(), b.Jurisdiction)}
		}),
	objectKind("durable_objects", cloudflare.BindingDurableObject, func(m *serviceModel) *types.Map { return &m.DurableObjects },
		func(m *serviceModel, b *cloudflare.Binding, v doBindingModel) {
			b.ClassName, b.ScriptName = v.ClassName.ValueString(), v.ScriptName.ValueString()
			if b.ScriptName == m.Name.ValueString() {
				b.ScriptName = "" // the service's own class
			}
		},
		func(m *serviceModel, b cloudflare.Binding, prior *doBindingModel) doBindingModel {
			out := doBindingModel{
				ClassName: types.StringValue(b.ClassName), ScriptName: stringOrNull(types.StringNull(), b.ScriptName),
				SQLite: types.BoolNull(), RenamedFrom: types.StringNull(),
			}
			if prior == nil {
				return out
			}
			if prior.ScriptName.ValueString() == m.Name.ValueString() && b.ScriptName == "" {
				out.ScriptName = prior.ScriptName
			}
			// The platform keeps neither the storage choice nor the rename hint: they are
			// the configuration's, for as long as the class is the same.
			if prior.ClassName.ValueString() == b.ClassName {
				out.SQLite, out.RenamedFrom = prior.SQLite, prior.RenamedFrom
			}
			return out
		}),
	stringKind("queue_producers", cloudflare.BindingQueue, func(m *serviceModel) *types.Map { return &m.QueueProducers },
		func(b *cloudflare.Binding, v string) { b.QueueName = v },
		func(b cloudflare.Binding, _ types.String) string { return b.QueueName }),
	objectKind("services", cloudflare.BindingService, func(m *serviceModel) *types.Map { return &m.Services },
		func(_ *serviceModel, b *cloudflare.Binding, v serviceBindingModel) {
			b.Service, b.Entrypoint = v.Service.ValueString(), v.Entrypoint.ValueString()
		},
		func(_ *serviceModel, b cloudflare.Binding, _ *serviceBindingModel) serviceBindingModel {
			return serviceBindingModel{Service: types.StringValue(b.Service), Entrypoint: stringOrNull(types.StringNull(), b.Entrypoint)}
		}),
}

// stringKind is a kind whose elements are strings.
func stringKind(attrName, apiType string, field func(*serviceModel) *types.Map,
	expand func(b *cloudflare.Binding, v string), flatten func(b cloudflare.Binding, prior types.String) string) bindingKind {
	return bindingKind{
		attr: attrName, apiType: apiType, field: field, elem: types.StringType,
		expand: func(_ context.Context, _ *serviceModel, name string, v attr.Value) (cloudflare.Binding, error) {
			s, ok := v.(types.String)
			if !ok {
				return cloudflare.Binding{}, fmt.Errorf("%s[%q] is a %T, not a string", attrName, name, v)
			}
			b := cloudflare.Binding{Type: apiType, Name: name}
			expand(&b, s.ValueString())
			return b, nil
		},
		flatten: func(_ context.Context, _ *serviceModel, b cloudflare.Binding, prior attr.Value) (attr.Value, error) {
			p, ok := prior.(types.String)
			if !ok {
				p = types.StringNull()
			}
			return types.StringValue(flatten(b, p)), nil
		},
	}
}

// nestedModel is a model struct of an object element.
type nestedModel interface{ attrTypes() map[string]attr.Type }

// objectKind is a kind whose elements are objects of model T.
func objectKind[T nestedModel](attrName, apiType string, field func(*serviceModel) *types.Map,
	expand func(m *serviceModel, b *cloudflare.Binding, v T), flatten func(m *serviceModel, b cloudflare.Binding, prior *T) T) bindingKind {
	var zero T
	elem := types.ObjectType{AttrTypes: zero.attrTypes()}
	decode := func(ctx context.Context, v attr.Value) (*T, error) {
		o, ok := v.(types.Object)
		if !ok || o.IsNull() || o.IsUnknown() {
			return nil, nil
		}
		var t T
		if err := diagError(o.As(ctx, &t, basetypes.ObjectAsOptions{})); err != nil {
			return nil, err
		}
		return &t, nil
	}
	return bindingKind{
		attr: attrName, apiType: apiType, field: field, elem: elem,
		expand: func(ctx context.Context, m *serviceModel, name string, v attr.Value) (cloudflare.Binding, error) {
			t, err := decode(ctx, v)
			if err != nil || t == nil {
				return cloudflare.Binding{}, err
			}
			b := cloudflare.Binding{Type: apiType, Name: name}
			expand(m, &b, *t)
			return b, nil
		},
		flatten: func(ctx context.Context, m *serviceModel, b cloudflare.Binding, prior attr.Value) (attr.Value, error) {
			p, err := decode(ctx, prior)
			if err != nil {
				return nil, err
			}
			v, d := types.ObjectValueFrom(ctx, elem.AttrTypes, flatten(m, b, p))
			return v, diagError(d)
		},
	}
}

// bindings builds the non-secret bindings, sorted by name. Unknown values are left out: a
// plan that has them changes the bindings anyway.
func (m *serviceModel) bindings(ctx context.Context, env serviceEnv) ([]cloudflare.Binding, error) {
	var out []cloudflare.Binding
	for _, k := range bindingKinds {
		values := *k.field(m)
		if values.IsNull() || values.IsUnknown() {
			continue
		}
		for name, v := range values.Elements() {
			if v.IsNull() || v.IsUnknown() {
				continue
			}
			b, err := k.expand(ctx, m, name, v)
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	if m.Registry != nil {
		out = append(out, cloudflare.Binding{Type: cloudflare.BindingKVNamespace, Name: m.Registry.Binding.ValueString(), NamespaceID: m.registryNamespace(env)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// bindingsKnown reports whether every binding value of the model is known.
func (m *serviceModel) bindingsKnown() bool {
	for _, k := range bindingKinds {
		if !fullyKnown(*k.field(m)) {
			return false
		}
	}
	return m.Registry == nil || (!m.Registry.Binding.IsUnknown() && !m.Registry.NamespaceID.IsUnknown())
}

// readBindings maps the platform's bindings onto the model, keeping what the platform does
// not return (secret values, migration hints) from the prior model. It returns the bindings
// of kinds this provider does not manage, as "NAME (type)".
func (m *serviceModel) readBindings(ctx context.Context, bindings []cloudflare.Binding, env serviceEnv) ([]string, error) {
	kindOf := make(map[string]int, len(bindingKinds))
	values := make([]map[string]attr.Value, len(bindingKinds))
	for i, k := range bindingKinds {
		kindOf[k.apiType] = i
		values[i] = map[string]attr.Value{}
	}
	registryBinding := ""
	if m.Registry != nil {
		registryBinding = m.Registry.Binding.ValueString()
	}
	var registry *registryModel
	var secretNames, unmanaged []string
	for _, b := range bindings {
		if b.Type == cloudflare.BindingSecretText {
			secretNames = append(secretNames, b.Name)
			continue
		}
		if b.Type == cloudflare.BindingKVNamespace && (b.Name == registryBinding || (registryBinding == "" && b.NamespaceID != "" && b.NamespaceID == env.registryNamespaceID)) {
			registry = &registryModel{Binding: types.StringValue(b.Name), NamespaceID: types.StringNull()}
			if (m.Registry != nil && !m.Registry.NamespaceID.IsNull()) || b.NamespaceID != env.registryNamespaceID {
				registry.NamespaceID = types.StringValue(b.NamespaceID)
			}
			continue
		}
		i, managed := kindOf[b.Type]
		if !managed {
			unmanaged = append(unmanaged, fmt.Sprintf("%s (%s)", b.Name, b.Type))
			continue
		}
		k := bindingKinds[i]
		v, err := k.flatten(ctx, m, b, k.field(m).Elements()[b.Name])
		if err != nil {
			return nil, err
		}
		values[i][b.Name] = v
	}
	for i, k := range bindingKinds {
		field := k.field(m)
		read, d := types.MapValue(k.elem, values[i])
		if err := diagError(d); err != nil {
			return nil, err
		}
		*field = mapOrNull(*field, read)
	}
	sort.Strings(secretNames)
	m.SecretNames = setOrNull(m.SecretNames, secretNames)
	m.Registry = registry
	sort.Strings(unmanaged)
	return unmanaged, nil
}

// checkBindingCollisions rejects a binding name used by two kinds: env has one namespace.
func checkBindingCollisions(cfg *serviceModel, diags *diag.Diagnostics) {
	owner := map[string]string{}
	claim := func(name, attrName string, at path.Path) {
		if prev, taken := owner[name]; taken {
			diags.AddAttributeError(at, "Duplicate binding name",
				fmt.Sprintf("Binding name %q is used by both %s and %s: binding names share one namespace (env), so rename one of them.", name, prev, attrName))
			return
		}
		owner[name] = attrName
	}
	claimMap := func(attrName string, m types.Map) {
		if m.IsNull() || m.IsUnknown() {
			return
		}
		names := make([]string, 0, len(m.Elements()))
		for name := range m.Elements() {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			claim(name, attrName, path.Root(attrName).AtMapKey(name))
		}
	}
	for _, k := range bindingKinds {
		claimMap(k.attr, *k.field(cfg))
	}
	claimMap("secrets", cfg.Secrets)
	if cfg.Registry != nil && !cfg.Registry.Binding.IsUnknown() {
		claim(cfg.Registry.Binding.ValueString(), "registry", path.Root("registry").AtName("binding"))
	}
}
