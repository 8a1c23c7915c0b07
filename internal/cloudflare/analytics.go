package cloudflare

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AnalyticsAPI reads Workers analytics from the GraphQL Analytics API (POST {base}/graphql):
// Cloudflare's, or the local edge's subset of it.
type AnalyticsAPI interface {
	VersionStats(ctx context.Context, q VersionStatsQuery) (map[string]VersionStats, error)
}

var _ AnalyticsAPI = (*Client)(nil)

// VersionStatsQuery asks for the invocations of some versions of a script in a time window.
type VersionStatsQuery struct {
	Script   string
	Versions []string
	// From and To bound the window (datetime_geq From, datetime_leq To).
	From, To time.Time
}

// VersionStats is one version's invocations in a window, as the workersInvocationsAdaptive
// dataset counts them: Errors are invocations whose status is scriptThrewException,
// exceededResources or internalError (a response the Worker returns is a success, whatever
// its HTTP status); WallTimeP99 is the 99th percentile of wall time over the whole window.
type VersionStats struct {
	Requests    int64
	Errors      int64
	WallTimeP99 time.Duration
}

// versionStatsQuery groups the window by version only: percentiles of separate groups (minutes,
// statuses) cannot be merged, so each version is one row.
const versionStatsQuery = `query ServicesdoDeploymentAnalysis($accountTag: string!, $script: string!, $versions: [string!], $from: Time!, $to: Time!) {
  viewer {
    accounts(filter: {accountTag: $accountTag}) {
      workersInvocationsAdaptive(limit: 100, filter: {scriptName: $script, scriptVersion_in: $versions, datetime_geq: $from, datetime_leq: $to}) {
        sum { requests errors }
        quantiles { wallTimeP99 }
        dimensions { scriptVersion }
      }
    }
  }
}`

type graphQLRequest struct {
	Query         string         `json:"query"`
	Variables     map[string]any `json:"variables"`
	OperationName string         `json:"operationName,omitempty"`
}

type graphQLError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type versionStatsResponse struct {
	Data *struct {
		Viewer struct {
			Accounts []struct {
				Rows []struct {
					Sum struct {
						Requests int64 `json:"requests"`
						Errors   int64 `json:"errors"`
					} `json:"sum"`
					Quantiles struct {
						WallTimeP99 float64 `json:"wallTimeP99"` // microseconds
					} `json:"quantiles"`
					Dimensions struct {
						ScriptVersion string `json:"scriptVersion"`
					} `json:"dimensions"`
				} `json:"workersInvocationsAdaptive"`
			} `json:"accounts"`
		} `json:"viewer"`
	} `json:"data"`
	Errors []graphQLError `json:"errors"`
}

// VersionStats returns the stats of each version asked for that had invocations in the
// window; a version without any is absent. The token needs Account Analytics Read.
func (c *Client) VersionStats(ctx context.Context, q VersionStatsQuery) (map[string]VersionStats, error) {
	op := fmt.Sprintf("reading the analytics of Worker %q", q.Script)
	body := graphQLRequest{
		Query: versionStatsQuery, OperationName: "ServicesdoDeploymentAnalysis",
		Variables: map[string]any{
			"accountTag": c.accountID, "script": q.Script, "versions": q.Versions,
			"from": q.From.UTC().Format(time.RFC3339), "to": q.To.UTC().Format(time.RFC3339),
		},
	}
	var res versionStatsResponse
	// A query changes nothing: safe to send again after a transport failure.
	if err := c.raw.post(safeToRepeat(ctx), "graphql", body, &res); err != nil {
		return nil, wrap(op, err)
	}
	if len(res.Errors) > 0 {
		return nil, graphQLFailure(op, res.Errors)
	}
	out := map[string]VersionStats{}
	if res.Data == nil {
		return out, nil
	}
	for _, acct := range res.Data.Viewer.Accounts {
		for _, row := range acct.Rows {
			s := out[row.Dimensions.ScriptVersion]
			s.Requests += row.Sum.Requests
			s.Errors += row.Sum.Errors
			s.WallTimeP99 = max(s.WallTimeP99, time.Duration(row.Quantiles.WallTimeP99*float64(time.Microsecond)))
			out[row.Dimensions.ScriptVersion] = s
		}
	}
	return out, nil
}

// graphQLFailure turns the errors of a GraphQL answer (sent with HTTP 200) into an *Error:
// an authorization failure is KindAuth, anything else KindValidation.
func graphQLFailure(op string, errs []graphQLError) error {
	msgs := make([]string, 0, len(errs))
	kind := KindValidation
	for _, e := range errs {
		msgs = append(msgs, e.Message)
		if code, _ := e.Extensions["code"].(string); code == "authz" || code == "authn" {
			kind = KindAuth
		}
	}
	msg := strings.Join(msgs, "; ")
	if kind == KindAuth {
		msg += " (the API token needs Account Analytics Read)"
	}
	return &Error{Kind: kind, Op: op, Status: 200, Message: msg, Err: errors.New(msg)}
}
