package scenarios_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"os/exec"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// TLS towards devices (TLS-01, TLS-02, TLS-13), observed from the device
// side: handshakes of crypto/tls clients pinned to one version or one
// cipher suite, a real OpenSSL peer and curl, and the headers of device
// answers. The settings come from the UEM (tls.*), so every spec runs
// against any gateway the suite configures through the fake UEM.
var _ = Describe("TLS towards devices", func() {
	f := fw.New()

	fw.It("refuses TLS 1.0 and 1.1, accepts TLS 1.2 and 1.3, and refuses 1.2 once the UEM raises the floor to 1.3", fw.IDs("TLS-01"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
			_, err := f.Handshake(ctx, fw.TLSVersions(v))
			Expect(err).To(HaveOccurred(), "%s refused by default", tls.VersionName(v))
		}
		for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			st, err := f.Handshake(ctx, fw.TLSVersions(v))
			Expect(err).NotTo(HaveOccurred(), "%s accepted by default", tls.VersionName(v))
			Expect(st.Version).To(Equal(v))
		}
		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.IncomingMinVersion = "1.3" })
		_, err := f.Handshake(ctx, fw.TLSVersions(tls.VersionTLS12))
		Expect(err).To(HaveOccurred(), "TLS 1.2 refused under a 1.3 floor")
		_, err = f.Handshake(ctx, fw.TLSVersions(tls.VersionTLS13))
		Expect(err).NotTo(HaveOccurred())
	})

	fw.It("accepts TLS 1.1 only once the UEM selects it", fw.IDs("TLS-01"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		_, err := f.Handshake(ctx, fw.TLSVersions(tls.VersionTLS11))
		Expect(err).To(HaveOccurred())
		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.IncomingMinVersion = "1.1" })
		st, err := f.Handshake(ctx, fw.TLSVersions(tls.VersionTLS11))
		Expect(err).NotTo(HaveOccurred(), "TLS 1.1 selected at the UEM")
		Expect(st.Version).To(Equal(uint16(tls.VersionTLS11)))
	})

	fw.It("negotiates only the cipher suites of a Custom configuration, and the defaults again in Default mode", fw.IDs("TLS-02"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		const chosen, other = tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
		only := func(s uint16) *tls.Config {
			return &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{s}}
		}
		_, err := f.Handshake(ctx, only(other))
		Expect(err).NotTo(HaveOccurred(), "a default suite is offered in Default mode")

		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.IncomingCipherSuites = []string{tls.CipherSuiteName(chosen)} })
		_, err = f.Handshake(ctx, only(other))
		Expect(err).To(HaveOccurred(), "a suite outside the Custom list is refused")
		st, err := f.Handshake(ctx, only(chosen))
		Expect(err).NotTo(HaveOccurred())
		Expect(st.CipherSuite).To(Equal(chosen))

		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.IncomingCipherSuites = nil })
		_, err = f.Handshake(ctx, only(other))
		Expect(err).NotTo(HaveOccurred(), "Default mode again")
	})

	fw.It("lets a real OpenSSL client in with TLS 1.2 and 1.3 and turns it away with TLS 1.1", fw.IDs("TLS-01"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		if _, err := exec.LookPath("openssl"); err != nil {
			Skip("openssl is not installed")
		}
		sclient := func(flag string) (string, error) {
			cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", f.GatewayHostPort(), flag, "-cipher", "DEFAULT:@SECLEVEL=0")
			cmd.Stdin = strings.NewReader("Q\n")
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		for flag, proto := range map[string]string{"-tls1_2": "TLSv1.2", "-tls1_3": "TLSv1.3"} {
			out, err := sclient(flag)
			Expect(err).NotTo(HaveOccurred(), "openssl s_client %s: %s", flag, out)
			Expect(out).To(ContainSubstring("Protocol  : " + proto))
		}
		out, err := sclient("-tls1_1")
		Expect(err).To(HaveOccurred(), "openssl s_client -tls1_1 got in: %s", out)
	})

	fw.It("sends no Strict-Transport-Security header by default, and the seeds' header once the UEM turns HSTS on, with preload when asked", fw.IDs("TLS-13"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		d := f.NewDevice(f.NewUser())
		hsts := func() string {
			r, err := f.DeviceRequest(ctx, d, http.MethodOptions, "", "", nil)
			Expect(err).NotTo(HaveOccurred())
			return r.Header.Get("Strict-Transport-Security")
		}
		Expect(hsts()).To(BeEmpty(), "HSTS is off by default")
		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.HSTS = true })
		Expect(hsts()).To(Equal("max-age=31536000; includeSubDomains"))
		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.HSTS, c.TLS.HSTSPreload = true, true })
		Expect(hsts()).To(Equal("max-age=31536000; includeSubDomains; preload"))
		r, err := f.DeviceRequest(ctx, d, http.MethodPost, "", eas.CmdFolderSync, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Header.Get("Strict-Transport-Security")).NotTo(BeEmpty(), "on command answers too")
	})

	fw.It("shows curl the HSTS header the UEM turned on", fw.IDs("TLS-13"), fw.Conformance(fw.FeatureTLS), func(ctx context.Context) {
		if _, err := exec.LookPath("curl"); err != nil {
			Skip("curl is not installed")
		}
		f.EditGatewayConfig(func(c *uemapi.GatewayConfig) { c.TLS.HSTS = true })
		u := f.UserInfo(f.NewUser())
		out, err := exec.CommandContext(ctx, "curl", "-sk", "--tlsv1.2", "-o", "/dev/null", "-D", "-", "-X", "OPTIONS",
			"-u", u.Name+":"+u.Password, f.DeviceURL()+"/Microsoft-Server-ActiveSync").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "curl: %s", out)
		Expect(strings.ToLower(string(out))).To(ContainSubstring("strict-transport-security: max-age=31536000; includesubdomains"))
	})
})
