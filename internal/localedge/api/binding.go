package api

// Binding is one Worker binding exactly as the API takes it in an upload's metadata
// (`{"type":"kv_namespace","name":"KV","namespace_id":"…"}`), secret values included. The
// local edge stores it, validates it and hands it to the Workers runtime in this form, so a
// new binding kind needs no new Go type.
type Binding map[string]any

// Str returns a string field, "" when absent or not a string.
func (b Binding) Str(key string) string {
	v, _ := b[key].(string)
	return v
}

// Type is the binding's type, e.g. "kv_namespace".
func (b Binding) Type() string { return b.Str("type") }

// Name is the binding's variable name in the Worker's env.
func (b Binding) Name() string { return b.Str("name") }

// Clone returns a shallow copy.
func (b Binding) Clone() Binding {
	out := make(Binding, len(b))
	for k, v := range b {
		out[k] = v
	}
	return out
}
