package scenarios_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// Counters and alerts after a known sequence of device traffic, read
// back through the admin API only (labels statistics and alerts, see
// audit_stats_test.go for the audit specs and why these run against
// another gateway given its admin URL).

// countingDevice is a device with an HTTP client of its own that counts
// the TCP connections it dials and keeps at most one open, so that a spec
// compares the gateway's connection counters with what the device did.
func countingDevice(f *fw.Framework, user string, opts ...func(*device.Config)) (*device.Device, *http.Transport, *atomic.Int64) {
	var tlsConf *tls.Config
	if base, ok := f.HTTPClient().Transport.(*http.Transport); ok && base.TLSClientConfig != nil {
		tlsConf = base.TLSClientConfig.Clone()
	}
	dials := new(atomic.Int64)
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	tr := &http.Transport{TLSClientConfig: tlsConf, MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		}}
	DeferCleanup(tr.CloseIdleConnections)
	cfg := device.Config{ID: f.FreshDeviceID(), User: user, Password: f.UserInfo(user).Password}
	for _, o := range opts {
		o(&cfg)
	}
	d, err := device.New(cfg, f.DeviceURL(), &http.Client{Transport: tr, Timeout: 30 * time.Second})
	Expect(err).NotTo(HaveOccurred())
	return d, tr, dials
}

// collectEvery runs statistics collection at the interval for the spec
// (STA-08, changed at run time), and restores the collection after it.
func collectEvery(f *fw.Framework, interval string) {
	gw := f.Gateway()
	was, err := gw.StatsCollection(f.Ctx())
	Expect(err).NotTo(HaveOccurred())
	on := true
	_, err = gw.SetStatsCollection(f.Ctx(), &on, &interval)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		_, err := gw.SetStatsCollection(ctx, &was.Enabled, &was.Interval)
		Expect(err).NotTo(HaveOccurred())
	})
}

// cacheConnections is the device's Cn in the device cache.
func cacheConnections(f *fw.Framework, d *device.Device) uint32 {
	rows, err := f.Gateway().ByDevice(f.Ctx(), d.ID())
	Expect(err).NotTo(HaveOccurred())
	Expect(rows).To(HaveLen(1), "one cache entry for the device")
	return rows[0].Connections
}

