package validation

import (
	"strings"
	"testing"
	"time"
)

func TestChecks(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		err     error
		wantErr string // "" means valid
	}{
		{"script ok", CheckScriptName("cart-service2"), ""},
		{"script single char", CheckScriptName("a"), ""},
		{"script upper", CheckScriptName("Cart"), `"Cart" is not a valid Worker name: use 1–63 lower-case`},
		{"script trailing hyphen", CheckScriptName("cart-"), "not a valid Worker name"},
		{"script too long", CheckScriptName(strings.Repeat("a", 64)), "not a valid Worker name"},
		{"date today", CheckCompatibilityDate("2026-11-24", now), ""},
		{"date past", CheckCompatibilityDate("2024-09-23", now), ""},
		{"date future", CheckCompatibilityDate("2026-11-25", now), "2026-11-25 is in the future: use today's date (2026-11-24) or an earlier one"},
		{"date format", CheckCompatibilityDate("24/11/2026", now), `"24/11/2026" is not a date in YYYY-MM-DD form, such as "2026-11-24"`},
		{"date invalid day", CheckCompatibilityDate("2026-02-30", now), "not a date in YYYY-MM-DD form"},
		{"binding ok", CheckBindingName("USERS_KV"), ""},
		{"binding dollar", CheckBindingName("$db"), ""},
		{"binding dash", CheckBindingName("users-kv"), `"users-kv" is not a valid JavaScript identifier: use letters, digits, _ and $, not starting with a digit (e.g. "users_kv")`},
		{"binding digit", CheckBindingName("1kv"), `(e.g. "_1kv")`},
		{"binding reserved", CheckBindingName("class"), `"class" is a JavaScript reserved word`},
		{"route ok", CheckRoutePattern("api.example.com/*"), ""},
		{"route wildcard host", CheckRoutePattern("*.example.com/v1/*"), ""},
		{"route bare host", CheckRoutePattern("example.com"), ""},
		{"route scheme", CheckRoutePattern("https://example.com/*"), `route pattern "https://example.com/*" must not include a scheme: write "example.com/*"`},
		{"route no host", CheckRoutePattern("/api/*"), `route pattern "/api/*" has no host`},
		{"route inner wildcard", CheckRoutePattern("example.com/*/x"), "a wildcard may only end the path"},
		{"route bad host", CheckRoutePattern("exa mple.com/*"), "has an invalid host"},
		{"host ok", CheckHostname("shop.example.com"), ""},
		{"host single label", CheckHostname("localhost"), "is not a fully qualified hostname"},
		{"cron every 15", CheckCron("*/15 * * * *"), ""},
		{"cron names", CheckCron("0 9 * JAN-MAR MON-FRI"), ""},
		{"cron last day", CheckCron("0 0 L * *"), ""},
		{"cron nth weekday", CheckCron("0 0 * * 1#2"), ""},
		{"cron lists", CheckCron("0,30 8-18/2 1,15 * 0,6"), ""},
		{"cron fields", CheckCron("* * * *"), `cron "* * * *" has 4 fields: use five`},
		{"cron range", CheckCron("61 * * * *"), `minute field "61": 61 is outside 0–59`},
		{"cron backwards", CheckCron("* 5-2 * * *"), `range "5-2" runs backwards`},
		{"cron step", CheckCron("*/0 * * * *"), `step "0" must be a number from 1 to 59`},
		{"cron word", CheckCron("@hourly * * * *"), `"@HOURLY" is not a number`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			switch {
			case tc.wantErr == "" && tc.err != nil:
				t.Fatalf("unexpected error: %v", tc.err)
			case tc.wantErr != "" && tc.err == nil:
				t.Fatalf("no error, want one containing %q", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(tc.err.Error(), tc.wantErr):
				t.Fatalf("error %q does not contain %q", tc.err, tc.wantErr)
			}
		})
	}
}

func TestCheckR2BucketName(t *testing.T) {
	t.Parallel()
	for name, valid := range map[string]bool{"abc": true, "my-bucket-1": true, "ab": false, "-abc": false, "abc-": false, "ABC": false, "a_b_c": false, strings.Repeat("a", 63): true, strings.Repeat("a", 64): false} {
		if err := CheckR2BucketName(name); (err == nil) != valid {
			t.Errorf("CheckR2BucketName(%q) = %v, want valid=%v", name, err, valid)
		}
	}
}

func TestRouteHostInZone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, zone string
		host          string
		in            bool
	}{
		{"shop.example.com/cart/*", "example.com", "shop.example.com", true},
		{"*.example.com/*", "example.com", "example.com", true},
		{"*example.com/*", "Example.COM", "example.com", true},
		{"example.com", "example.com", "example.com", true},
		{"shop.other.org/*", "example.com", "shop.other.org", false},
		{"badexample.com/*", "example.com", "badexample.com", false},
	}
	for _, c := range cases {
		if got := RouteHost(c.pattern); got != c.host {
			t.Errorf("RouteHost(%q) = %q, want %q", c.pattern, got, c.host)
		}
		if got := HostInZone(RouteHost(c.pattern), c.zone); got != c.in {
			t.Errorf("HostInZone(%q, %q) = %v, want %v", c.pattern, c.zone, got, c.in)
		}
	}
}

func TestIsR2Jurisdiction(t *testing.T) {
	for j, want := range map[string]bool{"default": true, "eu": true, "fedramp": true, "": false, "EU": false, "us": false} {
		if got := IsR2Jurisdiction(j); got != want {
			t.Errorf("IsR2Jurisdiction(%q) = %v, want %v", j, got, want)
		}
	}
	if R2Jurisdictions[0] != R2DefaultJurisdiction {
		t.Fatalf("the default jurisdiction must come first: %v", R2Jurisdictions)
	}
}
