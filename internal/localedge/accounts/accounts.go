// Package accounts emulates who the token belongs to: the user (GET /user) and the one
// account (GET /accounts, GET /accounts/{account_id}), with cloudflare-go's shapes
// (user.UserGetResponse, accounts.Account). Clients such as `wrangler whoami` read them.
package accounts

import (
	"net/http"
	"time"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/api"
)

// AccountName is the name of the local edge's account (zones report it as their account).
const AccountName = "Local edge account"

// userID is the id of the local edge's one user: fixed, so responses are stable across restarts.
const userID = "10ca1000000000000000000000000u5e"

// since is when the account reports being created.
var since = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Accounts serves the user and the account.
type Accounts struct {
	accountID, email string
}

// New serves the account with the id, whose user has the email.
func New(accountID, email string) *Accounts { return &Accounts{accountID: accountID, email: email} }

// Routes is the user and accounts API. The server has already checked the token and, for
// paths with an account id, that it is the local edge's account.
func (a *Accounts) Routes() []api.Route {
	return []api.Route{
		{Pattern: "GET /user", Handle: a.getUser},
		{Pattern: "GET /accounts", Handle: a.listAccounts},
		{Pattern: "GET /accounts/{account_id}", Handle: a.getAccount},
	}
}

func (a *Accounts) getUser(w http.ResponseWriter, _ *http.Request) error {
	api.WriteResult(w, map[string]any{
		"id": userID, "email": a.email, "betas": []string{}, "country": nil, "first_name": nil, "last_name": nil,
		"has_business_zones": false, "has_enterprise_zones": false, "has_pro_zones": false,
		"organizations": []any{}, "suspended": false, "telephone": nil,
		"two_factor_authentication_enabled": false, "two_factor_authentication_locked": false, "zipcode": nil,
	})
	return nil
}

func (a *Accounts) account() map[string]any {
	return map[string]any{
		"id": a.accountID, "name": AccountName, "type": "standard", "created_on": since.Format(time.RFC3339),
		"settings": map[string]any{"abuse_contact_email": nil, "enforce_twofactor": false},
	}
}

// listAccounts pages the one account (accounts.AccountListParams: page, per_page ≤ 50).
func (a *Accounts) listAccounts(w http.ResponseWriter, r *http.Request) error {
	page, perPage, err := api.PageParams(r, 20, 50)
	if err != nil {
		return err
	}
	items := api.PageSlice([]map[string]any{a.account()}, page, perPage)
	if items == nil {
		items = []map[string]any{}
	}
	api.WritePage(w, items, api.PageInfo(page, perPage, len(items), 1))
	return nil
}

func (a *Accounts) getAccount(w http.ResponseWriter, _ *http.Request) error {
	api.WriteResult(w, a.account())
	return nil
}
