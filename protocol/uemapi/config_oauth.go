package uemapi

import (
	"net/url"
	"strings"
)

// OAuth pass-through defaults (OAU-02, OAU-03).
const (
	DefaultOAuthAuthorizeEndpoint = "https://login.windows.net/common/oauth2/authorize"
	DefaultOAuthTokenEndpoint     = "https://login.windows.net/common/oauth2/token"
	DefaultDestinationResource    = "https://outlook.office365.com"
	// OAuthDefaultServer is the ActiveSync server of an OAuth service
	// configured without one (OAU-03).
	OAuthDefaultServer = "outlook.office365.com"
)

// OAuthSettings are the fields "Enable Pass Through with OAuth" shows
// (OAU-02); empty fields take the seeds' defaults (WithDefaults).
type OAuthSettings struct {
	AuthorizeEndpoint string `json:"destination_authorize_endpoint,omitempty"`
	TokenEndpoint     string `json:"destination_token_endpoint,omitempty"`
	// SentryResource defaults to https://<SentryHostName>, the Host the
	// device reached the gateway by (empty here).
	SentryResource      string `json:"sentry_resource,omitempty"`
	DestinationResource string `json:"destination_resource,omitempty"`
	// KeyValuePairs are extra parameters the gateway adds to the
	// destination's authorize and token requests.
	KeyValuePairs []KeyValue `json:"key_value_pairs,omitempty"`
}

// KeyValue is one Key Value Pair row.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// WithDefaults fills the empty fields with OAU-02's defaults.
func (o OAuthSettings) WithDefaults() OAuthSettings {
	if o.AuthorizeEndpoint == "" {
		o.AuthorizeEndpoint = DefaultOAuthAuthorizeEndpoint
	}
	if o.TokenEndpoint == "" {
		o.TokenEndpoint = DefaultOAuthTokenEndpoint
	}
	if o.DestinationResource == "" {
		o.DestinationResource = DefaultDestinationResource
	}
	return o
}

// EffectiveServers is the service's server list, outlook.office365.com
// for an OAuth service configured without one (OAU-03).
func (s ActiveSyncService) EffectiveServers() string {
	if s.Servers == "" && s.PassThroughOAuth {
		return OAuthDefaultServer
	}
	return s.Servers
}

// validateOAuth checks OAU-01: OAuth settings need Pass Through with OAuth
// (which needs pass_through server authentication), and the endpoints
// and resources are absolute https URLs.
func validateOAuth(f string, s ActiveSyncService) error {
	if s.OAuth == nil {
		return nil
	}
	if !s.PassThroughOAuth {
		return FieldError(f+".oauth", "needs pass_through_oauth (Enable Pass Through with OAuth)")
	}
	o := s.OAuth.WithDefaults()
	for _, u := range []struct{ field, v string }{{"destination_authorize_endpoint", o.AuthorizeEndpoint},
		{"destination_token_endpoint", o.TokenEndpoint}, {"destination_resource", o.DestinationResource}, {"sentry_resource", o.SentryResource}} {
		if u.v == "" && u.field == "sentry_resource" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || p.Scheme != "https" || p.Host == "" {
			return FieldError(f+".oauth."+u.field, "must be an absolute https URL")
		}
	}
	for i, kv := range o.KeyValuePairs {
		if kv.Key == "" || strings.ContainsAny(kv.Key, "&=\r\n") {
			return FieldError(indexed(f+".oauth.key_value_pairs", i)+".key", "must be a non-empty parameter name")
		}
	}
	return nil
}
