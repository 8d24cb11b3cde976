package scenarios_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/dns"
	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/kerberos"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// kdcProxyLogin runs a Kerberos AS exchange for principal@realm through
// the gateway's KDC proxy (MS-KKDCP at /KdcProxy), as a device's
// Kerberos client configured with the gateway as its KDC does.
func kdcProxyLogin(ctx context.Context, proxyURL string, hc *http.Client, principal, realm, password string) error {
	c := &kerberos.S4UClient{Principal: principal, Realm: realm, Secret: kerberos.Secret{Password: password},
		Transport: kerberos.TransportFunc(func(ctx context.Context, realm string, msg []byte) ([]byte, error) {
			body, err := kerberos.ProxyMessage{Message: msg, TargetDomain: realm}.Marshal()
			if err != nil {
				return nil, err
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, proxyURL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/kerberos")
			resp, err := hc.Do(req)
			if err != nil {
				return nil, err
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(io.LimitReader(resp.Body, kerberos.MaxProxyMessageSize))
			if err != nil {
				return nil, err
			}
			if resp.StatusCode != http.StatusOK {
				return nil, &kerberos.ProxyError{Reason: resp.Status + ": " + string(b)}
			}
			pm, err := kerberos.DecodeProxyMessage(b, kerberos.MaxProxyMessageSize)
			return pm.Message, err
		})}
	_, err := c.Login(ctx)
	return err
}

// rawFolderSync sends one FolderSync with cert and returns the HTTP
// status and body, to read the gateway's error text.
func rawFolderSync(url, user string, cert tls.Certificate) (int, string) {
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, Certificates: []tls.Certificate{cert}}}} //nolint:gosec // lab certificate
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: user, DeviceID: "RAWKRB1", DeviceType: "iPhone"}
	req, _ := http.NewRequest(http.MethodPost, url+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	resp, err := hc.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func kerberosAuthErrors(f *fw.Framework, deviceID, user string) int64 {
	cs, err := f.Gateway().StatsEntry(f.Ctx(), deviceID, user, "kerberos")
	Expect(err).NotTo(HaveOccurred())
	if i := slices.IndexFunc(cs, func(c admin.Counter) bool { return c.Name == "kerberos-auth-error" }); i >= 0 {
		return int64(cs[i].Value)
	}
	return 0
}

var _ = Describe("Kerberos constrained delegation", func() {
	f := fw.New(fw.WithLabConfig(func(c *lab.Config) { c.Kerberos = true }))

	fw.It("a device with an identity certificate syncs mail; Exchange sees its user in a Negotiate ticket", fw.IDs("KRB-09", "KRB-08"), fw.Conformance(fw.FeatureKerberos, fw.FeatureDeviceAuth), func() {
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		d := f.NewCertDevice(user, &cert)
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Expect(d.Messages()).NotTo(BeEmpty())
		Expect(f.Lab.KerberosClients()).To(ContainElement(user+"@"+f.Lab.Realm()), "Exchange accepted a ticket for %s", ic.UPN)
		Expect(f.Lab.KerberosClients()).To(HaveEach(user+"@"+f.Lab.Realm()), "every request was the certificate's user")
		Expect(f.Lab.KDC.Stats().S4U2Proxy).To(BeNumerically(">=", 1))
	})

	fw.It("a target outside the delegation list fails with a clear error and kerberos-auth-error", fw.IDs("KRB-02", "KRB-16"), fw.Introspection(fw.FeatureKerberos), func() {
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		Expect(f.Lab.SetGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.ActiveSync.Services[0].SPNs = "http/intranet.corp.example" // not in the gateway's allowed-to-delegate-to list
		})).To(Succeed())
		// Until the gateway has the new configuration the old SPN still works.
		Eventually(func() int { code, _ := rawFolderSync(f.Lab.DeviceURL(), user, cert); return code }).Should(Equal(http.StatusBadGateway))
		before, seen := kerberosAuthErrors(f, "RAWKRB1", ic.UPN), len(f.Lab.KerberosClients())
		code, body := rawFolderSync(f.Lab.DeviceURL(), user, cert)
		Expect(code).To(Equal(http.StatusBadGateway))
		Expect(body).To(And(ContainSubstring("Kerberos authentication to the ActiveSync server failed"), ContainSubstring("http/intranet.corp.example")))
		Expect(kerberosAuthErrors(f, "RAWKRB1", ic.UPN)).To(Equal(before + 1))
		Expect(f.Lab.KerberosClients()).To(HaveLen(seen), "nothing more reached Exchange")
	})

	fw.It("finds the KDC of a second realm through DNS SRV records", fw.IDs("KDC-01", "KDC-07", "DEF-07"), fw.Conformance(fw.FeatureKerberos), func() {
		const east = "EAST.EXAMPLE"
		ek, err := kdc.New(kdc.Config{Realm: east, Logger: slog.New(slog.DiscardHandler)})
		Expect(err).NotTo(HaveOccurred())
		Expect(ek.Start(context.Background())).To(Succeed())
		DeferCleanup(ek.Shutdown)
		Expect(ek.AddPrincipal(kdc.Principal{Name: "erin", Password: "erin-pw"})).To(Succeed())
		// Only DNS knows where EAST.EXAMPLE's KDC is.
		Expect(f.Lab.DNS.AddKDC(east, dns.KDC{Target: "kdc1.east.example", Port: uint16(ek.Port()), TCP: true})).To(Succeed())
		Expect(f.Lab.DNS.AddHost(dns.Host{Name: "kdc1.east.example", Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}})).To(Succeed())

		// The KDC proxy relays only to realms the gateway is configured for.
		Expect(f.Lab.SetGatewayConfig(func(gc *uemapi.GatewayConfig) {
			if !slices.Contains(gc.Kerberos.KDCProxyRealms, east) {
				gc.Kerberos.KDCProxyRealms = append(gc.Kerberos.KDCProxyRealms, east)
			}
		})).To(Succeed())
		Eventually(func() error {
			return kdcProxyLogin(f.Ctx(), f.Lab.DeviceURL()+"/KdcProxy", f.Lab.HTTPClient(), "erin", east, "erin-pw")
		}).Should(Succeed())
		Expect(ek.Stats().AS).To(BeNumerically(">=", 1), "the second realm's KDC answered")
		Expect(f.Lab.DNS.Stats()).NotTo(Equal(dns.Stats{}), "through DNS")
	})

	fw.It("with discovery disabled and no KDC configured, no ticket is had and the device gets an error", fw.IDs("KDC-05", "KDC-08"), fw.Introspection(fw.FeatureKerberos), func() {
		user := f.NewUser()
		cert, ic := f.IssueCertificate(user, uem.CertRequest{})
		Expect(f.Lab.SetGatewayConfig(func(gc *uemapi.GatewayConfig) {
			gc.Kerberos.KDCs, gc.Kerberos.DNSDiscovery = "", false
		})).To(Succeed())
		Eventually(func() string {
			i, err := f.Gateway().KerberosInfo(f.Ctx())
			if err != nil {
				return err.Error()
			}
			return i.LastError
		}).Should(ContainSubstring("DNS discovery is disabled"))
		code, body := rawFolderSync(f.Lab.DeviceURL(), user, cert)
		Expect(code).To(Equal(http.StatusBadGateway))
		Expect(body).To(ContainSubstring("DNS discovery is disabled"))
		Expect(kerberosAuthErrors(f, "RAWKRB1", ic.UPN)).To(Equal(int64(1)))
		Expect(f.Lab.KerberosClients()).To(BeEmpty())
	})
})