var _ = Describe("Statistics of a known sequence", func() {
	f := fw.New()

	fw.It("OPTIONS, Provision, FolderSync, Sync and Ping each count in their command counter, and every request is permitted, relayed and answered", fw.IDs("STA-01", "STA-02", "STA-04"), fw.Introspection(fw.FeatureStatistics), func() {
		d, _, _ := countingDevice(f, f.NewUser()) // one connection: the OPTIONS counts for the device that used it
		Expect(d.Connect(f.Ctx())).To(Succeed())
		_, _, err := d.Ping(f.Ctx(), 1)
		Expect(err).NotTo(HaveOccurred())
		n := uint64(len(d.Records())) // ActiveSync commands; OPTIONS names no device (docs/gateway.md)
		_, err = d.Raw(f.Ctx(), device.RawRequest{Method: http.MethodOptions})
		Expect(err).NotTo(HaveOccurred())
		cmds := map[eas.Command]uint64{}
		for _, r := range d.Records() {
			cmds[r.Cmd]++
		}
		var c map[string]uint64
		Eventually(func() uint64 { c = counters(f, d); return c["d-http-responses"] }).Should(Equal(n), func() string { return fmt.Sprint("every request answered: ", c) })
		Expect(c["cmd-options"]).To(Equal(uint64(1)))
		Expect(c["cmd-provision"]).To(Equal(cmds[eas.CmdProvision]))
		Expect(c["cmd-folder-sync"]).To(Equal(uint64(1)))
		Expect(c["cmd-sync"]).To(Equal(cmds[eas.CmdSync]))
		Expect(c["cmd-ping"]).To(Equal(uint64(1)))
		Expect(c["d-http-requests"]).To(Equal(n))
		Expect(c["s-http-requests"]).To(Equal(n))
		Expect(c["s-http-responses"]).To(Equal(n))
		Expect(c["permits"]).To(Equal(n))
		Expect(c["http-status-200"]).To(Equal(n))
		Expect(c["d-bytes-rcvd"]).To(BeNumerically(">", 0), "the device's bytes are counted")
		Expect(c["d-bytes-sent"]).To(BeNumerically(">", 0))
		for _, zero := range []string{"blocks", "wipes", "pendings", "d-http-449", "http-status-5xx", "d-unclassified"} {
			Expect(c[zero]).To(BeZero(), zero)
		}
	})

	fw.It("d-connection and the cache's Cn count the device's connections, not its requests", fw.IDs("STA-01", "DC-14"), fw.Introspection(fw.FeatureStatistics), func() {
		d, tr, dials := countingDevice(f, f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed()) // on one kept-alive connection
		for range 3 {
			tr.CloseIdleConnections() // a new connection for each Sync
			_, err := d.Sync(f.Ctx())
			Expect(err).NotTo(HaveOccurred())
		}
		tr.CloseIdleConnections()
		Expect(dials.Load()).To(BeNumerically("<", len(d.Records())), "the device reused a connection: requests and connections differ")
		want := uint64(dials.Load())
		Eventually(func() uint64 { return counters(f, d)["d-connection"] }).Should(Equal(want), "one per connection the device opened")
		Expect(uint64(cacheConnections(f, d))).To(Equal(want), "Cn counts connections too")
		Expect(counters(f, d)["d-http-requests"]).To(Equal(uint64(len(d.Records()))))
	})

	fw.It("a request before provisioning counts one d-http-449 and one s-http-449, and is not an error", fw.IDs("STA-01", "STA-04"), fw.Introspection(fw.FeatureStatistics), func() {
		d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Version = eas.V121 })
		r, err := d.Raw(f.Ctx(), device.RawRequest{Cmd: eas.CmdFolderSync, Body: folderSyncBody()})
		Expect(err).NotTo(HaveOccurred())
		Expect(r.Status).To(Equal(eas.HTTPRetryWith), "12.1: Exchange asks for provisioning with HTTP 449")
		var c map[string]uint64
		Eventually(func() uint64 { c = counters(f, d); return c["d-http-449"] }).Should(Equal(uint64(1)), func() string { return fmt.Sprint(c) })
		Expect(c["s-http-449"]).To(Equal(uint64(1)))
		Expect(c["d-http-requests"]).To(Equal(uint64(1)))
		Expect(c["http-status-5xx"]).To(BeZero())
	})

	fw.It("an Exchange 503 counts in d-http-503-s2c and http-status-5xx", fw.IDs("STA-04"), fw.Introspection(fw.FeatureStatistics), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		serverErrors(f)
		before := counters(f, d)
		_, err := d.Sync(f.Ctx())
		Expect(err).To(HaveOccurred(), "Exchange answered 503")
		Eventually(func() uint64 { return counters(f, d)["d-http-503-s2c"] }).Should(Equal(before["d-http-503-s2c"] + 1))
		after := counters(f, d)
		Expect(after["http-status-5xx"]).To(Equal(before["http-status-5xx"] + 1))
		Expect(after["d-http-503-c2s"]).To(Equal(before["d-http-503-c2s"]), "the 503 came from the server, not from the gateway")
	})
})

// serverErrors makes the Exchange answer every request with 503 for the
// rest of the spec.
func serverErrors(f *fw.Framework) {
	Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{ErrorRate: 1, ErrorStatus: http.StatusServiceUnavailable})).To(Succeed())
	DeferCleanup(func(ctx SpecContext) { Expect(f.Exchange.SetFaults(ctx, exchange.Faults{})).To(Succeed()) })
}

// folderSyncBody is a first FolderSync (SyncKey 0).
func folderSyncBody() []byte {
	b, err := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	Expect(err).NotTo(HaveOccurred())
	return b
}

// viewerLine is the alert viewer's row (ALR-04): Date `2024 Apr 25
// 10:49:39`, AlertID, Device, User, Service, Description, tab-separated.
var viewerLine = regexp.MustCompile(`^\d{4} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2}\t[A-Z_0-9]+\t[^\t]+\t[^\t]+\t[^\t]+\t.+$`)

// deviceAlerts are the viewer's alerts about the device, newest first.
func deviceAlerts(f *fw.Framework, d *device.Device) []alerts.Alert {
	list, err := f.Gateway().Alerts(f.Ctx(), regexp.QuoteMeta(d.ID()))
	Expect(err).NotTo(HaveOccurred())
	return list
}

// viewAtLevel3 sets the Sentry log to level 3, from which the viewer
// shows alerts (ALR-02), and puts the level back after the spec.
func viewAtLevel3(f *fw.Framework) {
	gw := f.Gateway()
	prev, err := gw.Log(f.Ctx())
	Expect(err).NotTo(HaveOccurred())
	level := "level_3"
	_, err = gw.SetLog(f.Ctx(), admin.LogChange{Verbosity: &level})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		back := prev.Level.String()
		_, err := gw.SetLog(ctx, admin.LogChange{Verbosity: &back})
		Expect(err).NotTo(HaveOccurred())
	})
}

