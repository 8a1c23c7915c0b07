package accounts_test

import (
	"context"
	"net/http"
	"testing"

	cf "github.com/cloudflare/cloudflare-go/v7"
	cfaccounts "github.com/cloudflare/cloudflare-go/v7/accounts"
	cfuser "github.com/cloudflare/cloudflare-go/v7/user"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

func TestUserAndAccounts(t *testing.T) {
	t.Parallel()
	e := edgetest.Start(t, edgetest.WithConfig(func(c *localedge.Config) { c.UserEmail = "me@example.com" }))
	ctx := context.Background()

	u, err := cfuser.NewUserService(e.SDK(edgetest.Token)...).Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "me@example.com" || u.ID == "" || u.Suspended {
		t.Fatalf("user = %s", u.JSON.RawJSON())
	}

	accounts := cfaccounts.NewAccountService(e.SDK(edgetest.Token)...)
	page, err := accounts.List(ctx, cfaccounts.AccountListParams{})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Result) != 1 || page.Result[0].ID != edgetest.AccountID || page.Result[0].Name != "Local edge account" || page.Result[0].Type != cfaccounts.AccountTypeStandard {
		t.Fatalf("accounts = %+v", page.Result)
	}
	empty, err := accounts.List(ctx, cfaccounts.AccountListParams{Page: cf.F(2.0)})
	if err != nil || len(empty.Result) != 0 {
		t.Fatalf("page 2 = %+v, %v", empty, err)
	}
	a, err := accounts.Get(ctx, cfaccounts.AccountGetParams{AccountID: cf.F(edgetest.AccountID)})
	if err != nil || a.ID != edgetest.AccountID {
		t.Fatalf("account = %+v, %v", a, err)
	}
	_, err = accounts.Get(ctx, cfaccounts.AccountGetParams{AccountID: cf.F("0000000000000000000000000000dead")})
	if err == nil {
		t.Fatal("another account is served")
	}
	// Without the token, nothing.
	_, err = cfuser.NewUserService(e.SDK("wrong")...).Get(ctx)
	edgetest.WantAPIError(t, err, http.StatusForbidden, 10000)
}
