package provider

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/acctest"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/dot-do/terraform-provider-servicesdo/internal/cloudflare"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge"
	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/edgetest"
)

// The in-process local edge's credentials.
const (
	testAccountID = "acc0000000000000000000000000test"
	testToken     = "test-token-0123456789"
	testZoneID    = "20ne000000000000000000000000test"
	testZoneName  = "example.com"
)

// testProviders serves the provider in the test process, as Terraform's reattach does.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"servicesdo": providerserver.NewProtocol6WithError(New("test")()),
}

// liveMode runs the acceptance tests against real Cloudflare (make testacc-live).
func liveMode() bool { return os.Getenv("SERVICESDO_TEST_LIVE") == "1" }

// testEdge is the API a test runs against: by default a fresh in-process local edge,
// or real Cloudflare in live mode. client makes out-of-band changes and checks.
type testEdge struct {
	local     *localedge.Server // nil in live mode
	baseURL   string
	accountID string
	token     string
	client    *cloudflare.Client
}

// newTestEdge starts the edge a test runs against; options adjust the local edge's
// configuration (they are ignored in live mode).
func newTestEdge(t *testing.T, options ...func(*localedge.Config)) *testEdge {
	t.Helper()
	e := &testEdge{}
	if liveMode() {
		e.accountID, e.token = os.Getenv("CLOUDFLARE_ACCOUNT_ID"), os.Getenv("CLOUDFLARE_API_TOKEN")
		e.baseURL = cloudflare.DefaultBaseURL
		if e.accountID == "" || e.token == "" {
			t.Fatal("live mode needs CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN")
		}
	} else {
		// Fresh edges start without a workers.dev subdomain: the tests expect the url of a
		// service to come from its custom domains and routes.
		local := edgetest.Start(t, edgetest.WithConfig(func(c *localedge.Config) {
			c.AccountID, c.Token, c.Zones, c.Now, c.NoWorkersSubdomain = testAccountID, testToken, map[string]string{testZoneID: testZoneName}, nil, true
			for _, o := range options {
				o(c)
			}
		}))
		e.local, e.baseURL, e.accountID, e.token = local.Server, local.BaseURL, testAccountID, testToken
	}
	client, err := cloudflare.New(cloudflare.Config{AccountID: e.accountID, APIToken: e.token, BaseURL: e.baseURL, MaxRetries: 3})
	if err != nil {
		t.Fatal(err)
	}
	e.client = client
	return e
}

// requireLocal skips a test that needs the local edge's internals (fault injection,
// request counters), which real Cloudflare does not have.
func (e *testEdge) requireLocal(t *testing.T) {
	t.Helper()
	if e.local == nil {
		t.Skip("needs the in-process local edge (fault injection and request counters); not run against real Cloudflare")
	}
}

// providerBlock renders the provider configuration; extra lines go inside the block.
func (e *testEdge) providerBlock(extra string) string {
	return fmt.Sprintf(`
provider "servicesdo" {
  account_id = %q
  api_token  = %q
  base_url   = %q
  %s
}
`, e.accountID, e.token, e.baseURL, extra)
}

// uniqueName returns a resource name that cannot collide between runs on a live account.
func uniqueName(prefix string) string { return acctest.RandomWithPrefix(prefix) }

// expectError matches text however Terraform wraps it: each space in text matches any run
// of whitespace, everything else is literal.
func expectError(text string) *regexp.Regexp {
	words := strings.Fields(text)
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	return regexp.MustCompile(strings.Join(words, `\s+`))
}

// checkAllGone verifies that every resource of the type in the state is gone from the API:
// get must fail with not found.
func checkAllGone(s *terraform.State, resourceType, what string, get func(*terraform.ResourceState) error) error {
	for _, rs := range s.RootModule().Resources {
		if rs.Type != resourceType {
			continue
		}
		err := get(rs)
		if err == nil {
			return fmt.Errorf("%s %s still exists", what, rs.Primary.ID)
		}
		if !cloudflare.IsNotFound(err) {
			return err
		}
	}
	return nil
}
