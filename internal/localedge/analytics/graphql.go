package analytics

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// gqlResponse is a GraphQL response: data is null when there are errors.
type gqlResponse struct {
	Data   any        `json:"data"`
	Errors []gqlError `json:"errors"`
}

type gqlError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Locations  []gqlLocation  `json:"locations,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type gqlLocation struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// queryRules are the specification's validation rules but one: like Cloudflare's API, the
// local edge does not insist that a variable's declared type match where it is used (its
// own tutorial declares Time filters as `string` variables).
var queryRules = sync.OnceValue(func() *rules.Rules {
	r := rules.NewDefaultRules()
	r.RemoveRule(rules.VariablesInAllowedPositionRule.Name)
	return r
})

// execError is an error the resolver raises, at a field of the query.
type execError struct {
	msg  string
	code string
	path []any
	at   *ast.Position
}

func (e *execError) Error() string { return e.msg }

// object is a JSON object that keeps its keys in selection order.
type object struct {
	keys []string
	vals map[string]any
}

func newObject() *object { return &object{vals: map[string]any{}} }

func (o *object) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *object) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return []byte(b.String()), nil
}

// executor resolves one validated operation.
type executor struct {
	rec       *Recorder
	accountID string
	vars      map[string]any
	now       time.Time
}

func appendPath(path []any, elems ...any) []any {
	out := make([]any, 0, len(path)+len(elems))
	return append(append(out, path...), elems...)
}

func (x *executor) errorf(f *ast.Field, path []any, code, format string, args ...any) error {
	return &execError{msg: fmt.Sprintf(format, args...), code: code, path: path, at: f.Position}
}

// fields lists the fields a selection set selects: fragments expanded (their type conditions
// always hold, every type here being concrete), @skip and @include applied.
func (x *executor) fields(set ast.SelectionSet) []*ast.Field {
	var out []*ast.Field
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if x.included(s.Directives) {
				out = append(out, s)
			}
		case *ast.InlineFragment:
			if x.included(s.Directives) {
				out = append(out, x.fields(s.SelectionSet)...)
			}
		case *ast.FragmentSpread:
			if x.included(s.Directives) && s.Definition != nil {
				out = append(out, x.fields(s.Definition.SelectionSet)...)
			}
		}
	}
	return out
}

func (x *executor) included(ds ast.DirectiveList) bool {
	for _, d := range ds {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		v, _ := d.ArgumentMap(x.vars)["if"].(bool)
		if (d.Name == "skip") == v {
			return false
		}
	}
	return true
}

func (x *executor) query(set ast.SelectionSet) (*object, error) {
	out := newObject()
	for _, f := range x.fields(set) {
		switch f.Name {
		case "__typename":
			out.set(f.Alias, "Query")
		case "viewer":
			v, err := x.viewer(f, []any{f.Alias})
			if err != nil {
				return nil, err
			}
			out.set(f.Alias, v)
		}
	}
	return out, nil
}

func (x *executor) viewer(vf *ast.Field, path []any) (*object, error) {
	out := newObject()
	for _, f := range x.fields(vf.SelectionSet) {
		switch f.Name {
		case "__typename":
			out.set(f.Alias, "viewer")
		case "accounts":
			filter, _ := f.ArgumentMap(x.vars)["filter"].(map[string]any)
			tag, _ := filter["accountTag"].(string)
			if tag == "" {
				return nil, x.errorf(f, appendPath(path, f.Alias), "validation", "accounts: filter must set accountTag")
			}
			if tag != x.accountID {
				return nil, x.errorf(f, appendPath(path, f.Alias), "authz", "not authorized for that account")
			}
			acct, err := x.account(f, appendPath(path, f.Alias, 0))
			if err != nil {
				return nil, err
			}
			out.set(f.Alias, []any{acct})
		}
	}
	return out, nil
}

func (x *executor) account(af *ast.Field, path []any) (*object, error) {
	out := newObject()
	for _, f := range x.fields(af.SelectionSet) {
		switch f.Name {
		case "__typename":
			out.set(f.Alias, "account")
		case "workersInvocationsAdaptive":
			rows, err := x.workersInvocations(f, appendPath(path, f.Alias))
			if err != nil {
				return nil, err
			}
			out.set(f.Alias, rows)
		}
	}
	return out, nil
}

// Dimensions of workersInvocationsAdaptive, with the time truncation of the time dimensions.
var timeDimensions = map[string]time.Duration{
	"datetime":               time.Minute,
	"datetimeMinute":         time.Minute,
	"datetimeFiveMinutes":    5 * time.Minute,
	"datetimeFifteenMinutes": 15 * time.Minute,
	"datetimeHalfOfHour":     30 * time.Minute,
	"datetimeHour":           time.Hour,
	"datetimeSixHours":       6 * time.Hour,
}

func isDimension(name string) bool {
	_, isTime := timeDimensions[name]
	return isTime || name == "date" || name == "scriptName" || name == "scriptVersion" || name == "status"
}

// dimensionValue is a bucket's value of a dimension; time values are RFC 3339 in UTC (so
// they sort chronologically as strings), dates YYYY-MM-DD.
func dimensionValue(k bucketKey, name string) string {
	switch name {
	case "scriptName":
		return k.script
	case "scriptVersion":
		return k.version
	case "status":
		return InvocationStatus(Invocation{Status: k.status, Thrown: k.thrown, Internal: k.internal})
	case "date":
		return bucketTime(k).Format(time.DateOnly)
	}
	return bucketTime(k).Truncate(timeDimensions[name]).Format(time.RFC3339)
}

var (
	sumFields      = []string{"requests", "errors", "subrequests", "wallTime", "cpuTimeUs", "clientDisconnects", "duration", "responseBodySize"}
	quantileLevels = map[string]float64{"P25": 0.25, "P50": 0.50, "P75": 0.75, "P90": 0.90, "P99": 0.99, "P999": 0.999}
	minMaxFields   = []string{"wallTime", "cpuTime", "duration", "responseBodySize"}
)

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// quantileField splits e.g. "wallTimeP99" into ("wallTime", 0.99).
func quantileField(name string) (metric string, q float64, ok bool) {
	i := strings.LastIndex(name, "P")
	if i <= 0 {
		return "", 0, false
	}
	metric = name[:i]
	q, ok = quantileLevels[name[i:]]
	return metric, q, ok && contains([]string{"wallTime", "cpuTime", "duration", "responseBodySize"}, metric)
}

func sumValue(a *agg, name string) uint64 {
	switch name {
	case "requests":
		return a.requests
	case "errors":
		return a.errors
	case "wallTime":
		return a.wall.sum
	case "cpuTimeUs":
		return a.cpu.sum
	case "clientDisconnects":
		return a.disconnects
	}
	return 0 // subrequests, duration, responseBodySize: not measured by the local edge
}

func histFor(a *agg, metric string) *hist {
	switch metric {
	case "wallTime":
		return &a.wall
	case "cpuTime":
		return &a.cpu
	}
	return nil
}

// group is one result row.
type group struct {
	dims []string // values of the selected dimensions, in order
	agg  agg
}

const maxLimit = 10000

func (x *executor) workersInvocations(f *ast.Field, path []any) ([]any, error) {
	errf := func(format string, args ...any) error {
		return &execError{msg: fmt.Sprintf(format, args...), code: "validation", path: path, at: f.Position}
	}
	args := f.ArgumentMap(x.vars)
	limit, ok := toInt(args["limit"])
	if !ok || limit < 0 {
		return nil, errf("limit must be a non-negative integer")
	}
	if limit > maxLimit {
		return nil, errf("limit must be less than or equal to %d", maxLimit)
	}
	pred, err := compileFilter(args["filter"])
	if err != nil {
		return nil, errf("filter: %v", err)
	}

	// The dimensions to group by, in selection order.
	var dims []string
	sections := x.fields(f.SelectionSet)
	for _, sf := range sections {
		if sf.Name != "dimensions" {
			continue
		}
		for _, leaf := range x.fields(sf.SelectionSet) {
			if leaf.Name != "__typename" && !contains(dims, leaf.Name) {
				dims = append(dims, leaf.Name)
			}
		}
	}
	orders, err := compileOrderBy(args["orderBy"], dims)
	if err != nil {
		return nil, errf("orderBy: %v", err)
	}

	// Aggregate the matching buckets by the selected dimensions.
	groups := map[string]*group{}
	x.rec.visit(x.now, func(k bucketKey, a *agg) {
		if !pred(k) {
			return
		}
		vals := make([]string, len(dims))
		for i, d := range dims {
			vals[i] = dimensionValue(k, d)
		}
		id := strings.Join(vals, "\x00")
		g := groups[id]
		if g == nil {
			g = &group{dims: vals}
			groups[id] = g
		}
		g.agg.merge(a)
	})
	rows := make([]*group, 0, len(groups))
	for _, g := range groups {
		rows = append(rows, g)
	}
	sortGroups(rows, orders)
	if len(rows) > limit {
		rows = rows[:limit]
	}

	out := make([]any, 0, len(rows))
	for _, g := range rows {
		row := newObject()
		for _, sf := range sections {
			if sf.Name == "__typename" {
				row.set(sf.Alias, typeDataset)
				continue
			}
			sub := newObject()
			for _, leaf := range x.fields(sf.SelectionSet) {
				if leaf.Name == "__typename" {
					sub.set(leaf.Alias, sf.Definition.Type.Name())
					continue
				}
				sub.set(leaf.Alias, fieldValue(g, dims, sf.Name, leaf.Name))
			}
			row.set(sf.Alias, sub)
		}
		out = append(out, row)
	}
	return out, nil
}

func fieldValue(g *group, dims []string, section, name string) any {
	switch section {
	case "sum":
		return sumValue(&g.agg, name)
	case "quantiles":
		metric, q, _ := quantileField(name)
		if h := histFor(&g.agg, metric); h != nil {
			return h.quantile(q)
		}
		return 0
	case "max", "min":
		h := histFor(&g.agg, name)
		if h == nil || h.n == 0 {
			return 0
		}
		if section == "max" {
			return h.max
		}
		return h.min
	case "avg":
		return 1 // sampleInterval: every invocation is recorded
	case "dimensions":
		for i, d := range dims {
			if d == name {
				return g.dims[i]
			}
		}
	}
	return nil
}

// order is one orderBy entry: a dimension or a sum field, ascending or descending.
type order struct {
	dim  int    // index into the group's dims, or -1
	sum  string // sum field when dim < 0
	desc bool
}

func compileOrderBy(v any, dims []string) ([]order, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v} // a single value is coerced to a one-element list
	}
	var out []order
	for _, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("expected an enum value such as datetimeMinute_ASC, got %v", item)
		}
		var o order
		name, isAsc := strings.CutSuffix(s, "_ASC")
		if !isAsc {
			var isDesc bool
			if name, isDesc = strings.CutSuffix(s, "_DESC"); !isDesc {
				return nil, fmt.Errorf("%q must end in _ASC or _DESC", s)
			}
			o.desc = true
		}
		o.dim = -1
		if f, ok := strings.CutPrefix(name, "sum_"); ok && contains(sumFields, f) {
			o.sum = f
		} else if isDimension(name) {
			for i, d := range dims {
				if d == name {
					o.dim = i
				}
			}
			if o.dim < 0 {
				return nil, fmt.Errorf("cannot order by %s: dimension %q is not selected", s, name)
			}
		} else {
			return nil, fmt.Errorf("unknown value %q", s)
		}
		out = append(out, o)
	}
	return out, nil
}

// sortGroups orders rows by the orderBy entries, then by every dimension ascending so that
// the result is deterministic.
func sortGroups(rows []*group, orders []order) {
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		for _, o := range orders {
			c := 0
			if o.dim >= 0 {
				c = strings.Compare(a.dims[o.dim], b.dims[o.dim])
			} else {
				x, y := sumValue(&a.agg, o.sum), sumValue(&b.agg, o.sum)
				if x < y {
					c = -1
				} else if x > y {
					c = 1
				}
			}
			if o.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		for d := range a.dims {
			if c := strings.Compare(a.dims[d], b.dims[d]); c != 0 {
				return c < 0
			}
		}
		return false
	})
}

func toInt(v any) (int, bool) {
	switch n := v.(type) {
	case int64:
		return int(n), true
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	case float64:
		return int(n), n == float64(int(n))
	case int:
		return n, true
	}
	return 0, false
}

// compileFilter turns a workersInvocationsAdaptive filter into a predicate over buckets.
// Supported: AND / OR lists; for every dimension the operators eq (no suffix), _neq, _gt,
// _geq, _lt, _leq, _in, _notin. Null values (e.g. unset optional variables) are ignored.
func compileFilter(v any) (func(bucketKey) bool, error) {
	if v == nil {
		return func(bucketKey) bool { return true }, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("expected an input object, got %v", v)
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys) // deterministic error messages
	var preds []func(bucketKey) bool
	for _, k := range keys {
		val := obj[k]
		if val == nil {
			continue
		}
		if k == "AND" || k == "OR" {
			list, ok := val.([]any)
			if !ok {
				return nil, fmt.Errorf("%s expects a list of filters", k)
			}
			var subs []func(bucketKey) bool
			for _, item := range list {
				p, err := compileFilter(item)
				if err != nil {
					return nil, err
				}
				subs = append(subs, p)
			}
			if k == "AND" {
				preds = append(preds, func(b bucketKey) bool {
					for _, p := range subs {
						if !p(b) {
							return false
						}
					}
					return true
				})
			} else if len(subs) > 0 {
				preds = append(preds, func(b bucketKey) bool {
					for _, p := range subs {
						if p(b) {
							return true
						}
					}
					return false
				})
			}
			continue
		}
		p, err := compileCondition(k, val)
		if err != nil {
			return nil, err
		}
		preds = append(preds, p)
	}
	return func(b bucketKey) bool {
		for _, p := range preds {
			if !p(b) {
				return false
			}
		}
		return true
	}, nil
}

var filterOps = []string{"_notin", "_neq", "_geq", "_leq", "_gt", "_lt", "_in"}

func compileCondition(key string, val any) (func(bucketKey) bool, error) {
	dim, op := key, ""
	for _, suffix := range filterOps {
		if d, ok := strings.CutSuffix(key, suffix); ok && isDimension(d) {
			dim, op = d, suffix
			break
		}
	}
	if !isDimension(dim) {
		return nil, fmt.Errorf("unknown field %q", key)
	}
	// compare returns the order of a bucket's dimension value against a filter operand.
	parse := func(item any) (func(bucketKey) int, error) {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("%s: expected a string, got %v", key, item)
		}
		if trunc, isTime := timeDimensions[dim]; isTime {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				return nil, fmt.Errorf("%s: invalid Time %q: expected RFC 3339 such as 2024-01-02T15:04:05Z", key, s)
			}
			return func(b bucketKey) int { return bucketTime(b).Truncate(trunc).Compare(t) }, nil
		}
		if dim == "date" {
			t, err := time.Parse(time.DateOnly, s)
			if err != nil {
				return nil, fmt.Errorf("%s: invalid Date %q: expected YYYY-MM-DD", key, s)
			}
			want := t.Format(time.DateOnly)
			return func(b bucketKey) int { return strings.Compare(dimensionValue(b, dim), want) }, nil
		}
		return func(b bucketKey) int { return strings.Compare(dimensionValue(b, dim), s) }, nil
	}
	if op == "_in" || op == "_notin" {
		list, ok := val.([]any)
		if !ok {
			list = []any{val}
		}
		var cmps []func(bucketKey) int
		for _, item := range list {
			c, err := parse(item)
			if err != nil {
				return nil, err
			}
			cmps = append(cmps, c)
		}
		in := op == "_in"
		return func(b bucketKey) bool {
			for _, c := range cmps {
				if c(b) == 0 {
					return in
				}
			}
			return !in
		}, nil
	}
	if dim == "datetime" && op != "" && op != "_neq" {
		// datetime is an invocation's exact time on Cloudflare and its minute here: a bound
		// keeps every minute that holds an instant within it, so a window that starts or ends
		// mid-minute keeps that minute's invocations (an analysis window of a few seconds sees
		// its requests; its minute may hold a few from just outside it).
		s, ok := val.(string)
		if !ok {
			return nil, fmt.Errorf("%s: expected a string, got %v", key, val)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid Time %q: expected RFC 3339 such as 2024-01-02T15:04:05Z", key, s)
		}
		return func(b bucketKey) bool {
			start := bucketTime(b)
			switch op {
			case "_gt", "_geq":
				return start.Add(time.Minute).After(t)
			case "_lt":
				return start.Before(t)
			default: // _leq
				return !start.After(t)
			}
		}, nil
	}
	c, err := parse(val)
	if err != nil {
		return nil, err
	}
	test := map[string]func(int) bool{
		"":     func(c int) bool { return c == 0 },
		"_neq": func(c int) bool { return c != 0 },
		"_gt":  func(c int) bool { return c > 0 },
		"_geq": func(c int) bool { return c >= 0 },
		"_lt":  func(c int) bool { return c < 0 },
		"_leq": func(c int) bool { return c <= 0 },
	}[op]
	return func(b bucketKey) bool { return test(c(b)) }, nil
}

func bucketTime(k bucketKey) time.Time { return time.Unix(k.minute*60, 0).UTC() }

// execute parses, validates and resolves a query for the given account.
func (r *Recorder) execute(accountID, query string, vars map[string]any, operationName string) gqlResponse {
	doc, errs := gqlparser.LoadQueryWithRules(schema(), query, queryRules())
	if len(errs) > 0 {
		return gqlErrors(errs)
	}
	op, gerr := pickOperation(doc, operationName)
	if gerr != nil {
		return gqlResponse{Errors: []gqlError{*gerr}}
	}
	coerced, err := validator.VariableValues(schema(), op, vars)
	if err != nil {
		return gqlErrors(gqlerror.List{asGQLError(err)})
	}
	x := &executor{rec: r, accountID: accountID, vars: coerced, now: r.clock()}
	data, err := x.query(op.SelectionSet)
	if err != nil {
		var ee *execError
		if !errors.As(err, &ee) {
			return gqlResponse{Errors: []gqlError{{Message: err.Error(), Extensions: map[string]any{"code": "internal"}}}}
		}
		e := gqlError{Message: ee.msg, Path: ee.path, Extensions: map[string]any{"code": ee.code, "timestamp": x.now.UTC().Format(time.RFC3339Nano)}}
		if ee.at != nil {
			e.Locations = []gqlLocation{{ee.at.Line, ee.at.Column}}
		}
		return gqlResponse{Errors: []gqlError{e}}
	}
	return gqlResponse{Data: data}
}

func asGQLError(err error) *gqlerror.Error {
	var ge *gqlerror.Error
	if errors.As(err, &ge) {
		return ge
	}
	return gqlerror.Wrap(err)
}

// gqlErrors renders gqlparser's errors: parse errors have no rule, validation errors name
// the one they break.
func gqlErrors(list gqlerror.List) gqlResponse {
	out := gqlResponse{}
	for _, e := range list {
		code := "validation"
		if e.Rule == "" && len(e.Path) == 0 {
			code = "parsing"
		}
		ge := gqlError{Message: e.Message, Extensions: map[string]any{"code": code}}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, gqlLocation{l.Line, l.Column})
		}
		for _, p := range e.Path {
			ge.Path = append(ge.Path, p)
		}
		out.Errors = append(out.Errors, ge)
	}
	return out
}

func errorResponse(e gqlError) gqlResponse { return gqlResponse{Errors: []gqlError{e}} }

func pickOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, *gqlError) {
	if name == "" {
		if len(doc.Operations) > 1 {
			return nil, &gqlError{Message: "Must provide operation name if query contains multiple operations.", Extensions: map[string]any{"code": "validation"}}
		}
		return doc.Operations[0], nil
	}
	if op := doc.Operations.ForName(name); op != nil {
		return op, nil
	}
	return nil, &gqlError{Message: fmt.Sprintf("Unknown operation named %q.", name), Extensions: map[string]any{"code": "validation"}}
}

// maxBodyBytes bounds a GraphQL request body.
const maxBodyBytes = 1 << 20

// Handler serves POST /client/v4/graphql for the given account: a JSON body
// {"query": "...", "variables": {...}, "operationName": "..."} answered, like Cloudflare,
// with HTTP 200 and {"data": {...}, "errors": null}, or {"data": null, "errors": [...]} when
// the query does not parse or validate or names another account. Authentication is the
// caller's job.
func (r *Recorder) Handler(accountID string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var body struct {
			Query         string          `json:"query"`
			Variables     json.RawMessage `json:"variables"`
			OperationName string          `json:"operationName"`
		}
		dec := json.NewDecoder(http.MaxBytesReader(w, req.Body, maxBodyBytes))
		if err := dec.Decode(&body); err != nil {
			writeGraphQL(w, errorResponse(gqlError{Message: "could not parse request body: " + err.Error(), Extensions: map[string]any{"code": "bad_request"}}))
			return
		}
		vars, err := decodeVariables(body.Variables)
		if err != nil {
			writeGraphQL(w, errorResponse(gqlError{Message: "variables: " + err.Error(), Extensions: map[string]any{"code": "bad_request"}}))
			return
		}
		if strings.TrimSpace(body.Query) == "" {
			writeGraphQL(w, errorResponse(gqlError{Message: "Must provide query string.", Extensions: map[string]any{"code": "bad_request"}}))
			return
		}
		writeGraphQL(w, r.execute(accountID, body.Query, vars, body.OperationName))
	})
}

// decodeVariables accepts an object, null, or an object encoded as a JSON string (some
// clients send variables that way). Numbers stay json.Number.
func decodeVariables(raw json.RawMessage) (map[string]any, error) {
	raw = json.RawMessage(strings.TrimSpace(string(raw)))
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		if strings.TrimSpace(s) == "" {
			return map[string]any{}, nil
		}
		raw = json.RawMessage(s)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var vars map[string]any
	if err := dec.Decode(&vars); err != nil {
		return nil, fmt.Errorf("expected a JSON object: %v", err)
	}
	if vars == nil {
		vars = map[string]any{}
	}
	return vars, nil
}

func writeGraphQL(w http.ResponseWriter, resp gqlResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(resp)
}
