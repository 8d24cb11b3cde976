package uem

import (
	"net/http"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// EmailPlusOAuthConfig is the Email+ app configuration for OAuth through a
// gateway reached as sentryHost (OAU-05): modern authentication only,
// the gateway's /proxyservice as authority and the gateway as resource;
// with cbaCert (a CBA user) also the login certificate.
func EmailPlusOAuthConfig(sentryHost, cbaCert string) []uemapi.KeyValue {
	kv := []uemapi.KeyValue{
		{Key: "eas_min_allowed_auth_mode", Value: "modern_auth"},
		{Key: "modern_auth_authority_url", Value: "https://" + sentryHost + "/proxyservice"},
		{Key: "modern_auth_resource_url", Value: "https://" + sentryHost},
	}
	if cbaCert != "" {
		kv = append(kv, uemapi.KeyValue{Key: "email_login_certificate", Value: strings.TrimSuffix(cbaCert, ".pfx") + ".pfx"})
	}
	return kv
}

// EmailPlusAppConfig is EmailPlusOAuthConfig for a gateway entry: its Host
// unless host names the one devices use; an error when none of its
// ActiveSync services has Enable Pass Through with OAuth.
func (s *Server) EmailPlusAppConfig(gatewayID, host, cbaCert string) ([]uemapi.KeyValue, error) {
	g, err := s.Gateway(gatewayID)
	if err != nil {
		return nil, err
	}
	oauth := false
	for _, svc := range g.Config.ActiveSync.Services {
		oauth = oauth || svc.PassThroughOAuth
	}
	if !oauth {
		return nil, uemapi.FieldError("config.activesync.services", "no service has pass_through_oauth: Email+ has no modern authentication to use")
	}
	if host == "" {
		host = g.Host
	}
	return EmailPlusOAuthConfig(host, cbaCert), nil
}

func (s *Server) adminEmailPlus(w http.ResponseWriter, r *http.Request) {
	kv, err := s.EmailPlusAppConfig(r.PathValue("id"), r.URL.Query().Get("host"), r.URL.Query().Get("cba_certificate"))
	reply(w, http.StatusOK)(kv, err)
}
