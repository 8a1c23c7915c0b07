// Package tokens emulates API token verification (GET /user/tokens/verify and its account
// variant) for the local edge's one token.
package tokens

import "github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"

// Routes is the token verification API. The server has already checked the token.
func Routes() []api.Route {
	return []api.Route{
		{Pattern: "GET /user/tokens/verify", Handle: verify},
		{Pattern: "GET /accounts/{account_id}/tokens/verify", Handle: verify},
	}
}
