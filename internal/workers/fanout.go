package workers

import (
	"bytes"
	_ "embed" // the fan-out Worker bundle
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dot-do/terraform-provider-servicesdo/internal/lazyregexp"
)

// FanoutModule is the event fan-out program (fanout/src, bundled by build.mjs): one ES module,
// the consumer of a topic queue, forwarding each CloudEvent to the queue of every subscription
// whose type filter matches. fanout/README.md documents the envelope, the configuration, the
// bindings and the delivery guarantees.
//
//go:embed fanout/dist/worker.js
var FanoutModule string

// Names the fan-out program and the provider agree on.
const (
	FanoutMainModule = "worker.js"
	// FanoutConfigVersion is the configuration version the embedded program reads.
	FanoutConfigVersion = 1
	// FanoutConfigBinding is the JSON binding holding FanoutConfig. Each subscription's Binding
	// (and the dead letter's) is a queue producer binding of the same Worker, which is the
	// consumer of the topic queue.
	FanoutConfigBinding = "FANOUT_CONFIG"
	// FanoutMaxSubscriptions is how many subscriptions one fan-out Worker serves.
	FanoutMaxSubscriptions = 32
	// FanoutInvalidEventType is the type of the CloudEvent that carries an invalid envelope to
	// the dead-letter queue.
	FanoutInvalidEventType = "do.services.fanout.invalid"
	// FanoutMaxTypeFilter is the longest type filter, in characters.
	FanoutMaxTypeFilter = 255
)

// workerMaxJSONBinding is Cloudflare's limit on one environment variable, JSON bindings included.
const workerMaxJSONBinding = 5120

// FanoutConfig is the JSON configuration of one topic's fan-out (FanoutConfigBinding).
type FanoutConfig struct {
	Version       int                  `json:"version"`
	Topic         string               `json:"topic"`
	Subscriptions []FanoutSubscription `json:"subscriptions"`
	DeadLetter    *FanoutDeadLetter    `json:"dead_letter,omitempty"`
}

// FanoutSubscription forwards the events whose type matches one of Types to the queue behind
// the producer binding Binding.
type FanoutSubscription struct {
	Name    string   `json:"name"`
	Binding string   `json:"binding"`
	Queue   string   `json:"queue,omitempty"`
	Types   []string `json:"types"`
}

// FanoutDeadLetter is where invalid envelopes go, wrapped in a FanoutInvalidEventType event.
// Without it they are retried into the topic consumer's own dead-letter queue.
type FanoutDeadLetter struct {
	Binding string `json:"binding"`
	Queue   string `json:"queue,omitempty"`
}

// ParseFanoutConfig decodes configuration JSON, refusing unknown fields.
func ParseFanoutConfig(data []byte) (FanoutConfig, error) {
	return decodeConfigStrict[FanoutConfig](data, "fan-out configuration")
}

// decodeConfigStrict decodes a program configuration, refusing unknown fields (a field the
// program does not read is a mistake, not an extension).
func decodeConfigStrict[T any](data []byte, what string) (T, error) {
	var cfg T
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	return cfg, nil
}

