package analytics

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// The schema of the subset of Cloudflare's GraphQL Analytics API the local edge answers, with
// Cloudflare's type and field names: queries are parsed and validated against it by
// gqlparser, so their errors are the GraphQL specification's.
//
//	query { viewer { accounts(filter: {accountTag}) { workersInvocationsAdaptive(limit, filter, orderBy) {
//	  sum       { requests errors subrequests wallTime cpuTimeUs clientDisconnects duration responseBodySize }
//	  quantiles { wallTimeP25 … wallTimeP999 cpuTimeP25 … cpuTimeP999 (P25 P50 P75 P90 P99 P999)
//	              durationP* responseBodySizeP* }
//	  max / min { wallTime cpuTime duration responseBodySize }
//	  avg       { sampleInterval }
//	  dimensions { scriptName scriptVersion status datetime datetimeMinute datetimeFiveMinutes
//	               datetimeFifteenMinutes datetimeHalfOfHour datetimeHour datetimeSixHours date }
//	} } } }
//
// Times (wallTime, cpuTime, cpuTimeUs) are microseconds, as on Cloudflare. Fields the local
// edge does not measure (subrequests, duration, responseBodySize) are 0. Time dimensions have
// minute resolution: `datetime` is the start of the invocation's minute. Filters on the
// truncated dimensions (datetimeMinute … datetimeSixHours) compare their value; a bound on
// `datetime`, an exact time on Cloudflare, keeps every minute that holds an instant within it.
// `status` is Cloudflare's invocation status: a response the Worker returned is `success`
// whatever its HTTP status; `errors` counts scriptThrewException and internalError. Like Cloudflare's, the scalars string, Time, Date and uint64 take any
// literal (an enum-like word for a string too); the resolver checks what it uses.
// It is parsed on first use: the provider process links the local edge for its `local`
// subcommand and would otherwise parse it on every start.
var schema = sync.OnceValue(func() *ast.Schema {
	return gqlparser.MustLoadSchema(&ast.Source{Name: "analytics.graphql", Input: schemaSDL()})
})

// The dataset's type names, as in Cloudflare's schema.
const (
	typeDataset    = "AccountWorkersInvocationsAdaptive"
	typeFilter     = "AccountWorkersInvocationsAdaptiveFilter_InputObject"
	typeOrderBy    = "AccountWorkersInvocationsAdaptiveOrderBy"
	typeDimensions = typeDataset + "Dimensions"
)

// dimensionTypes is each dimension's scalar.
func dimensionType(name string) string {
	switch {
	case name == "date":
		return "Date"
	case strings.HasPrefix(name, "datetime"):
		return "Time"
	}
	return "string"
}

func dimensionNames() []string {
	names := []string{"scriptName", "scriptVersion", "status", "date"}
	for name := range timeDimensions {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func schemaSDL() string {
	var b strings.Builder
	b.WriteString(`scalar string
scalar Time
scalar Date
scalar uint64
scalar float64

schema { query: Query }

type Query { viewer: viewer }

type viewer {
  accounts(filter: AccountFilter_InputObject!): [account!]!
}

input AccountFilter_InputObject { accountTag: string }

type account {
  workersInvocationsAdaptive(limit: uint64!, filter: ` + typeFilter + `, orderBy: [` + typeOrderBy + `!]): [` + typeDataset + `!]!
}

type ` + typeDataset + ` {
  sum: ` + typeDataset + `Sum
  quantiles: ` + typeDataset + `Quantiles
  max: ` + typeDataset + `Max
  min: ` + typeDataset + `Min
  avg: ` + typeDataset + `Avg
  dimensions: ` + typeDimensions + `
}

type ` + typeDataset + `Avg { sampleInterval: float64 }
`)
	fields := func(typ, scalar string, names []string) {
		fmt.Fprintf(&b, "\ntype %s {\n", typ)
		for _, n := range names {
			fmt.Fprintf(&b, "  %s: %s\n", n, scalar)
		}
		b.WriteString("}\n")
	}
	fields(typeDataset+"Sum", "uint64", sumFields)
	fields(typeDataset+"Max", "uint64", minMaxFields)
	fields(typeDataset+"Min", "uint64", minMaxFields)
	var quantiles []string
	for _, metric := range minMaxFields {
		for level := range quantileLevels {
			quantiles = append(quantiles, metric+level)
		}
	}
	sort.Strings(quantiles)
	fields(typeDataset+"Quantiles", "float64", quantiles)

	fmt.Fprintf(&b, "\ntype %s {\n", typeDimensions)
	for _, d := range dimensionNames() {
		fmt.Fprintf(&b, "  %s: %s\n", d, dimensionType(d))
	}
	b.WriteString("}\n")

	fmt.Fprintf(&b, "\ninput %s {\n  AND: [%s!]\n  OR: [%s!]\n", typeFilter, typeFilter, typeFilter)
	for _, d := range dimensionNames() {
		t := dimensionType(d)
		fmt.Fprintf(&b, "  %s: %s\n", d, t)
		for _, op := range filterOps {
			if op == "_in" || op == "_notin" {
				fmt.Fprintf(&b, "  %s%s: [%s!]\n", d, op, t)
			} else {
				fmt.Fprintf(&b, "  %s%s: %s\n", d, op, t)
			}
		}
	}
	b.WriteString("}\n")

	fmt.Fprintf(&b, "\nenum %s {\n", typeOrderBy)
	for _, d := range dimensionNames() {
		fmt.Fprintf(&b, "  %s_ASC\n  %s_DESC\n", d, d)
	}
	for _, f := range sumFields {
		fmt.Fprintf(&b, "  sum_%s_ASC\n  sum_%s_DESC\n", f, f)
	}
	b.WriteString("}\n")
	return b.String()
}
