package uemapi

import (
	"strings"
	"testing"
)

// TestOAU01OAU02OAU03Settings: OAuth settings need Enable Pass Through
// with OAuth; empty fields take the seeds' defaults; an OAuth service
// without servers goes to outlook.office365.com.
func TestOAU01OAU02OAU03Settings(t *testing.T) {
	base := func(mod func(*ActiveSyncService)) GatewayConfig {
		c := DefaultGatewayConfig()
		c.ActiveSync.Enabled = true
		s := ActiveSyncService{Name: "default", Servers: "mail.example.test", ServerAuth: AuthPassThrough}
		mod(&s)
		c.ActiveSync.Services = []ActiveSyncService{s}
		return c
	}
	for _, tc := range []struct {
		name, field string
		mod         func(*ActiveSyncService)
	}{
		{"OAU-01 oauth without pass_through_oauth", "activesync.services[0].oauth", func(s *ActiveSyncService) { s.OAuth = &OAuthSettings{} }},
		{"OAU-01 pass-through OAuth, defaults", "", func(s *ActiveSyncService) { s.PassThroughOAuth, s.OAuth = true, &OAuthSettings{} }},
		{"OAU-03 no servers with OAuth", "", func(s *ActiveSyncService) { s.PassThroughOAuth, s.Servers = true, "" }},
		{"no servers without OAuth", "activesync.services[0].servers", func(s *ActiveSyncService) { s.Servers = "" }},
		{"http endpoint", "activesync.services[0].oauth.destination_token_endpoint", func(s *ActiveSyncService) {
			s.PassThroughOAuth, s.OAuth = true, &OAuthSettings{TokenEndpoint: "http://idp/token"}
		}},
		{"bad key", "activesync.services[0].oauth.key_value_pairs[0].key", func(s *ActiveSyncService) {
			s.PassThroughOAuth, s.OAuth = true, &OAuthSettings{KeyValuePairs: []KeyValue{{Key: "a&b"}}}
		}},
	} {
		c := base(tc.mod)
		err := c.Validate()
		if tc.field == "" && err != nil || tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)) {
			t.Errorf("%s: %v, want field %q", tc.name, err, tc.field)
		}
	}
	d := OAuthSettings{}.WithDefaults()
	if d.AuthorizeEndpoint != "https://login.windows.net/common/oauth2/authorize" || d.TokenEndpoint != "https://login.windows.net/common/oauth2/token" ||
		d.DestinationResource != "https://outlook.office365.com" || d.SentryResource != "" {
		t.Fatalf("defaults %+v", d)
	}
	if s := (ActiveSyncService{PassThroughOAuth: true}); s.EffectiveServers() != "outlook.office365.com" {
		t.Fatal("OAU-03")
	}
}
