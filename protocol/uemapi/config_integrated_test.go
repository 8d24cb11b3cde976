package uemapi

import (
	"errors"
	"testing"
)

func TestINT01to04IntegratedConfigValidation(t *testing.T) {
	ok := func() *IntegratedConfig {
		return &IntegratedConfig{Server: "exch.corp.example", Port: 443, Secret: "shared-secret"}
	}
	hosted := &HostedExchange{RemoteFQDN: "ps.outlook.com", Authentication: "Basic", UseSSL: true, UserName: `corp\svc`, Password: "pw"}
	for _, tc := range []struct {
		name, field string
		edit        func(c *IntegratedConfig)
	}{
		{"valid", "", func(*IntegratedConfig) {}},
		{"INT-01 secondary", "", func(c *IntegratedConfig) { c.SecondaryServer, c.SecondaryPort = "exch2.corp.example", 443 }},
		{"INT-01 no server", "integrated.server", func(c *IntegratedConfig) { c.Server = "" }},
		{"INT-01 bad port", "integrated.port", func(c *IntegratedConfig) { c.Port = 70000 }},
		{"INT-01 secondary without port", "integrated.secondary_port", func(c *IntegratedConfig) { c.SecondaryServer = "x" }},
		{"INT-01 secondary port alone", "integrated.secondary_server", func(c *IntegratedConfig) { c.SecondaryPort = 443 }},
		{"INT-01 short secret", "integrated.secret", func(c *IntegratedConfig) { c.Secret = "x" }},
		{"INT-02 LDAP groups", "", func(c *IntegratedConfig) { c.LDAPGroups = []string{"CN=Sales,DC=corp"} }},
		{"INT-02 not for hosted", "integrated.ldap_groups", func(c *IntegratedConfig) { c.Hosted, c.LDAPGroups = hosted, []string{"CN=Sales"} }},
		{"INT-03 O365 groups", "", func(c *IntegratedConfig) {
			c.Hosted, c.O365Groups = hosted, []string{"CN=Sales,OU=x,DC=corp,DC=example"}
		}},
		{"INT-03 needs hosted", "integrated.o365_groups", func(c *IntegratedConfig) { c.O365Groups = []string{"CN=Sales"} }},
		{"INT-03 full DN", "integrated.o365_groups[0]", func(c *IntegratedConfig) { c.Hosted, c.O365Groups = hosted, []string{"Sales"} }},
		{"INT-04 basic only", "integrated.hosted.authentication", func(c *IntegratedConfig) { h := *hosted; h.Authentication = "NTLM"; c.Hosted = &h }},
		{"INT-04 user name", "integrated.hosted.user_name", func(c *IntegratedConfig) { h := *hosted; h.UserName = ""; c.Hosted = &h }},
		{"INT-07 interval", "integrated.sync_interval_minutes", func(c *IntegratedConfig) { c.SyncIntervalMinutes = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gc := DefaultGatewayConfig()
			gc.Integrated = ok()
			tc.edit(gc.Integrated)
			err := gc.Validate()
			var e *Error
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("want valid: %v", err)
			case tc.field != "" && (!errors.As(err, &e) || e.Field != tc.field):
				t.Fatalf("want an error on %s, got %v", tc.field, err)
			}
		})
	}
	if (&IntegratedConfig{}).SyncInterval().Hours() != 4 {
		t.Fatal("INT-07: the default differential interval is 4 h")
	}
}
