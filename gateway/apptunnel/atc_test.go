package apptunnel

import (
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func atcTable() *Traffic {
	return NewTraffic(uemapi.TrafficControl{Mode: uemapi.TrafficATC,
		Proxies: []uemapi.ProxyServer{{Name: "p1", Host: "proxy1.corp", Port: 3128}, {Name: "p2", Host: "proxy2.corp", Port: 8080}},
		Rules: []uemapi.TrafficRule{
			{DestinationHost: "*.company.com", Action: uemapi.ActionBlock},                         // 0: listed first, wins (ATC-11)
			{DestinationHost: "*.internal.company.com", Action: uemapi.ActionProxy, Proxy: "p1"},   // 1: never reached
			{DestinationHost: "ANY_SHORT", Action: uemapi.ActionAllow},                             // 2
			{DestinationHost: "ANY_IP", Action: uemapi.ActionBlock},                                // 3
			{AppID: "com.partner.*", Action: uemapi.ActionProxy, Proxy: "p2"},                      // 4
			{DestinationHost: "wiki.example", AppID: "com.ivanti.*", Action: uemapi.ActionAllow},   // 5
			{DestinationHost: "*.mobile.example", Platform: "android", Action: uemapi.ActionBlock}, // 6
		},
		DefaultAction: uemapi.ActionProxy, DefaultProxy: "p1"})
}

func TestATCRulesFirstMatchWins(t *testing.T) {
	tr := atcTable()
	cases := []struct {
		id, host, app, platform string
		action                  uemapi.TrafficAction
		rule                    int
		proxy                   string
	}{
		{"ATC-11", "a.internal.company.com", "com.x", "", uemapi.ActionBlock, 0, ""},
		{"ATC-07 suffix only", "company.com", "com.x", "", uemapi.ActionProxy, -1, "proxy1.corp:3128"},
		{"ATC-07 ANY_SHORT", "sharepoint1", "com.x", "", uemapi.ActionAllow, 2, ""},
		{"ATC-07 ANY_IP", "10.1.2.3", "com.x", "", uemapi.ActionBlock, 3, ""},
		{"ATC-07 ANY_IP v6", "[::1]", "com.x", "", uemapi.ActionBlock, 3, ""},
		{"ATC-08 bundle wildcard", "www.example", "com.partner.app", "", uemapi.ActionProxy, 4, "proxy2.corp:8080"},
		{"ATC-08 both must match", "wiki.example", "com.other", "", uemapi.ActionProxy, -1, "proxy1.corp:3128"},
		{"ATC-08 both match", "WIKI.example.", "com.ivanti.securebrowser", "", uemapi.ActionAllow, 5, ""},
		{"ATC-09 platform", "m.mobile.example", "com.x", "android", uemapi.ActionBlock, 6, ""},
		{"ATC-09 other platform", "m.mobile.example", "com.x", "ios", uemapi.ActionProxy, -1, "proxy1.corp:3128"},
		{"ATC-12 no host: default", "", "com.x", "", uemapi.ActionProxy, -1, "proxy1.corp:3128"},
	}
	for _, c := range cases {
		r := tr.Decide(c.host, c.app, c.platform)
		if r.Action != c.action || r.Rule != c.rule || r.Proxy != c.proxy {
			t.Errorf("%s: Decide(%q, %q, %q) = %+v, want %s rule %d proxy %q", c.id, c.host, c.app, c.platform, r, c.action, c.rule, c.proxy)
		}
	}
}

func TestATC04ProxyMigratesToGlobal(t *testing.T) {
	got := MigrateToATC(uemapi.TrafficControl{Mode: uemapi.TrafficProxy, Proxy: &uemapi.ProxyServer{Host: "squid.corp", Port: 3128}})
	if got.Mode != uemapi.TrafficATC || len(got.Proxies) != 1 || got.Proxies[0].Name != "global" ||
		got.DefaultAction != uemapi.ActionProxy || got.DefaultProxy != "global" || len(got.Rules) != 0 {
		t.Fatalf("migration %+v", got)
	}
	cfg := uemapi.DefaultGatewayConfig()
	cfg.TrafficControl = got
	if err := cfg.Validate(); err != nil {
		t.Fatalf("migrated section does not validate: %v", err)
	}
	if r := NewTraffic(got).Decide("x", "y", ""); r.Action != uemapi.ActionProxy || r.Proxy != "squid.corp:3128" {
		t.Fatalf("route %+v", r)
	}
}

func TestATS06Wildcards(t *testing.T) {
	s := newServices(uemapi.AppTunnelConfig{Services: []uemapi.AppTunnelService{{Name: uemapi.ServiceAny, HostWildcards: "*.myCompany.com;wiki.example"}}})
	svc := s.byName[uemapi.ServiceAny]
	for host, ok := range map[string]bool{"a.mycompany.com:80": true, "mycompany.com:80": false, "wiki.example:443": true, "evil.example:80": false, "a.mycompany.com.evil:80": false} {
		if _, rf := svc.destination(host); (rf == nil) != ok {
			t.Errorf("%s: refusal %v, want allowed=%v", host, rf, ok)
		}
	}
}
