package scenarios_test

import (
	"context"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/apptunnel"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("AppTunnel with Kerberos server authentication", func() {
	f := fw.New()

	fw.It("relays an HTTP tunnel request to a Kerberos-only server with a ticket delegated for the certificate's user", fw.IDs("ATS-11", "ATS-12", "ATS-17"), fw.Conformance(fw.FeatureAppTunnel, fw.FeatureKerberos), func() {
		f.AppTunnelAddr() // skip before anything changes when there is no listener
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}, Edit: func(gc *uemapi.GatewayConfig) {
			// The Kerberos-only Exchange is the intranet server of a
			// custom HTTP service, with TLS and the SPN it accepts.
			mail := gc.ActiveSync.Services[0]
			gc.AppTunnel = uemapi.AppTunnelConfig{Enabled: true, IPTunnelSubnet: gc.AppTunnel.IPTunnelSubnet, Services: []uemapi.AppTunnelService{
				{Name: "KrbWeb", Servers: mail.Servers, TLSEnabled: true, ServerAuth: uemapi.AuthKerberos, SPNs: mail.SPNs}}}
		}})
		app, _ := f.NewApp(user, "com.example.intranet")
		app.Service = "KrbWeb"
		Eventually(func() []string {
			_, _ = app.Get(f.Ctx(), "http://KrbWeb/Microsoft-Server-ActiveSync")
			return k.Clients()
		}).Should(ContainElement(HavePrefix(user)), "the server accepted a delegated ticket for %s", user)
	})

	fw.It("authenticates an app by a Kerberos ticket for the gateway instead of a certificate, asking for one with 407 Negotiate", fw.IDs("ATS-17"), fw.Conformance(fw.FeatureAppTunnel, fw.FeatureKerberos), func() {
		f.AppTunnelAddr()
		web := intranet()
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}, Edit: func(gc *uemapi.GatewayConfig) {
			gc.AppTunnel = uemapi.AppTunnelConfig{Enabled: true, IPTunnelSubnet: gc.AppTunnel.IPTunnelSubnet, ContextHeaders: true,
				DeviceAuth: uemapi.AppAuthKerberos, Services: []uemapi.AppTunnelService{
					{Name: uemapi.ServiceAny, ServerAuth: uemapi.AuthPassThrough}, {Name: uemapi.ServiceTCPAny, ServerAuth: uemapi.AuthPassThrough}}}
		}})
		app, uuid := f.NewApp(user, "com.example.kerberos")
		app.Cert, app.DeviceUUID = nil, uuid // no certificate: the device UUID travels in the header
		Eventually(refusal(f, app, web+"/k")).Should(Equal(string(apptunnel.ReasonNegotiate)), "no ticket: the listener asks for one")
		res := tunnelGet(f, app, web+"/k")
		Expect(res.Status).To(Equal(http.StatusProxyAuthRequired))
		Expect(res.Header.Get("Proxy-Authenticate")).To(Equal("Negotiate"))

		u := f.UserInfo(user)
		app.Kerberos = device.KerberosAuth(&kerberos.S4UClient{Principal: u.Name, Realm: k.Realm, Secret: kerberos.Secret{Password: u.Password},
			Transport: kerberos.TransportFunc(func(_ context.Context, _ string, msg []byte) ([]byte, error) { return k.KDC.Handle(msg), nil })}, fw.KerberosPrincipal)
		res = tunnelGet(f, app, web+"/k")
		Expect(res.Status).To(Equal(http.StatusOK), "with a ticket for %s: refusal %q", fw.KerberosPrincipal, res.Refusal)
		Expect(echoed(res)).To(HaveKeyWithValue("X-Mobileiron-User-Upn", HavePrefix(u.Name+"@")), "the ticket's client is the tunnel's user")
		conn, cres, err := app.Connect(f.Ctx(), strings.TrimPrefix(web, "http://"))
		Expect(err).NotTo(HaveOccurred(), "CONNECT with a ticket: %+v", cres)
		conn.Close()
	})
})
