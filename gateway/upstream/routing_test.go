package upstream

import (
	"errors"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestASC03_HostHeaderSelectsServiceElseDefault(t *testing.T) {
	def := newExchange(t, "default-exchange", false)
	one := newExchange(t, "domain1-exchange", false)
	two := newExchange(t, "domain2-exchange", true)
	cfg := asConfig(service("default", def), service("standalonesentry1.com", one), service("standalonesentry2.com", two))
	r := newRouter(t, cfg, defaultMgmt(), defaultTimeouts(), Options{}, def, one, two)

	for _, tc := range []struct{ host, want string }{
		{"standalonesentry1.com", "domain1-exchange"},
		{"STANDALONESENTRY1.com:443", "domain1-exchange"}, // case and port ignored
		{"standalonesentry2.com", "domain2-exchange"},     // a Server TLS service
		{"standalonesentry2.com.", "domain2-exchange"},
		{"unknown.example.com", "default-exchange"},
		{"", "default-exchange"},
	} {
		if svc := r.Route(easRequest(tc.host, "Sync", "")); svc == nil {
			t.Fatalf("Route(%q) = nil", tc.host)
		}
		_, body := mustDo(t, r, easRequest(tc.host, "Sync", "<sync/>"))
		if body != tc.want {
			t.Errorf("Host %q went to %q, want %q", tc.host, body, tc.want)
		}
	}
}

func TestASC03_PinnedServiceWinsOverRewrittenHost(t *testing.T) {
	def := newExchange(t, "default-exchange", false)
	one := newExchange(t, "domain1-exchange", false)
	r := newRouter(t, asConfig(service("default", def), service("eas1.example.com", one)), defaultMgmt(), defaultTimeouts(), Options{})
	in := easRequest("eas1.example.com", "Sync", "")
	svc := r.Route(in)
	// The handler's ReverseProxy rewrites Host before the transport sees it.
	out := easRequest("old-upstream.example.com", "Sync", "")
	out = out.WithContext(WithService(out.Context(), svc))
	if _, body := mustDo(t, r, out); body != "domain1-exchange" {
		t.Fatalf("pinned service ignored: went to %q", body)
	}
}

func TestASC01_ConfigIsValidatedAtTheEdgeNamingTheField(t *testing.T) {
	x := newExchange(t, "x", false)
	bad := []struct {
		name  string
		cfg   uemapi.ActiveSyncConfig
		mgmt  func(*uemapi.ServerManagement)
		to    func(*uemapi.Timeouts)
		field string
	}{
		{"first not default", asConfig(service("other", x)), nil, nil, "activesync.services[0].name"},
		{"ASC-02 bad name", asConfig(service("default", x), service("a b", x)), nil, nil, "activesync.services[1].name"},
		{"ASC-04 list too long", func() uemapi.ActiveSyncConfig {
			s := service("default", x)
			for len(s.Servers) <= uemapi.ServersListMaxLen {
				s.Servers += ";" + x.addr()
			}
			return asConfig(s)
		}(), nil, nil, "activesync.services[0].servers"},
		{"ASC-16 dead threshold", asConfig(service("default", x)), func(m *uemapi.ServerManagement) { m.DeadThreshold = 0 }, nil, "server_management.dead_threshold"},
		{"ASC-15 scheduling", asConfig(service("default", x)), func(m *uemapi.ServerManagement) { m.Scheduling = "random" }, nil, "server_management.scheduling"},
		{"ASC-21 connect timeout", asConfig(service("default", x)), nil, func(t *uemapi.Timeouts) { t.ServerConnectMs = 0 }, "timeouts.server_connect_ms"},
	}
	for _, tc := range bad {
		m, to := defaultMgmt(), defaultTimeouts()
		if tc.mgmt != nil {
			tc.mgmt(&m)
		}
		if tc.to != nil {
			tc.to(&to)
		}
		_, err := New(tc.cfg, m, to, Options{})
		var ue *uemapi.Error
		if !errors.As(err, &ue) || ue.Field != tc.field {
			t.Errorf("%s: err = %v, want a field error on %s", tc.name, err, tc.field)
		}
	}
}

func TestASC06_MissingPortIs443WithServerTLSElse80(t *testing.T) {
	got := parseServers("a.example.com; b.example.com:8443 ;10.0.0.1;[::1];a.example.com", true)
	want := []string{"a.example.com:443", "b.example.com:8443", "10.0.0.1:443", "[::1]:443"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].hostport != want[i] || got[i].scheme() != "https" {
			t.Errorf("entry %d = %+v, want %s over https", i, got[i], want[i])
		}
	}
	if p := parseServers("mail.example.com", false); p[0].hostport != "mail.example.com:80" || p[0].scheme() != "http" {
		t.Errorf("plain = %+v", p[0])
	}
}

func TestActiveSyncDisabledRoutesNothing(t *testing.T) {
	x := newExchange(t, "x", false)
	cfg := asConfig(service("default", x))
	cfg.Enabled = false
	r := newRouter(t, cfg, defaultMgmt(), defaultTimeouts(), Options{})
	if svc := r.Route(easRequest("h", "Sync", "")); svc != nil {
		t.Fatalf("Route = %v, want nil", svc.Name())
	}
	if _, err := r.RoundTrip(easRequest("h", "Sync", "")); !errors.Is(err, ErrNotConfigured) {
		t.Fatalf("RoundTrip err = %v", err)
	}
}
