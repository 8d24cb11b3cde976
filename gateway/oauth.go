package gateway

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/oauth"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// applyOAuth turns OAuth pass-through on when an ActiveSync service has
// "Enable Pass Through with OAuth" (OAU-01), with that service's
// settings and the seeds' defaults (OAU-02), and off otherwise. The
// first such service's settings serve the one device-facing
// /proxyservice/oauth2/ pair. An unchanged configuration keeps its Gate
// and with it the IdP's cached keys.
func (s *Server) applyOAuth(c uemapi.GatewayConfig) error {
	var svc *uemapi.ActiveSyncService
	for i := range c.ActiveSync.Services {
		if c.ActiveSync.Enabled && c.ActiveSync.Services[i].PassThroughOAuth {
			svc = &c.ActiveSync.Services[i]
			break
		}
	}
	if svc == nil {
		s.as.SetOAuth(nil)
		return nil
	}
	set := uemapi.OAuthSettings{}
	if svc.OAuth != nil {
		set = *svc.OAuth
	}
	keyJSON, _ := json.Marshal(struct {
		Set   uemapi.OAuthSettings
		Basic bool
		TLS   uemapi.TLSSettings
	}{set, svc.PassThroughBasic, c.TLS})
	if g := s.as.OAuth(); g != nil && g.Key() == string(keyJSON) {
		return nil
	}
	out, err := s.outgoingTLS(c.TLS)
	if err != nil {
		return err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy, tr.TLSClientConfig = nil, out
	s.as.SetOAuth(oauth.NewGate(set, oauth.Options{Client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		Basic: svc.PassThroughBasic, Key: string(keyJSON)}))
	s.log.Info("OAuth pass-through on", "authorize", set.WithDefaults().AuthorizeEndpoint)
	return nil
}

// oauthProxy serves the device-facing /proxyservice/oauth2/ endpoints
// (OAU-04); 404 while OAuth is off.
func (s *Server) oauthProxy() http.Handler {
	return &oauth.Proxy{Gate: s.as.OAuth, Log: s.log}
}
