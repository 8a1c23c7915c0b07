package provider

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

const kvOnly = `
resource "servicesdo_kv_namespace" "test" {
  title = "provider-config"
}
`

// clearCredentialEnv makes the tests independent of the developer's environment.
func clearCredentialEnv(t *testing.T) {
	for _, name := range []string{envAccountID, envAPIToken, envBaseURL, envZoneID} {
		t.Setenv(name, "")
	}
}

func TestAccProvider_missingCredentials(t *testing.T) {
	clearCredentialEnv(t)
	edge := newTestEdge(t)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config:      fmt.Sprintf("provider \"servicesdo\" {\n  api_token = %q\n  base_url = %q\n}\n", edge.token, edge.baseURL) + kvOnly,
				PlanOnly:    true,
				ExpectError: expectError("Set account_id in the provider block or the CLOUDFLARE_ACCOUNT_ID environment variable to your Cloudflare account id."),
			},
			{
				Config:      fmt.Sprintf("provider \"servicesdo\" {\n  account_id = %q\n  base_url = %q\n}\n", edge.accountID, edge.baseURL) + kvOnly,
				PlanOnly:    true,
				ExpectError: expectError("Set api_token in the provider block or the CLOUDFLARE_API_TOKEN environment variable to a Cloudflare API token."),
			},
		},
	})
}

// With an empty provider block, everything comes from the environment.
func TestAccProvider_environmentFallback(t *testing.T) {
	clearCredentialEnv(t)
	edge := newTestEdge(t)
	t.Setenv(envAccountID, edge.accountID)
	t.Setenv(envAPIToken, edge.token)
	t.Setenv(envBaseURL, edge.baseURL)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkKVNamespacesDestroyed,
		Steps: []resource.TestStep{{
			Config: "provider \"servicesdo\" {}\n" + strings.Replace(kvOnly, "provider-config", uniqueName("tf-acc-env"), 1),
			Check:  resource.TestCheckResourceAttrSet(kvAddress, "id"),
		}},
	})
}

func TestAccProvider_invalidSettings(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	cases := map[string]struct{ extra, want string }{
		"base_url without scheme": {`base_url = "api.example.com/client/v4"`, `base_url (or CLOUDFLARE_API_BASE_URL) must be an absolute http(s) URL such as https://api.cloudflare.com/client/v4: "api.example.com/client/v4" is not`},
		"base_url ftp":            {`base_url = "ftp://example.com"`, `base_url (or CLOUDFLARE_API_BASE_URL) must be an absolute http(s) URL`},
		"zero timeout":            {`request_timeout = "0s"`, `request_timeout must be a positive duration such as "30s", "2m" or "500ms", got "0s".`},
		"negative timeout":        {`request_timeout = "-5s"`, `request_timeout must be a positive duration such as "30s", "2m" or "500ms", got "-5s".`},
		"unparsable timeout":      {`request_timeout = "soon"`, `request_timeout must be a positive duration such as "30s", "2m" or "500ms", got "soon".`},
		"too many retries":        {`max_retries = 21`, `Attribute max_retries value must be between 0 and 20, got: 21`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			config := fmt.Sprintf("provider \"servicesdo\" {\n  account_id = %q\n  api_token = %q\n  %s\n}\n", edge.accountID, edge.token, tc.extra)
			if !strings.Contains(tc.extra, "base_url") {
				config = strings.Replace(config, "}\n", fmt.Sprintf("  base_url = %q\n}\n", edge.baseURL), 1)
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps:                    []resource.TestStep{{Config: config + kvOnly, PlanOnly: true, ExpectError: expectError(tc.want)}},
			})
		})
	}
}

func TestAccProvider_wrongToken(t *testing.T) {
	t.Parallel()
	edge := newTestEdge(t)
	edge.token = "not-the-token"
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      edge.kvConfig(uniqueName("tf-acc-auth"), ""),
			ExpectError: expectError("authentication failed: check api_token (CLOUDFLARE_API_TOKEN)"),
		}},
	})
}

// An address nobody listens on fails after the retry budget, naming the URL.
func TestAccProvider_unreachableBaseURL(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	config := fmt.Sprintf(`
provider "servicesdo" {
  account_id      = %q
  api_token       = %q
  base_url        = "http://%s/client/v4"
  max_retries     = 2
  request_timeout = "2s"
}
`, testAccountID, testToken, addr) + kvOnly
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{{
			Config:      config,
			ExpectError: regexp.MustCompile(expectError("giving up after 3 attempt(s)").String() + `[\s\S]*` + regexp.QuoteMeta("http://"+addr+"/client/v4/accounts/")),
		}},
	})
}

// The token appears nowhere in Terraform's and the provider's trace logs.
func TestAccProvider_tokenNeverLogged(t *testing.T) {
	clearCredentialEnv(t)
	edge := newTestEdge(t)
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	// The token comes from the environment: the test harness itself logs the configuration.
	t.Setenv(envAPIToken, edge.token)
	config := fmt.Sprintf("provider \"servicesdo\" {\n  account_id = %q\n  base_url = %q\n}\n", edge.accountID, edge.baseURL) +
		strings.Replace(kvOnly, "provider-config", uniqueName("tf-acc-log"), 1)
	resource.UnitTest(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             edge.checkKVNamespacesDestroyed,
		Steps:                    []resource.TestStep{{Config: config}},
	})
	logs, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "servicesdo_kv_namespace") {
		t.Fatalf("the trace log (%d bytes) does not mention the resource: the check proves nothing", len(logs))
	}
	if i := strings.Index(string(logs), edge.token); i >= 0 {
		t.Logf("context: %q", string(logs)[max(0, i-600):min(len(logs), i+100)])
		t.Fatal("the API token appears in the trace log")
	}
}
