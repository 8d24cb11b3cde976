package scenarios_test

import (
	"encoding/json"
	"net/http"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// intranet starts a header-echo web server for the spec.
func intranet() string {
	s := lab.HeaderEcho()
	DeferCleanup(s.Close)
	return s.URL
}

// tunnelGet is one GET through the tunnel; it fails the spec on a
// transport error (a refusal is an answer).
func tunnelGet(f *fw.Framework, a *device.App, url string) device.AppResult {
	res, err := a.Get(f.Ctx(), url)
	ExpectWithOffset(1, err).NotTo(HaveOccurred())
	return res
}

// refusal polls the reason the gateway gives the app (Eventually).
func refusal(f *fw.Framework, a *device.App, url string) func() string {
	return func() string {
		res, err := a.Get(f.Ctx(), url)
		if err != nil {
			return "error: " + err.Error()
		}
		return res.Refusal
	}
}

// echoed decodes what the header-echo server received.
func echoed(res device.AppResult) map[string]string {
	m := map[string]string{}
	ExpectWithOffset(1, json.Unmarshal(res.Body, &m)).To(Succeed(), "the intranet server's echo: %s", res.Body)
	return m
}

var _ = Describe("AppTunnel", func() {
	f := fw.New()

	fw.It("lets an app reach an intranet page through <ANY> on its first access and lists the tunnel in the UEM", fw.IDs("FLOW-06", "ATM-01", "ATS-04", "ATS-18"), fw.Conformance(fw.FeatureAppTunnel), func() {
		f.UseAppTunnel(nil)
		web := intranet()
		user := f.NewUser()
		app, uuid := f.NewApp(user, "com.example.browser")
		res := tunnelGet(f, app, web+"/wiki")
		Expect(res.Status).To(Equal(http.StatusOK), "refusal %q", res.Refusal)
		Expect(echoed(res)["Path"]).To(Equal("/wiki"))
		t, ok := f.AppTunnel(user, "com.example.browser", uuid)
		Expect(ok).To(BeTrue(), "the UEM's AppTunnels view lists the tunnel")
		Expect(t.State).To(Equal(uemapi.TunnelAllow))
		Expect(t.Version).To(Equal(uemapi.TunnelV1))
	})

	fw.It("keeps one tunnel per user, app and device, and carries TCP through <TCP_ANY> as a V2 tunnel", fw.IDs("SCOPE-10", "ATS-03", "ATS-18"), fw.Conformance(fw.FeatureAppTunnel), func() {
		f.UseAppTunnel(nil)
		echo, err := lab.TCPEcho()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(echo.Close)
		user := f.NewUser()
		tcp, uuid := f.NewApp(user, "com.example.tcp")
		c, res, err := tcp.Connect(f.Ctx(), echo.Addr().String())
		Expect(err).NotTo(HaveOccurred(), "refusal %q", res.Refusal)
		Expect(device.Echo(c, "hello\n")).To(Equal("hello\n"))
		c.Close()
		web := fw.AppOnDevice(tcp, "com.example.web")
		Expect(tunnelGet(f, web, intranet()+"/").Status).To(Equal(http.StatusOK))
		t, ok := f.AppTunnel(user, "com.example.tcp", uuid)
		Expect(ok).To(BeTrue())
		Expect(t.Version).To(Equal(uemapi.TunnelV2))
		_, ok = f.AppTunnel(user, "com.example.web", uuid)
		Expect(ok).To(BeTrue(), "the second app of the device has its own tunnel")
	})

	fw.It("refuses an app the UEM does not authorise on the device", fw.IDs("FLOW-06", "ATM-05"), fw.Conformance(fw.FeatureAppTunnel), func() {
		f.UseAppTunnel(nil)
		web := intranet()
		user := f.NewUser()
		app, uuid := f.NewAppAuthorized(user, "com.rogue.app", "com.example.mail")
		res := tunnelGet(f, app, web+"/")
		Expect(res.Status).To(Equal(http.StatusForbidden))
		Expect(res.Refusal).To(Equal("tunnel-blocked"))
		t, ok := f.AppTunnel(user, "com.rogue.app", uuid)
		Expect(ok).To(BeTrue())
		Expect(t.State).To(Equal(uemapi.TunnelBlock))
		Expect(tunnelGet(f, fw.AppOnDevice(app, "com.example.mail"), web+"/").Status).To(Equal(http.StatusOK), "the authorised app of the same device")
	})

	fw.It("applies the administrator's Block at once, and a removed tunnel's next use is a first access again", fw.IDs("ATM-02", "ATM-03"), fw.Conformance(fw.FeatureAppTunnel), func() {
		f.UseAppTunnel(nil)
		web := intranet()
		user := f.NewUser()
		app, uuid := f.NewApp(user, "com.example.crm")
		Expect(tunnelGet(f, app, web+"/").Status).To(Equal(http.StatusOK))
		t, _ := f.AppTunnel(user, "com.example.crm", uuid)
		f.ActOnTunnel(t.ID, "block")
		Eventually(refusal(f, app, web+"/")).Should(Equal("tunnel-blocked"))
		f.ActOnTunnel(t.ID, "remove")
		Eventually(refusal(f, app, web+"/")).Should(BeEmpty(), "a removed tunnel is forgotten and decided again")
		again, ok := f.AppTunnel(user, "com.example.crm", uuid)
		Expect(ok).To(BeTrue(), "the first access again created a tunnel")
		Expect(again.ID).NotTo(Equal(t.ID))
	})

	fw.It("blocks every app of a device with Block App Tunnels and lets them in again with Allow App Tunnels", fw.IDs("ATM-04"), fw.Conformance(fw.FeatureAppTunnel), func() {
		f.UseAppTunnel(nil)
		web := intranet()
		user := f.NewUser()
		mail, uuid := f.NewApp(user, "com.example.mail")
		docs := fw.AppOnDevice(mail, "com.example.docs")
		Expect(tunnelGet(f, mail, web+"/").Status).To(Equal(http.StatusOK))
		Expect(tunnelGet(f, docs, web+"/").Status).To(Equal(http.StatusOK))
		f.BlockAppTunnels(uuid, true)
		Eventually(refusal(f, mail, web+"/")).Should(Equal("device-blocked"))
		Eventually(refusal(f, docs, web+"/")).Should(Equal("device-blocked"))
		f.BlockAppTunnels(uuid, false)
		Eventually(refusal(f, mail, web+"/")).Should(BeEmpty())
	})

	fw.It("lets a new tunnel in while the UEM is unreachable and applies the UEM's decision once it is back", fw.IDs("FLOW-07", "FLOW-12"), fw.Conformance(fw.FeatureAppTunnel, fw.FeatureFailOpen), func() {
		f.UseAppTunnel(nil)
		web := intranet()
		user := f.NewUser()
		app, _ := f.NewAppAuthorized(user, "com.unlisted.app", "com.example.mail")
		f.UEMDown(true)
		res := tunnelGet(f, app, web+"/")
		Expect(res.Status).To(Equal(http.StatusOK), "fail-open for tunnels, refusal %q", res.Refusal)
		f.UEMDown(false)
		Eventually(refusal(f, app, web+"/")).Should(Equal("tunnel-blocked"), "the resync reports the tunnel and applies the UEM's block")
	})

	fw.It("keeps a blocked tunnel blocked across a restart with the UEM down", fw.IDs("ATM-02", "DC-03"), fw.Disruptive(fw.FeatureAppTunnel, fw.FeaturePersistence), func() {
		f.UseAppTunnel(nil)
		web := intranet()
		user := f.NewUser()
		app, uuid := f.NewApp(user, "com.example.notes")
		Expect(tunnelGet(f, app, web+"/").Status).To(Equal(http.StatusOK))
		t, _ := f.AppTunnel(user, "com.example.notes", uuid)
		f.ActOnTunnel(t.ID, "block")
		Eventually(refusal(f, app, web+"/")).Should(Equal("tunnel-blocked"))
		f.UEMDown(true)
		DeferCleanup(func() { f.UEMDown(false) }) // before the configuration is put back
		f.RestartGateway()
		app.Tunnel = f.AppTunnelAddr()
		Eventually(refusal(f, app, web+"/")).Should(Equal("tunnel-blocked"))
	})
})

var _ = Describe("AppTunnel traffic control", func() {
	f := fw.New()

	fw.It("applies the first matching rule in list order and the default action, and ATC-blocked traffic creates no tunnel", fw.IDs("ATC-07", "ATC-08", "ATC-10", "ATC-11", "ATC-15"), fw.Conformance(fw.FeatureATC, fw.FeatureAppTunnel), func() {
		proxy := newRecordingProxy()
		web := intranet() // http://127.0.0.1:port
		f.UseAppTunnel(func(at *uemapi.AppTunnelConfig, tc *uemapi.TrafficControl) {
			at.Services[0].ProxyATC = true
			*tc = uemapi.TrafficControl{Mode: uemapi.TrafficATC, Proxies: []uemapi.ProxyServer{proxy.server("corp")},
				Rules: []uemapi.TrafficRule{
					{AppID: "com.blocked.*", Action: uemapi.ActionBlock},
					{AppID: "com.blocked.butlisted", Action: uemapi.ActionAllow}, // after the Block: never reached
					{DestinationHost: "ANY_IP", AppID: "com.direct", Action: uemapi.ActionAllow},
				},
				DefaultAction: uemapi.ActionProxy, DefaultProxy: "corp"}
		})
		user := f.NewUser()
		direct, uuid := f.NewApp(user, "com.direct")
		Expect(tunnelGet(f, direct, web+"/direct").Status).To(Equal(http.StatusOK))
		Expect(proxy.saw("/direct")).To(BeFalse(), "Allow goes direct")
		other := fw.AppOnDevice(direct, "com.other")
		Expect(tunnelGet(f, other, web+"/proxied").Status).To(Equal(http.StatusOK))
		Expect(proxy.saw("/proxied")).To(BeTrue(), "no rule matched: the default action Proxy")
		blocked := fw.AppOnDevice(direct, "com.blocked.butlisted")
		res := tunnelGet(f, blocked, web+"/blocked")
		Expect(res.Status).To(Equal(http.StatusForbidden))
		Expect(res.Refusal).To(Equal("atc-blocked"), "the Block rule listed first wins")
		_, ok := f.AppTunnel(user, "com.blocked.butlisted", uuid)
		Expect(ok).To(BeFalse(), "ATC-blocked traffic creates no tunnel in the UEM")
	})
})

var _ = Describe("AppTunnel context headers", func() {
	f := fw.New()

	fw.It("adds the four context headers to HTTP tunnel requests, replacing any the app sent", fw.IDs("CTX-01", "CTX-02", "CTX-03"), fw.Conformance(fw.FeatureContextHeaders, fw.FeatureAppTunnel), func() {
		f.UseAppTunnel(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) { at.ContextHeaders = true })
		user := f.NewUser()
		app, uuid := f.NewApp(user, "com.example.browser")
		got := echoed(tunnelGet(f, app, intranet()+"/"))
		Expect(got["X-Mobileiron-Device-Uuid"]).To(Equal(uuid))
		Expect(strings.ToLower(got["X-Mobileiron-User-Upn"])).To(HavePrefix(strings.ToLower(user)))
		Expect(got["X-Mobileiron-User-Cert"]).NotTo(BeEmpty())
		Expect(got["X-Mobileiron-User-Cert"]).NotTo(ContainSubstring("BEGIN"), "the certificate without its PEM armour")
		Expect(got).NotTo(HaveKey("X-Gatehouse-App-Id"), "the tunnel protocol's headers stay at the gateway")
	})

	fw.It("adds them to the CONNECT sent to the server-side explicit proxy", fw.IDs("CTX-04", "ATC-01", "ATC-03"), fw.Conformance(fw.FeatureContextHeaders, fw.FeatureATC, fw.FeatureAppTunnel), func() {
		proxy := newRecordingProxy()
		echo, err := lab.TCPEcho()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(echo.Close)
		f.UseAppTunnel(func(at *uemapi.AppTunnelConfig, tc *uemapi.TrafficControl) {
			at.ContextHeaders = true
			at.Services[1].ProxyATC = true
			p := proxy.server("")
			*tc = uemapi.TrafficControl{Mode: uemapi.TrafficProxy, Proxy: &p}
		})
		user := f.NewUser()
		app, uuid := f.NewApp(user, "com.example.tcp")
		c, res, err := app.Connect(f.Ctx(), echo.Addr().String())
		Expect(err).NotTo(HaveOccurred(), "refusal %q", res.Refusal)
		Expect(device.Echo(c, "x\n")).To(Equal("x\n"))
		c.Close()
		Expect(proxy.connectHeader(echo.Addr().String(), "X-MobileIron-DEVICE-UUID")).To(Equal(uuid))
	})
})