var _ = Describe("Alerts after device traffic", func() {
	f := fw.New()
	BeforeEach(func() { viewAtLevel3(f) })

	fw.It("an Exchange 503 on Sync, Ping and FolderSync raises one alert per command, each with its command's id, in the viewer's columns", fw.IDs("ALR-01", "ALR-03", "ALR-04"), fw.Introspection(fw.FeatureAlerts), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		start := time.Now().Add(-time.Second)
		serverErrors(f)
		_, err := d.Sync(f.Ctx())
		Expect(err).To(HaveOccurred())
		_, _, err = d.Ping(f.Ctx(), 1)
		Expect(err).To(HaveOccurred())
		Expect(d.FolderSync(f.Ctx())).NotTo(Succeed())
		var list []alerts.Alert
		Eventually(func() []alerts.Alert { list = deviceAlerts(f, d); return list }).Should(HaveLen(3), "one alert per failed request")
		ids := map[string]bool{}
		for _, a := range list {
			ids[a.ID] = true
			Expect(a.Device).To(Equal(d.ID()))
			Expect(a.User).To(Equal(d.User()))
			Expect(a.Service).To(Equal("ActiveSync"))
			Expect(a.Description).To(ContainSubstring("503"))
			Expect(a.Level).To(Equal(alerts.Error), "a 5xx is an error, above the warning floor")
			Expect(a.Time).To(BeTemporally(">=", start))
			Expect(a.Line()).To(MatchRegexp(viewerLine.String()))
			Expect(strings.Split(a.Line(), "\t")).To(HaveLen(6), "Date, AlertID, Device, User, Service, Description")
		}
		Expect(ids).To(Equal(map[string]bool{"AS_SYNC": true, "AS_PING": true, "AS_FOLDERSYNC": true}), "a separate id per ActiveSync command")
		Expect(list[0].Time).To(BeTemporally(">=", list[len(list)-1].Time), "newest first")
	})

	fw.It("traffic Exchange answers 200 raises no alert", fw.IDs("ALR-01"), fw.Introspection(fw.FeatureAlerts), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		_, _, err := d.Ping(f.Ctx(), 1)
		Expect(err).NotTo(HaveOccurred())
		Consistently(func() []alerts.Alert { return deviceAlerts(f, d) }).Should(BeEmpty())
	})

	fw.It("the viewer's filter is a regular expression over the alert's line, ignoring case", fw.IDs("ALR-06"), fw.Introspection(fw.FeatureAlerts), func() {
		a, b := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
		Expect(a.Connect(f.Ctx())).To(Succeed())
		Expect(b.Connect(f.Ctx())).To(Succeed())
		serverErrors(f)
		_, err := a.Sync(f.Ctx())
		Expect(err).To(HaveOccurred())
		Expect(b.FolderSync(f.Ctx())).NotTo(Succeed())
		Eventually(func() []alerts.Alert { return deviceAlerts(f, b) }).Should(HaveLen(1))
		Eventually(func() []alerts.Alert { return deviceAlerts(f, a) }).Should(HaveLen(1))
		gw := f.Gateway()
		both := "(" + regexp.QuoteMeta(strings.ToLower(a.ID())) + "|" + regexp.QuoteMeta(strings.ToLower(b.ID())) + ")"
		list, err := gw.Alerts(f.Ctx(), both)
		Expect(err).NotTo(HaveOccurred())
		Expect(list).To(HaveLen(2), "the device ids in lower case still match: case is ignored")
		list, err = gw.Alerts(f.Ctx(), `as_sync\t`+regexp.QuoteMeta(strings.ToLower(a.ID())))
		Expect(err).NotTo(HaveOccurred())
		Expect(list).To(ConsistOf(HaveField("Device", a.ID())), "the id and device columns, across the tab")
		list, err = gw.Alerts(f.Ctx(), `as_sync\t`+regexp.QuoteMeta(b.ID()))
		Expect(err).NotTo(HaveOccurred())
		Expect(list).To(BeEmpty(), "b's alert is a FolderSync one")
		_, err = gw.Alerts(f.Ctx(), "AS_(")
		Expect(err).To(MatchError(ContainSubstring("400")), "a bad regular expression is refused")
	})
})
