package scenarios_test

import (
	"errors"
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/kdc"
	"github.com/gatehouse-lab/gatehouse/gateway/apptunnel"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

var _ = Describe("AppTunnel CIFS services with Kerberos", func() {
	f := fw.New()

	fw.It("opens a CIFS_ tunnel to a server given by IP only when the KDC delegates the user to its cifs/ SPN", fw.IDs("ATS-14", "ATS-11"), fw.Conformance(fw.FeatureAppTunnel, fw.FeatureKerberos), func() {
		f.AppTunnelAddr()
		echo, err := lab.TCPEcho()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(echo.Close)
		files := echo.Addr().String() // 127.0.0.1:port: a CIFS server by IP needs its SPN (ATS-14)
		user := f.NewUser()
		k := f.StartKerberosWorld(fw.KerberosOptions{Users: []string{user}, Edit: func(gc *uemapi.GatewayConfig) {
			gc.AppTunnel = uemapi.AppTunnelConfig{Enabled: true, IPTunnelSubnet: gc.AppTunnel.IPTunnelSubnet, Services: []uemapi.AppTunnelService{
				{Name: "CIFS_Files", Servers: files, ServerAuth: uemapi.AuthKerberos, SPNs: "cifs/files.corp.example"},
				{Name: "CIFS_Other", Servers: files, ServerAuth: uemapi.AuthKerberos, SPNs: "cifs/other.corp.example"}}}
		}})
		Expect(k.KDC.AddPrincipal(kdc.Principal{Name: "cifs/files.corp.example", Password: "files-secret"})).To(Succeed())
		Expect(k.KDC.AllowDelegation(fw.KerberosPrincipal, "cifs/files.corp.example")).To(Succeed())
		app, _ := f.NewApp(user, "com.example.docs")
		app.Service = "CIFS_Files"
		Eventually(func() error {
			c, _, err := app.Connect(f.Ctx(), files)
			if err != nil {
				return err
			}
			defer c.Close()
			got, err := device.Echo(c, "smb?")
			if err == nil && got != "smb?" {
				err = errors.New("echo " + got)
			}
			return err
		}).Should(Succeed(), "a CONNECT through CIFS_Files after a ticket for cifs/files.corp.example")
		other := fw.AppOnDevice(app, "com.example.docs")
		other.Service = "CIFS_Other"
		_, res, err := other.Connect(f.Ctx(), files)
		Expect(err).To(MatchError(device.ErrTunnelRefused))
		Expect(res.Status).To(Equal(http.StatusBadGateway))
		Expect(res.Refusal).To(Equal(string(apptunnel.ReasonKerberos)), "no delegation to cifs/other.corp.example: no tunnel")
	})
})
