package provider

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// modelCodec reads a model struct from the tftypes.Value of its schema's object and writes
// it back, as tfsdk's Get and Set do for models whose fields are attr.Value types or pointers
// to nested model structs (nil for null). It learns the fields once: the framework's
// reflection parses the struct tags and compiles a regular expression for every field on
// every call and walks the schema once per attribute, which made reading and writing
// servicesdo_service's 43 attributes cost about 0.4 ms and 0.6 ms, several times over per
// resource in every plan.
type modelCodec[T any] struct {
	object *objectCodec
}

// objectCodec converts one struct type and one object type.
type objectCodec struct {
	goType reflect.Type
	tfType tftypes.Object
	fields []fieldCodec
}

// fieldCodec is one attribute: the struct field that holds it and the schema's type.
type fieldCodec struct {
	name   string
	index  int
	typ    attr.Type
	nested *objectCodec // set for a pointer to a nested model struct
}

var attrValueType = reflect.TypeFor[attr.Value]()

// newModelCodec builds the codec of T for an object of the given attribute types. Every
// attribute needs a field and every tagged field an attribute, as for tfsdk's Get.
func newModelCodec[T any](ctx context.Context, attrTypes map[string]attr.Type) (*modelCodec[T], error) {
	object, err := newObjectCodec(ctx, reflect.TypeFor[T](), attrTypes)
	if err != nil {
		return nil, err
	}
	return &modelCodec[T]{object: object}, nil
}

func newObjectCodec(ctx context.Context, goType reflect.Type, attrTypes map[string]attr.Type) (*objectCodec, error) {
	if goType.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%s is not a struct", goType)
	}
	c := &objectCodec{goType: goType, tfType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{}}}
	seen := map[string]bool{}
	for i := range goType.NumField() {
		f := goType.Field(i)
		name := f.Tag.Get("tfsdk")
		if name == "" || name == "-" {
			continue
		}
		typ, ok := attrTypes[name]
		if !ok {
			return nil, fmt.Errorf("%s.%s: the schema has no attribute %q", goType, f.Name, name)
		}
		field := fieldCodec{name: name, index: i, typ: typ}
		switch {
		case f.Type.Implements(attrValueType):
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct:
			object, ok := typ.(attr.TypeWithAttributeTypes)
			if !ok {
				return nil, fmt.Errorf("%s.%s: attribute %q is a %s, not an object", goType, f.Name, name, typ)
			}
			nested, err := newObjectCodec(ctx, f.Type.Elem(), object.AttributeTypes())
			if err != nil {
				return nil, err
			}
			field.nested = nested
		default:
			return nil, fmt.Errorf("%s.%s: %s is neither an attr.Value nor a pointer to a model struct", goType, f.Name, f.Type)
		}
		seen[name] = true
		c.tfType.AttributeTypes[name] = typ.TerraformType(ctx)
		c.fields = append(c.fields, field)
	}
	for name := range attrTypes {
		if !seen[name] {
			return nil, fmt.Errorf("%s has no field for attribute %q", goType, name)
		}
	}
	return c, nil
}

// get reads raw into target.
func (c *modelCodec[T]) get(ctx context.Context, raw tftypes.Value, target *T) diag.Diagnostics {
	var diags diag.Diagnostics
	c.object.decode(ctx, raw, reflect.ValueOf(target).Elem(), path.Empty(), &diags)
	return diags
}

// value is the object value of source.
func (c *modelCodec[T]) value(ctx context.Context, source *T) (tftypes.Value, diag.Diagnostics) {
	var diags diag.Diagnostics
	v := c.object.encode(ctx, reflect.ValueOf(source).Elem(), path.Empty(), &diags)
	return v, diags
}

func (c *objectCodec) decode(ctx context.Context, raw tftypes.Value, target reflect.Value, at path.Path, diags *diag.Diagnostics) {
	var values map[string]tftypes.Value
	if err := raw.As(&values); err != nil {
		diags.AddAttributeError(at, "Value Conversion Error", "Reading an object of "+c.goType.String()+" failed: "+err.Error())
		return
	}
	for _, f := range c.fields {
		fieldPath := at.AtName(f.name)
		v, ok := values[f.name]
		if !ok {
			diags.AddAttributeError(fieldPath, "Value Conversion Error", "The object has no attribute "+f.name+".")
			return
		}
		field := target.Field(f.index)
		if f.nested != nil {
			switch {
			case v.IsNull():
				field.SetZero()
			case !v.IsKnown():
				diags.AddAttributeError(fieldPath, "Value Conversion Error",
					"Received unknown value, however the target type cannot handle unknown values.\n\nPath: "+fieldPath.String()+"\nTarget Type: "+field.Type().String())
				return
			default:
				nested := reflect.New(f.nested.goType)
				f.nested.decode(ctx, v, nested.Elem(), fieldPath, diags)
				field.Set(nested)
			}
			continue
		}
		value, err := f.typ.ValueFromTerraform(ctx, v)
		if err != nil {
			diags.AddAttributeError(fieldPath, "Value Conversion Error", err.Error())
			return
		}
		validateValue(ctx, value, fieldPath, diags)
		rv := reflect.ValueOf(value)
		if !rv.Type().AssignableTo(field.Type()) {
			diags.AddAttributeError(fieldPath, "Value Conversion Error", fmt.Sprintf("A %s cannot hold the schema's %s.", field.Type(), rv.Type()))
			return
		}
		field.Set(rv)
	}
}

