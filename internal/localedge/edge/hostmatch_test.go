package edge

import (
	"testing"

	"github.com/dot-do/terraform-provider-servicesdo/internal/localedge/deploy"
)

func TestTableMatch(t *testing.T) {
	t.Parallel()
	table := NewTable(deploy.Snapshot{
		Scripts: []deploy.Script{{Name: "api", WorkersDev: true}, {Name: "shop"}, {Name: "cart"}, {Name: "wild"}, {Name: "apex"}},
		Routes: []deploy.Route{
			{Pattern: "shop.example.com/*", Script: "shop"},
			{Pattern: "shop.example.com/cart/*", Script: "cart"},
			{Pattern: "*.example.com/*", Script: "wild"},
			{Pattern: "*example.org/*", Script: "apex"},
			{Pattern: "exact.example.com/only", Script: "shop"},
		},
		Domains:          []deploy.Domain{{Hostname: "Cart.Example.net", Script: "cart"}},
		WorkersSubdomain: "acme",
	})
	cases := []struct {
		host, path, want string
	}{
		{"api.localhost:8787", "/", "api"},
		{"api.acme.workers.dev", "/", "api"},       // the account's workers.dev address
		{"API.Acme.Workers.Dev:8787", "/x", "api"}, // host names are case-insensitive
		{"api.other.workers.dev", "/", ""},         // another account's subdomain
		{"shop.acme.workers.dev", "/", ""},         // workers.dev is off for shop
		{"shop.localhost:8787", "/", ""},           // workers.dev is off for shop
		{"shop.example.com", "/", "shop"},
		{"shop.example.com", "/cart/items", "cart"}, // longer pattern wins
		{"SHOP.example.com:8787", "/cart/", "cart"},
		{"blog.example.com", "/x", "wild"},
		{"example.com", "/", ""}, // *.example.com excludes the apex
		{"example.org", "/", "apex"},
		{"www.example.org", "/", "apex"},
		{"cart.example.net", "/anything", "cart"},
		{"exact.example.com", "/only", "shop"},
		{"exact.example.com", "/only/more", "wild"},
		{"unknown.test", "/", ""},
	}
	for _, tc := range cases {
		got, ok := table.Match(tc.host, tc.path)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("Match(%q, %q) = %q, %v; want %q", tc.host, tc.path, got, ok, tc.want)
		}
	}
}