// FanoutSubscriptionBinding is the producer binding name the provider gives a subscription:
// "billing-v2" → "SUBSCRIPTION_BILLING_V2". Distinct names can map to one binding ("a-b" and
// "a.b"); ValidateFanoutConfig reports that as a duplicate binding.
func FanoutSubscriptionBinding(name string) string {
	return "SUBSCRIPTION_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// ConfigProblem is one invalid setting of a fan-out or monitor configuration: Path names the
// JSON field (names and list indexes, e.g. ["subscriptions", 1, "types", 0]), Message says what
// is wrong, the rule and the fix.
type ConfigProblem struct {
	Path    []any
	Message string
}

// PathString renders Path as in the programs' messages: subscriptions[1].types[0].
func (p ConfigProblem) PathString() string {
	var b strings.Builder
	for _, step := range p.Path {
		switch s := step.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", s)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

func (p ConfigProblem) Error() string { return p.PathString() + ": " + p.Message }

type configProblems []ConfigProblem

func (ps *configProblems) add(message string, path ...any) {
	*ps = append(*ps, ConfigProblem{Path: path, Message: message})
}

// quoteJSON quotes s as JSON.stringify does (so Go and JS messages match byte for byte).
func quoteJSON(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

// TypeFilterKind is what a type filter matches.
type TypeFilterKind string

const (
	TypeFilterExact  TypeFilterKind = "exact"
	TypeFilterPrefix TypeFilterKind = "prefix"
	TypeFilterAll    TypeFilterKind = "all"
)

// TypeFilter is a parsed event type filter (ParseTypeFilter).
type TypeFilter struct {
	Kind TypeFilterKind
	// Type is the exact type, or the prefix including its final "." for a prefix filter.
	Type string
}

// Matches reports whether an event type passes the filter.
func (f TypeFilter) Matches(eventType string) bool {
	switch f.Kind {
	case TypeFilterAll:
		return true
	case TypeFilterExact:
		return eventType == f.Type
	case TypeFilterPrefix:
		return len(eventType) > len(f.Type) && strings.HasPrefix(eventType, f.Type)
	}
	return false
}

var fanoutSegment = lazyregexp.New(`^[A-Za-z0-9_-]+$`)

const typeFilterHint = `write an event type such as "Order.created", a prefix such as "Order.*", or "*" for every type`

// ParseTypeFilter parses a subscription type filter as the fan-out program does
// (fanout/src/filter.js): "Order.created" (exact), "Order.*" (every type starting with
// "Order." and at least one more segment) or "*" (every type).
func ParseTypeFilter(filter string) (TypeFilter, error) {
	q := quoteJSON(filter)
	switch {
	case filter == "":
		return TypeFilter{}, fmt.Errorf(`type filter "" is empty: %s`, typeFilterHint)
	case utf8.RuneCountInString(filter) > FanoutMaxTypeFilter:
		return TypeFilter{}, fmt.Errorf("type filter %s is longer than %d characters", q, FanoutMaxTypeFilter)
	case filter == "*":
		return TypeFilter{Kind: TypeFilterAll}, nil
	}
	segments := strings.Split(filter, ".")
	last := len(segments) - 1
	for i, seg := range segments {
		switch {
		case seg == "":
			return TypeFilter{}, fmt.Errorf(`type filter %s has an empty segment: remove the extra "." (segments are joined by single dots, as in "Order.created")`, q)
		case seg == "*" && i == last:
		case strings.Contains(seg, "*"):
			return TypeFilter{}, fmt.Errorf(`type filter %s: "*" may only stand alone as the last segment, as in "Order.*" (every type that starts with "Order.")`, q)
		case !fanoutSegment.MatchString(seg):
			return TypeFilter{}, fmt.Errorf(`type filter %s: segment %s may contain only letters, digits, "_" and "-"`, q, quoteJSON(seg))
		}
	}
	if segments[last] == "*" {
		return TypeFilter{Kind: TypeFilterPrefix, Type: strings.TrimSuffix(filter, "*")}, nil
	}
	return TypeFilter{Kind: TypeFilterExact, Type: filter}, nil
}

var (
	fanoutName        = lazyregexp.New(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	workerBindingName = lazyregexp.New(`^[A-Za-z_][A-Za-z0-9_]{0,63}$`)
	queueNamePattern  = lazyregexp.New(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

func checkQueueName(ps *configProblems, name string, path ...any) {
	if !queueNamePattern.MatchString(name) {
		ps.add(fmt.Sprintf(`%s is not a queue name: use 1 to 63 lower-case letters, digits and "-", not starting or ending with "-"`, quoteJSON(name)), path...)
	}
}

func checkQueueBinding(ps *configProblems, binding string, path ...any) bool {
	switch {
	case !workerBindingName.MatchString(binding):
		ps.add(fmt.Sprintf(`%s is not a binding name: use letters, digits and "_", not starting with a digit, at most 64`, quoteJSON(binding)), path...)
	case binding == FanoutConfigBinding:
		ps.add(FanoutConfigBinding+" is the configuration binding, not a queue: choose another binding name", path...)
	default:
		return true
	}
	return false
}

// ValidateTypeFilters checks a subscription's list of filters and returns its problems, with
// paths relative to the list (index first).
func ValidateTypeFilters(types []string) []ConfigProblem {
	var ps configProblems
	if len(types) == 0 {
		ps.add(`list at least one type filter, e.g. ["Order.created"], or ["*"] for every type`)
		return ps
	}
	seen := map[string]int{}
	for i, t := range types {
		if _, err := ParseTypeFilter(t); err != nil {
			ps.add(err.Error(), i)
			continue
		}
		if j, dup := seen[t]; dup {
			ps.add(fmt.Sprintf("type filter %s is listed twice (also types[%d]): remove one", quoteJSON(t), j), i)
			continue
		}
		seen[t] = i
	}
	return ps
}

// ValidateFanoutConfig checks a configuration at plan time and returns every problem, in field
// order. It knows nothing of the queues themselves (the resources check that they exist).
func ValidateFanoutConfig(cfg FanoutConfig) []ConfigProblem {
	var ps configProblems
	if cfg.Version != FanoutConfigVersion {
		ps.add(fmt.Sprintf("is %d, but the embedded fan-out program reads version %d", cfg.Version, FanoutConfigVersion), "version")
	}
	if cfg.Topic == "" {
		ps.add("name the topic queue this fan-out consumes", "topic")
	} else {
		checkQueueName(&ps, cfg.Topic, "topic")
	}
	switch n := len(cfg.Subscriptions); {
	case n == 0:
		ps.add("a topic needs at least one subscription: subscribe a service's queue to some of its event types", "subscriptions")
	case n > FanoutMaxSubscriptions:
		ps.add(fmt.Sprintf("%d subscriptions, more than the %d one fan-out Worker serves: spread the event types over more topics", n, FanoutMaxSubscriptions), "subscriptions")
	}
	names := map[string]int{}
	bindings := map[string]int{}
	for i, s := range cfg.Subscriptions {
		if !fanoutName.MatchString(s.Name) {
			ps.add(fmt.Sprintf(`%s is not a subscription name: use letters, digits, "_", "." and "-", starting with a letter or digit, at most 64`, quoteJSON(s.Name)), "subscriptions", i, "name")
		} else if j, dup := names[s.Name]; dup {
			ps.add(fmt.Sprintf("%s is also the name of subscriptions[%d]: give each subscription its own name", quoteJSON(s.Name), j), "subscriptions", i, "name")
		} else {
			names[s.Name] = i
		}
		if checkQueueBinding(&ps, s.Binding, "subscriptions", i, "binding") {
			if j, dup := bindings[s.Binding]; dup {
				ps.add(fmt.Sprintf("%s is also the queue of subscriptions[%d]: each subscriber has its own queue, or it would receive every event twice", s.Binding, j), "subscriptions", i, "binding")
			} else {
				bindings[s.Binding] = i
			}
		}
		if s.Queue != "" {
			checkQueueName(&ps, s.Queue, "subscriptions", i, "queue")
			if s.Queue == cfg.Topic {
				ps.add(fmt.Sprintf("%s is the topic itself: forwarding the topic's events to it would loop; name the subscriber's own queue", quoteJSON(s.Queue)), "subscriptions", i, "queue")
			}
		}
		for _, p := range ValidateTypeFilters(s.Types) {
			ps.add(p.Message, append([]any{"subscriptions", i, "types"}, p.Path...)...)
		}
	}
	if d := cfg.DeadLetter; d != nil {
		if checkQueueBinding(&ps, d.Binding, "dead_letter", "binding") {
			if j, dup := bindings[d.Binding]; dup {
				ps.add(fmt.Sprintf("%s is the queue of subscriptions[%d]: invalid events need a queue of their own", d.Binding, j), "dead_letter", "binding")
			}
		}
		if d.Queue != "" {
			checkQueueName(&ps, d.Queue, "dead_letter", "queue")
			if d.Queue == cfg.Topic {
				ps.add(fmt.Sprintf("%s is the topic itself: invalid events sent back to it would loop", quoteJSON(d.Queue)), "dead_letter", "queue")
			}
		}
	}
	if out, err := json.Marshal(cfg); err == nil && len(out) > workerMaxJSONBinding {
		ps.add(fmt.Sprintf("the fan-out configuration takes %d bytes, more than one Workers JSON binding holds (%d bytes): use fewer subscriptions or type filters, or shorter names", len(out), workerMaxJSONBinding), "subscriptions")
	}
	return ps
}
