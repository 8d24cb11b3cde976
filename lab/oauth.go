package lab

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/netip"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/idp"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// GatewayEgress is the address the lab's gateway reaches the IdP and
// Exchange from: the one conditional access trusts in an OAuth lab
// (OAU-07). A device dialling from another loopback address (127.0.0.3)
// is a device skipping the gateway.
var GatewayEgress = netip.MustParseAddr("127.0.0.1")

// startIdP starts the fake IdP of an OAuth lab with the lab's users.
func (l *Lab) startIdP(ctx context.Context) error {
	users := make([]idp.User, len(l.users))
	for i, u := range l.users {
		users[i] = idp.User{Name: u.Name, Password: u.Password}
	}
	ip, err := idp.New(idp.Config{Domain: l.cfg.Domain, Users: users, AllowedSources: []netip.Addr{GatewayEgress},
		Seed: l.cfg.Seed, Logger: l.cfg.Logger.With("component", "idp")})
	if err != nil {
		return err
	}
	l.IdP = ip
	return ip.Start(ctx)
}

// bearer is the main Exchange's bearer configuration in an OAuth lab
// (Exchange Online's audience, the IdP's keys, conditional access on
// token use); nil otherwise.
func (l *Lab) bearer(main bool) *exchange.BearerConfig {
	if l.IdP == nil || !main {
		return nil
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: l.IdP.CertPool(), MinVersion: tls.VersionTLS12}}}
	return &exchange.BearerConfig{JWKSURL: l.IdP.KeysURL(), Client: hc, AuthorizationURI: l.IdP.AuthorizeURL(),
		AllowedSources: []netip.Addr{GatewayEgress}, JWKSMaxAge: time.Second}
}

// oauthConfig turns Enable Pass Through with OAuth on for the default
// service in an OAuth lab, with the fake IdP as destination (Basic stays
// on beside it, so Basic devices still work).
func (l *Lab) oauthConfig(gc *uemapi.GatewayConfig) {
	if l.IdP == nil {
		return
	}
	svc := &gc.ActiveSync.Services[0]
	svc.PassThroughOAuth, svc.PassThroughBasic = true, true
	svc.OAuth = &uemapi.OAuthSettings{AuthorizeEndpoint: l.IdP.AuthorizeURL(), TokenEndpoint: l.IdP.TokenURL()}
}