func (c *objectCodec) encode(ctx context.Context, source reflect.Value, at path.Path, diags *diag.Diagnostics) tftypes.Value {
	values := make(map[string]tftypes.Value, len(c.fields))
	for _, f := range c.fields {
		fieldPath := at.AtName(f.name)
		field := source.Field(f.index)
		if f.nested != nil {
			if field.IsNil() {
				values[f.name] = tftypes.NewValue(f.nested.tfType, nil)
			} else {
				values[f.name] = f.nested.encode(ctx, field.Elem(), fieldPath, diags)
			}
			continue
		}
		value, _ := field.Interface().(attr.Value)
		if value == nil || !f.typ.TerraformType(ctx).Equal(value.Type(ctx).TerraformType(ctx)) {
			diags.AddAttributeError(fieldPath, "Value Conversion Error",
				fmt.Sprintf("The value of %s is a %v, not the schema's %s.", f.name, typeOf(ctx, value), f.typ))
			return tftypes.Value{}
		}
		validateValue(ctx, value, fieldPath, diags)
		v, err := value.ToTerraformValue(ctx)
		if err != nil {
			diags.AddAttributeError(fieldPath, "Value Conversion Error", err.Error())
			return tftypes.Value{}
		}
		values[f.name] = v
	}
	if diags.HasError() {
		return tftypes.Value{}
	}
	return tftypes.NewValue(c.tfType, values)
}

// equal reports whether a and b hold equal values in every attribute.
func (c *modelCodec[T]) equal(a, b *T) bool {
	return c.object.equal(reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem())
}

func (c *objectCodec) equal(a, b reflect.Value) bool {
	for _, f := range c.fields {
		x, y := a.Field(f.index), b.Field(f.index)
		if f.nested != nil {
			if x.IsNil() || y.IsNil() {
				if x.IsNil() != y.IsNil() {
					return false
				}
				continue
			}
			if !f.nested.equal(x.Elem(), y.Elem()) {
				return false
			}
			continue
		}
		xv, _ := x.Interface().(attr.Value)
		yv, _ := y.Interface().(attr.Value)
		if xv == nil || yv == nil || !xv.Equal(yv) {
			return false
		}
	}
	return true
}

// validateValue runs a custom value type's own validation, as the framework's Get and Set do.
func validateValue(ctx context.Context, value attr.Value, at path.Path, diags *diag.Diagnostics) {
	if v, ok := value.(xattr.ValidateableAttribute); ok {
		var resp xattr.ValidateAttributeResponse
		v.ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: at}, &resp)
		diags.Append(resp.Diagnostics...)
	}
}

func typeOf(ctx context.Context, v attr.Value) any {
	if v == nil {
		return "nil"
	}
	return v.Type(ctx)
}

// serviceCodec is servicesdo_service's codec, built from its schema on first use.
var serviceCodec = sync.OnceValue(func() *modelCodec[serviceModel] {
	ctx := context.Background()
	var resp resource.SchemaResponse
	(&serviceResource{}).Schema(ctx, resource.SchemaRequest{}, &resp)
	object, ok := resp.Schema.Type().(attr.TypeWithAttributeTypes)
	if !ok {
		panic("servicesdo_service's schema is not an object")
	}
	c, err := newModelCodec[serviceModel](ctx, object.AttributeTypes())
	if err != nil {
		panic("servicesdo_service's model does not match its schema: " + err.Error())
	}
	return c
})

// getService reads a servicesdo_service model from a plan, configuration or state value.
func getService(ctx context.Context, raw tftypes.Value, m *serviceModel) diag.Diagnostics {
	return serviceCodec().get(ctx, raw, m)
}

// setService writes m into a plan or state value.
func setService(ctx context.Context, raw *tftypes.Value, m *serviceModel) diag.Diagnostics {
	v, diags := serviceCodec().value(ctx, m)
	if !diags.HasError() {
		*raw = v
	}
	return diags
}

// updateService writes m into a plan or state value that holds prior, only when they differ:
// a no-op plan or refresh then leaves the value the framework handed in as it was.
func updateService(ctx context.Context, raw *tftypes.Value, prior, m *serviceModel) diag.Diagnostics {
	if serviceCodec().equal(prior, m) {
		return nil
	}
	return setService(ctx, raw, m)
}
