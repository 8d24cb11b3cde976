package framework

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Kerberos constrained delegation as the UEM configures it (KRB-03,
// KRB-04, KRB-08, KRB-09): the spec starts its own KDC and an Exchange
// that accepts only Kerberos tickets, and has the UEM point the
// gateway's ActiveSync service at that Exchange with Kerberos server
// authentication and the KDC's address. Nothing here goes through DNS or
// a bootstrap setting, so it runs against any gateway that takes its
// configuration from the fake UEM and can reach 127.0.0.1.

// KerberosPrincipal is the gateway's service principal in a
// KerberosWorld (KRB-04's "Sentry Service Principal").
const KerberosPrincipal = "HTTP/gatehouse-kcd"

// KerberosOptions shape a KerberosWorld.
type KerberosOptions struct {
	// Users are the world's users to make principals (and mailboxes) for.
	Users []string
	// TicketLifetime of the KDC's tickets; its default (10h) when zero.
	TicketLifetime time.Duration
	// Keytab delivers the gateway's key as a keytab (KRB-03) instead of
	// realm, principal and password (KRB-04).
	Keytab bool
	// SPN is the mail service's principal; http/krbmail.corp.example when
	// empty.
	SPN string
	// Edit changes the configuration before the UEM delivers it.
	Edit func(*uemapi.GatewayConfig)
}

// KerberosWorld is a KDC and a Kerberos-only Exchange of the spec.
type KerberosWorld struct {
	Realm    string
	SPN      string // the mail service's, the one the gateway may delegate to
	KDC      *kdc.Server
	Exchange *exchange.Server
	auth     *exchange.NegotiateAuthenticator
}

// Clients are the "user@REALM" the Exchange accepted tickets for, in order.
func (k *KerberosWorld) Clients() []string { return k.auth.Seen() }

// StartKerberosWorld starts a KDC for CORP.EXAMPLE (the realm of the
// UEM's certificates' UPNs) and an Exchange accepting only its tickets
// for SPN, and has the UEM deliver the configuration: identity
// certificates, the default service on that Exchange with Kerberos, the
// KDC by address. All is undone after the spec.
func (f *Framework) StartKerberosWorld(o KerberosOptions) *KerberosWorld {
	if RemoteFakes() {
		ginkgo.Skip("Kerberos delegation: the spec's own KDC and Exchange run in this process, which the gateway under test must reach; remote fakes have none")
	}
	const secret = "gatehouse-kcd-secret"
	k := &KerberosWorld{Realm: "CORP.EXAMPLE", SPN: o.SPN}
	if k.SPN == "" {
		k.SPN = "http/krbmail.corp.example"
	}
	kd, err := kdc.New(kdc.Config{Realm: k.Realm, TicketLifetime: o.TicketLifetime, Logger: suiteLogger().With("component", "spec-kdc")})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(kd.Start(context.Background())).To(gomega.Succeed())
	ginkgo.DeferCleanup(kd.Shutdown)
	k.KDC = kd
	gomega.Expect(kd.AddPrincipal(kdc.Principal{Name: KerberosPrincipal, Password: secret})).To(gomega.Succeed())
	gomega.Expect(kd.AddPrincipal(kdc.Principal{Name: k.SPN, Password: "mail-" + nonce()})).To(gomega.Succeed())
	var users []exchange.User
	for _, name := range o.Users {
		u := f.UserInfo(name)
		gomega.Expect(kd.AddPrincipal(kdc.Principal{Name: u.Name, Password: u.Password})).To(gomega.Succeed())
		users = append(users, exchange.User{Name: u.Name, Email: u.Email, Password: u.Password})
	}
	gomega.Expect(kd.AllowDelegation(KerberosPrincipal, k.SPN)).To(gomega.Succeed())
	kt, err := kd.Keytab(k.SPN)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	k.auth = &exchange.NegotiateAuthenticator{Keytab: kt, Realm: k.Realm}
	x, err := exchange.New(exchange.Config{Addr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Domain: "corp.example", Users: users,
		MessagesPerUser: 2, Seed: 11, MinHeartbeat: 1, Authenticator: k.auth, Logger: suiteLogger().With("component", "spec-exchange")})
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(x.Start(context.Background())).To(gomega.Succeed())
	ginkgo.DeferCleanup(x.Shutdown)
	k.Exchange = x

	kc := &uemapi.KerberosConfig{Realm: k.Realm, ServicePrincipal: KerberosPrincipal, Password: secret, KDCs: kd.Addr()}
	if o.Keytab {
		raw, err := kd.KeytabBytes(KerberosPrincipal)
		gomega.Expect(err).NotTo(gomega.HaveOccurred())
		kc = &uemapi.KerberosConfig{UseKeytab: true, Keytab: raw, KDCs: kd.Addr()}
	}
	ca := f.IdentityCertificates()
	f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) {
		gc.DeviceAuth = ca
		// Kerberos serves one ActiveSync service: the conformance
		// world's second one is left out while the spec runs.
		gc.ActiveSync.Services = gc.ActiveSync.Services[:1]
		svc := &gc.ActiveSync.Services[0]
		svc.Servers, svc.ServerTLS, svc.ServerAuth, svc.SPNs, svc.DeriveSPN = x.Addr(), true, uemapi.AuthKerberos, k.SPN, false
		gc.Kerberos = kc
		if o.Edit != nil {
			o.Edit(gc)
		}
	})
	return k
}

// RealmOf is the realm part of "user@REALM".
func RealmOf(principal string) string {
	if i := strings.LastIndexByte(principal, '@'); i >= 0 {
		return principal[i+1:]
	}
	return ""
}

// cloneConfig is a deep copy of c (services, realms and lists included).
func cloneConfig(c uemapi.GatewayConfig) uemapi.GatewayConfig {
	raw, err := json.Marshal(c)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	var out uemapi.GatewayConfig
	gomega.Expect(json.Unmarshal(raw, &out)).To(gomega.Succeed())
	return out
}
