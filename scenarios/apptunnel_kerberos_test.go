package scenarios_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

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
})
