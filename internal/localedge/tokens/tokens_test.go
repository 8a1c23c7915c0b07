package tokens_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	cf "github.com/cloudflare/cloudflare-go/v7"
	cfaccounts "github.com/cloudflare/cloudflare-go/v7/accounts"
	cfuser "github.com/cloudflare/cloudflare-go/v7/user"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

var hexID = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestTokenVerify(t *testing.T) {
	t.Parallel()
	e := edgetest.Start(t)
	ctx := context.Background()
	users := cfuser.NewTokenService(e.SDK(edgetest.Token)...)
	accounts := cfaccounts.NewTokenService(e.SDK(edgetest.Token)...)

	u, err := users.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !hexID.MatchString(u.ID) || u.Status != cfuser.TokenVerifyResponseStatusActive || !u.ExpiresOn.IsZero() || !u.NotBefore.IsZero() {
		t.Fatalf("user verify = %s", u.JSON.RawJSON())
	}
	a, err := accounts.Verify(ctx, cfaccounts.TokenVerifyParams{AccountID: cf.F(edgetest.AccountID)})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != u.ID || a.Status != cfaccounts.TokenVerifyResponseStatusActive {
		t.Fatalf("account verify = %s", a.JSON.RawJSON())
	}
	status, _, body := e.Raw(http.MethodGet, "/user/tokens/verify", nil, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"success":true`) || !strings.Contains(string(body), "This API Token is valid and active") {
		t.Fatalf("verify envelope: %d %s", status, body)
	}

	// An unknown token at either verify endpoint: 401 1000.
	bad := e.SDK("not-the-token")
	_, err = cfuser.NewTokenService(bad...).Verify(ctx)
	edgetest.WantAPIError(t, err, http.StatusUnauthorized, 1000)
	_, err = cfaccounts.NewTokenService(bad...).Verify(ctx, cfaccounts.TokenVerifyParams{AccountID: cf.F(edgetest.AccountID)})
	edgetest.WantAPIError(t, err, http.StatusUnauthorized, 1000)
	// The right token for another account.
	_, err = accounts.Verify(ctx, cfaccounts.TokenVerifyParams{AccountID: cf.F("ffffffffffffffffffffffffffffffff")})
	edgetest.WantAPIError(t, err, http.StatusForbidden, 10000)
}
