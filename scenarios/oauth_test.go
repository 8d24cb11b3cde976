package scenarios_test

import (
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/idp"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// exchangeRequests counts the requests of a device the lab's Exchange saw.
func exchangeRequests(f *fw.Framework, d *device.Device) int {
	return len(f.Lab.Exchange.Requests(exchange.JournalFilter{Device: d.ID()}))
}

var _ = Describe("OAuth pass-through", func() {
	f := fw.New(fw.WithOAuth())

	fw.It("a device signs in through the gateway's /proxyservice/oauth2 endpoints and syncs with a bearer token", fw.IDs("OAU-01", "OAU-02", "OAU-04", "OAU-06"), fw.Conformance(fw.FeatureOAuth), func() {
		for _, class := range []struct {
			platform device.Platform
			class    device.Class
		}{{device.IOS, device.Native}, {device.IOS, device.SecureApp}, {device.Android, device.SecureApp}} {
			d := f.NewOAuthDevice(f.NewUser(), func(c *device.Config) { c.Platform, c.Class = class.platform, class.class })
			Expect(d.Connect(f.Ctx())).To(Succeed(), "%s %s", class.platform, class.class)
			Expect(d.Messages()).NotTo(BeEmpty())
			signIns, _ := d.OAuthCounts()
			Expect(signIns).To(Equal(1))
			Expect(f.ReachedExchange(d)).To(BeTrue())
			a, err := f.Association(d)
			Expect(err).NotTo(HaveOccurred(), "the UEM knows the device under the token's user")
			Expect(a.DeviceID).To(Equal(d.ID()))
			Expect(a.SyncStatus).To(Equal("Allowed"))
		}
		Expect(f.Lab.IdP.Counts().CARefusals).To(BeZero(), "the IdP saw only the gateway")
	})

	fw.It("a Basic device and an OAuth device of the same user both sync", fw.IDs("OAU-01"), fw.Conformance(fw.FeatureOAuth), func() {
		user := f.NewUser()
		basic := f.NewDevice(user)
		modern := f.NewOAuthDevice(user)
		Expect(basic.Connect(f.Ctx())).To(Succeed())
		Expect(modern.Connect(f.Ctx())).To(Succeed())
	})

	fw.It("a blocked OAuth device is refused before Exchange sees its token", fw.IDs("OAU-04"), fw.Conformance(fw.FeatureOAuth, fw.FeatureBlock), func() {
		d := f.NewOAuthDevice(f.NewUser())
		f.Register(d)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		f.Act(d, uem.ActBlock, "lost")
		Eventually(func() device.State { _, _ = d.Sync(f.Ctx()); return d.State() }).Should(Equal(device.Blocked))
		seen := exchangeRequests(f, d)
		_, err := d.Sync(f.Ctx())
		Expect(err).To(MatchError(device.ErrBlocked))
		Expect(exchangeRequests(f, d)).To(Equal(seen), "nothing of the blocked device reached Exchange")
	})

	fw.It("an expired token is challenged by the gateway; the device refreshes it and syncs", fw.IDs("OAU-04"), fw.Conformance(fw.FeatureOAuth), func() {
		d := f.NewOAuthDevice(f.NewUser())
		Expect(f.Lab.IdP.SetFaults(idp.Faults{ExpiredTokens: true})).To(Succeed())
		Expect(d.SignIn(f.Ctx())).To(Succeed())
		Expect(f.Lab.IdP.SetFaults(idp.Faults{})).To(Succeed())
		seen := exchangeRequests(f, d)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Saw("", http.StatusUnauthorized, 0)).To(BeTrue(), "the expired token was challenged")
		_, refreshes := d.OAuthCounts()
		Expect(refreshes).To(Equal(1))
		Expect(exchangeRequests(f, d)).To(BeNumerically(">", seen))

		// The challenge a device without a token gets points at the gateway.
		req, _ := http.NewRequest(http.MethodPost, f.Lab.DeviceURL()+"/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=x&DeviceId=CHALLENGE1&DeviceType=iPhone", nil)
		req.Header.Set("MS-ASProtocolVersion", "14.1")
		req.Header.Set("Authorization", "Bearer expired.or.junk")
		resp, err := f.Lab.HTTPClient().Do(req)
		Expect(err).NotTo(HaveOccurred())
		_ = resp.Body.Close()
		Expect(resp.StatusCode).To(Equal(http.StatusUnauthorized))
		Expect(resp.Header.Get("WWW-Authenticate")).To(HavePrefix(`Bearer authorization_uri="` + f.Lab.DeviceURL() + `/proxyservice/oauth2/authorize"`))
	})

	fw.It("conditional access refuses a device that skips the gateway", fw.IDs("OAU-07"), fw.Conformance(fw.FeatureOAuth), func() {
		user := f.NewUser()
		u, _ := f.Lab.User(user)
		direct, err := device.New(device.Config{ID: "SKIPPER" + strings.ToUpper(user), User: user, Password: u.Password,
			OAuth: &device.OAuthConfig{AuthorityURL: strings.TrimSuffix(f.Lab.IdP.AuthorizeURL(), "/oauth2/authorize"), Resource: exchange.ExchangeOnlineResource}},
			f.Lab.Exchange.URL(), fw.ClientFrom("127.0.0.3"))
		Expect(err).NotTo(HaveOccurred())
		Expect(direct.Connect(f.Ctx())).To(MatchError(device.ErrSignIn), "the IdP refuses a sign-in from outside the trusted location")
		Expect(f.Lab.IdP.Counts().CARefusals).To(BeNumerically(">=", 1))

		// A token got through the gateway is refused at Exchange when the
		// device presents it there itself.
		d := f.NewOAuthDevice(user)
		Expect(d.SignIn(f.Ctx())).To(Succeed())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		skipping, err := device.New(device.Config{ID: d.ID(), User: user, Password: u.Password, OAuth: f.OAuthThroughGateway()}, f.Lab.Exchange.URL(), fw.ClientFrom("127.0.0.3"))
		Expect(err).NotTo(HaveOccurred())
		Expect(skipping.SignIn(f.Ctx())).To(Succeed(), "signing in through the gateway works from anywhere")
		Expect(skipping.Provision(f.Ctx())).NotTo(Succeed(), "Exchange refuses the token from the device's own address")
		Expect(skipping.Saw("", http.StatusUnauthorized, 0)).To(BeTrue())
	})

	fw.It("after a key rotation at the IdP, tokens of the new key are accepted", fw.IDs("OAU-04"), fw.Conformance(fw.FeatureOAuth), func() {
		d := f.NewOAuthDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		_, err := f.Lab.IdP.RotateKey(true)
		Expect(err).NotTo(HaveOccurred())
		Expect(d.SignIn(f.Ctx())).To(Succeed(), "a token of the new key")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(Succeed(), "the gateway and Exchange fetch the new key set")
		Expect(f.Lab.IdP.Counts().SignIns).To(BeNumerically(">=", 2))
	})

	fw.It("a wipe is delivered to an OAuth device", fw.IDs("OAU-06"), fw.Conformance(fw.FeatureOAuth, fw.FeatureWipe), func() {
		d := f.NewOAuthDevice(f.NewUser(), func(c *device.Config) { c.Platform = device.Android })
		f.Register(d)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		f.Act(d, uem.ActWipe, "stolen")
		Eventually(func() device.State { _, _ = d.Sync(f.Ctx()); return d.State() }).Should(Equal(device.Wiped))
		Expect(d.Messages()).To(BeEmpty())
		Eventually(func() bool { a, _ := f.Association(d); return !a.WipeAcked.IsZero() }).Should(BeTrue(), "the UEM got the acknowledgement")
	})

	// OAU-08: the MFA topology (docs/oauth.md). The device's Tunnel app
	// carries its sign-in at the IdP through a second gateway's AppTunnel
	// (<ANY>, login.* only), so conditional access sees a gateway's
	// address; ActiveSync goes to the ActiveSync gateway with the token.
	fw.It("with MFA, a second gateway tunnels login.windows.net and login.microsoftonline.com for the sign-in", fw.IDs("OAU-08", "OAU-07"), fw.Conformance(fw.FeatureOAuth, fw.FeatureAppTunnel), func() {
		mfa := f.StartMFAGateway()
		user := f.NewUser()
		u, _ := f.Lab.User(user)
		authorize, _ := url.Parse(f.Lab.IdP.AuthorizeURL())
		signIn := &device.OAuthConfig{AuthorityURL: strings.TrimSuffix(authorize.String(), "/oauth2/authorize"), Resource: exchange.ExchangeOnlineResource}
		cert, issued := f.IssueCertificate(user, uem.CertRequest{})
		tunnel := &device.App{Tunnel: mfa.TunnelAddr(), Cert: &cert, BundleID: "com.mobileiron.tunnel", Service: uemapi.ServiceAny}

		// The same sign-in made directly by the device is refused.
		direct, err := device.New(device.Config{ID: f.FreshDeviceID(), User: user, Password: u.Password, OAuth: signIn}, f.Lab.DeviceURL(), fw.ClientFrom("127.0.0.3"))
		Expect(err).NotTo(HaveOccurred())
		refused := f.Lab.IdP.Counts().CARefusals
		Expect(direct.SignIn(f.Ctx())).To(MatchError(device.ErrSignIn))
		Expect(f.Lab.IdP.Counts().CARefusals).To(BeNumerically(">", refused), "conditional access refused the device's own address")

		// Through the tunnel it is accepted; the token syncs through the
		// ActiveSync gateway.
		d, err := device.New(device.Config{ID: f.FreshDeviceID(), User: user, Password: u.Password, OAuth: signIn}, f.Lab.DeviceURL(),
			fw.SplitTunnelClient(tunnel, []string{authorize.Host}, "127.0.0.3"))
		Expect(err).NotTo(HaveOccurred())
		refused = f.Lab.IdP.Counts().CARefusals
		Expect(d.SignIn(f.Ctx())).To(Succeed(), "the tunnelled sign-in reaches the IdP from the MFA gateway")
		Expect(f.Lab.IdP.Counts().CARefusals).To(Equal(refused))
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Messages()).NotTo(BeEmpty())
		Expect(f.ReachedExchange(d)).To(BeTrue())
		a, err := f.Association(d)
		Expect(err).NotTo(HaveOccurred(), "the ActiveSync gateway knows the device under the token's user")
		Expect(a.SyncStatus).To(Equal("Allowed"))
		_, ok := f.AppTunnel(user, "com.mobileiron.tunnel", issued.DeviceUUID)
		Expect(ok).To(BeTrue(), "the UEM lists the MFA gateway's tunnel")

		// The MFA gateway's tunnel carries the sign-in hosts only.
		_, res, err := tunnel.Connect(f.Ctx(), "intranet.corp.example:443")
		Expect(err).To(MatchError(device.ErrTunnelRefused))
		Expect(res.Refusal).To(Equal("outside-wildcard"))
	})
})
