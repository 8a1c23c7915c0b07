package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The platform answers "nothing" with "", [] or {}; an attribute the configuration leaves
// unset is null. Each helper below turns the platform's answer into the attribute's value,
// keeping null when the prior value was null, so an unset attribute never diffs against an
// empty one.

// stringOrNull is value, or null when value is "" and the prior value was null.
func stringOrNull(prior types.String, value string) types.String {
	if value == "" && (prior.IsNull() || prior.IsUnknown()) {
		return types.StringNull()
	}
	return types.StringValue(value)
}

// setOrNull is the set of values, or null when there are none and the prior value was null.
func setOrNull(prior types.Set, values []string) types.Set {
	if len(values) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.SetNull(types.StringType)
	}
	return setOfStrings(values)
}

// mapOrNull is values, or null when values is empty and the prior value was null.
func mapOrNull(prior types.Map, values types.Map) types.Map {
	if len(values.Elements()) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.MapNull(values.ElementType(context.Background()))
	}
	return values
}

// The registry entry resource still uses the helpers' older spellings, which forward to the
// ones above; they go when that file moves to the new ones (kept apart here so that the
// change to the service resource does not touch it).

func optionalString(prior types.String, v string) types.String { return stringOrNull(prior, v) }

func keepNullIfEmptySet(prior types.Set, _ attr.Type, values []string) types.Set {
	return setOrNull(prior, values)
}

func keepNullIfEmptyMap(prior types.Map, _ int, build func() types.Map) types.Map {
	return mapOrNull(prior, build())
}
