package lab

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gatehouse-lab/gatehouse/fakes/dns"
	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The gateway's Kerberos principal in a Kerberos lab (KRB-04's
// "Sentry Service Principal"), and its password.
const (
	GatewayPrincipal = "HTTP/gatehouse-kcd"
	gatewayKrbSecret = "gatehouse-kcd-secret"
)

// Realm is the Kerberos realm of a Kerberos lab: the upper-cased Domain.
func (l *Lab) Realm() string { return strings.ToUpper(l.cfg.Domain) }

// MailSPN is the SPN of the lab's Exchange in a Kerberos lab: the one the
// gateway's principal may delegate to.
func (l *Lab) MailSPN() string { return "http/mail." + l.cfg.Domain }

// startKerberos starts the fake KDC (the users, the gateway's principal
// allowed to delegate to MailSPN, the mail service) and a fake DNS serving
// the realm's SRV records, before Exchange, which needs the mail keytab.
func (l *Lab) startKerberos(ctx context.Context) error {
	k, err := kdc.New(kdc.Config{Realm: l.Realm(), Logger: l.cfg.Logger.With("component", "kdc")})
	if err != nil {
		return err
	}
	if err := k.Start(ctx); err != nil {
		return err
	}
	l.KDC = k
	ps := []kdc.Principal{{Name: GatewayPrincipal, Password: gatewayKrbSecret}, {Name: l.MailSPN(), Password: randomToken()}}
	for _, u := range l.users {
		ps = append(ps, kdc.Principal{Name: u.Name, Password: u.Password})
	}
	for _, p := range ps {
		if err := k.AddPrincipal(p); err != nil {
			return err
		}
	}
	if err := k.AllowDelegation(GatewayPrincipal, l.MailSPN()); err != nil {
		return err
	}
	kt, err := k.Keytab(l.MailSPN())
	if err != nil {
		return err
	}
	l.negotiate = &exchange.NegotiateAuthenticator{Keytab: kt, Realm: l.Realm()}

	ns, err := dns.New(dns.Config{Zones: []string{l.cfg.Domain}, Logger: l.cfg.Logger.With("component", "dns")})
	if err != nil {
		return err
	}
	if err := ns.Start(ctx); err != nil {
		return err
	}
	l.DNS = ns
	kdcHost := "kdc." + l.cfg.Domain
	if err := ns.AddHost(dns.Host{Name: kdcHost, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}}); err != nil {
		return err
	}
	return ns.AddKDC(l.Realm(), dns.KDC{Target: kdcHost, Port: uint16(k.Port()), TCP: true})
}

// identityConfig sets the device authentication (and, in a Kerberos lab,
// the server authentication) the lab's gateway entry starts with.
func (l *Lab) identityConfig(gc *uemapi.GatewayConfig) {
	if !l.cfg.IdentityCerts && !l.cfg.Kerberos {
		return
	}
	gc.DeviceAuth = uemapi.DeviceAuth{Mode: uemapi.DeviceAuthIdentity, TrustedCertsPEM: l.UEM.CA().CertPEM, CheckCRL: true}
	if !l.cfg.Kerberos {
		return
	}
	svc := &gc.ActiveSync.Services[0]
	svc.ServerAuth, svc.SPNs = uemapi.AuthKerberos, l.MailSPN()
	gc.Kerberos = &uemapi.KerberosConfig{Realm: l.Realm(), ServicePrincipal: GatewayPrincipal, Password: gatewayKrbSecret,
		KDCs: l.KDC.Addr(), DNSDiscovery: true, KDCProxy: true}
}

// KerberosClients are the Kerberos clients ("user@REALM") the lab's
// Exchange accepted Negotiate tickets for, in order; nil outside a
// Kerberos lab.
func (l *Lab) KerberosClients() []string {
	if l.negotiate == nil {
		return nil
	}
	return l.negotiate.Seen()
}

// IssueCertificate registers a managed device for the user at the UEM
// (unless req names one) and has the UEM's CA issue its identity
// certificate, with the user's UPN and the device UUID in it.
func (l *Lab) IssueCertificate(user string, req uem.CertRequest) (tls.Certificate, uem.IssuedCert, error) {
	if req.DeviceUUID == "" {
		l.mu.Lock()
		l.certDevices++
		req.DeviceUUID = fmt.Sprintf("lab-%s-%d", user, l.certDevices)
		l.mu.Unlock()
		if _, err := l.UEM.AddDevice(uem.Device{UUID: req.DeviceUUID, UserID: user, Platform: "iOS", Model: "iPhone"}); err != nil {
			return tls.Certificate{}, uem.IssuedCert{}, fmt.Errorf("lab: register a device for %s: %w", user, err)
		}
	}
	ic, err := l.UEM.IssueDeviceCertificate(req)
	if err != nil {
		return tls.Certificate{}, uem.IssuedCert{}, err
	}
	c, err := tls.X509KeyPair([]byte(ic.CertPEM), []byte(ic.KeyPEM))
	return c, ic, err
}

// NewCertDevice is NewDevice for a device presenting cert (nil: none) in
// its TLS handshakes, with its own connections.
func (l *Lab) NewCertDevice(cfg device.Config, cert *tls.Certificate) (*device.Device, error) {
	tc := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // lab peers use throwaway certificates
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	if u, ok := l.User(cfg.User); ok {
		if cfg.Password == "" {
			cfg.Password = u.Password
		}
		if cfg.Email == "" {
			cfg.Email = u.Email
		}
	}
	hc := &http.Client{Timeout: l.hc.Timeout, Transport: &http.Transport{TLSClientConfig: tc, MaxIdleConnsPerHost: 4}}
	return device.New(cfg, l.DeviceURL(), hc)
}

// SetGatewayConfig edits the gateway's configuration at the UEM, as an
// administrator saving the Sentry entry does; the UEM notifies the gateway.
func (l *Lab) SetGatewayConfig(edit func(*uemapi.GatewayConfig)) error {
	g, err := l.UEM.Gateway(l.cfg.GatewayID)
	if err != nil {
		return err
	}
	c := g.Config
	edit(&c)
	_, err = l.UEM.SetGatewayConfig(l.cfg.GatewayID, c)
	return err
}
