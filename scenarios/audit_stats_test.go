package scenarios_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/gateway/admin"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	fw "github.com/gatehouse-lab/gatehouse/scenarios/framework"
)

// The audit log and the statistics are the gateway's own records: these
// specs read them back through the documented admin API (GET
// audit/entries, statistics/..., docs/gateway.md) after device traffic.
// They are introspection specs labelled audit or statistics, which use
// nothing but that API: against another gateway they run when its admin
// URL is given (--gateway-admin-url), and skip saying so otherwise. The
// seeds give the audit log's wire form (AUD-08) and the counters' names
// (STA-01 to STA-04), not how another product exposes them.

// auditLine is `<yyyy Mon d HH:mm:ss> <host> SENTRY_AUDIT: INFO {json}`.
var auditLine = regexp.MustCompile(`^\d{4} [A-Z][a-z]{2} \d{1,2} \d{2}:\d{2}:\d{2} \S+ SENTRY_AUDIT: INFO (\{.*\})$`)

// auditEntries are the audit log's entries about the device, each as the
// raw JSON object (to see which keys are present and how values are
// typed), read through the admin API.
func auditEntries(f *fw.Framework, deviceID string) []map[string]any {
	lines, err := f.Gateway().AuditEntries(f.Ctx(), deviceID)
	Expect(err).NotTo(HaveOccurred(), "the gateway serves its audit log's lines")
	var out []map[string]any
	for _, l := range lines {
		m := auditLine.FindStringSubmatch(l)
		Expect(m).NotTo(BeNil(), "a syslog-style audit line: %q", l)
		var e map[string]any
		Expect(json.Unmarshal([]byte(m[1]), &e)).To(Succeed())
		if e["deviceId"] == deviceID {
			out = append(out, e)
		}
	}
	return out
}

// auditOn switches the audit log on for the spec (AUD-11, run time) and
// back to what it was after it.
func auditOn(f *fw.Framework) {
	gw := f.Gateway()
	was, err := gw.Audit(f.Ctx())
	Expect(err).NotTo(HaveOccurred())
	_, err = gw.SetAudit(f.Ctx(), true)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func(ctx SpecContext) {
		_, err := gw.SetAudit(ctx, was.Enabled)
		Expect(err).NotTo(HaveOccurred())
	})
}

// eventuallyAudited waits until the device's audit entries number n:
// the RESPONSE entry of the last request may be written just after the
// device read its answer.
func eventuallyAudited(f *fw.Framework, deviceID string, n int) []map[string]any {
	var es []map[string]any
	Eventually(func() []map[string]any { es = auditEntries(f, deviceID); return es }).Should(HaveLen(n))
	return es
}

func ofType(es []map[string]any, t string) []map[string]any {
	var out []map[string]any
	for _, e := range es {
		if e["entryType"] == t {
			out = append(out, e)
		}
	}
	return out
}

// counters are the device's statistics row by name.
func counters(f *fw.Framework, d *device.Device) map[string]uint64 {
	cs, err := f.Gateway().StatsEntry(f.Ctx(), d.ID(), d.User(), "")
	Expect(err).NotTo(HaveOccurred())
	return byCounterName(cs)
}

func byCounterName(cs []admin.Counter) map[string]uint64 {
	out := map[string]uint64{}
	for _, c := range cs {
		out[c.Name] = uint64(c.Value)
	}
	return out
}

var publishTimeRE = regexp.MustCompile(`^\d{2}/\d{2}/\d{4} \d{1,2}:\d{2}:\d{2}$`)

var _ = Describe("Audit log after device traffic", func() {
	f := fw.New()
	BeforeEach(func() { auditOn(f) })

	fw.It("every device request makes one REQUEST and one RESPONSE entry sharing a use-case id, as syslog lines of JSON", fw.IDs("AUD-01", "AUD-08"), fw.Introspection(fw.FeatureAudit), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		es := eventuallyAudited(f, d.ID(), 2*len(d.Records()))
		Expect(ofType(es, "REQUEST")).To(HaveLen(len(d.Records())), "one REQUEST per request the device made")
		byCase := map[string][]string{}
		for _, e := range es {
			id, _ := e["usecaseId"].(string)
			Expect(id).To(HavePrefix("U-"))
			Expect(e["entryId"]).To(HavePrefix("E-"))
			byCase[id] = append(byCase[id], e["entryType"].(string))
		}
		for id, types := range byCase {
			Expect(types).To(Equal([]string{"REQUEST", "RESPONSE"}), "use case %s: its REQUEST, then its RESPONSE", id)
		}
	})

	fw.It("a REQUEST entry carries the request's fields in the examples' form, and no gateway fields", fw.IDs("AUD-02", "AUD-03", "AUD-04", "AUD-09", "AUD-10", "INC-05"), fw.Introspection(fw.FeatureAudit), func() {
		d := f.NewDevice(f.NewUser(), platform(device.IOS, device.Native))
		Expect(d.Connect(f.Ctx())).To(Succeed())
		reqs := ofType(auditEntries(f, d.ID()), "REQUEST")
		Expect(reqs).NotTo(BeEmpty())
		for _, e := range reqs {
			Expect(e).To(HaveKeyWithValue("userId", d.User()))
			Expect(e).To(HaveKeyWithValue("deviceType", "iPhone"))
			Expect(e).To(HaveKeyWithValue("serviceType", "ACTIVE_SYNC"))
			Expect(e).To(HaveKeyWithValue("serviceName", "ActiveSync"))
			Expect(e).To(HaveKeyWithValue("requestUrl", "/Microsoft-Server-ActiveSync"))
			Expect(e).To(HaveKeyWithValue("httpMethod", "POST"))
			Expect(e).To(HaveKeyWithValue("action", "ALLOW"))
			Expect(e["clientHost"]).To(Equal("/127.0.0.1"), "the Java InetAddress form")
			Expect(e["clientPort"]).To(BeNumerically(">", 0), "a number")
			Expect(e["serverPort"]).To(BeNumerically(">", 0))
			Expect(e["publishTime"]).To(MatchRegexp(publishTimeRE.String()))
			Expect(e["entryId"]).To(Equal("E-"+strings.TrimPrefix(e["usecaseId"].(string), "U-")), "the first entry id reuses the use-case uuid")
			for _, k := range []string{"sentryHost", "sentryPort", "sentryAddress", "httpStatus"} {
				Expect(e).NotTo(HaveKey(k), "a REQUEST has no %s", k)
			}
		}
	})

	fw.It("a RESPONSE entry carries the status as a string and omits the request's fields", fw.IDs("AUD-05", "AUD-09"), fw.Introspection(fw.FeatureAudit), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		resps := ofType(eventuallyAudited(f, d.ID(), 2*len(d.Records())), "RESPONSE")
		Expect(resps).To(HaveLen(len(d.Records())))
		for i, e := range resps {
			Expect(e["httpStatus"]).To(Equal("200"), "response %d", i)
			Expect(e).To(HaveKeyWithValue("userId", d.User()))
			Expect(e).To(HaveKeyWithValue("serviceType", "ACTIVE_SYNC"))
			Expect(e["clientHost"]).To(HavePrefix("/"))
			Expect(e["sentryHost"]).To(Equal("127.0.0.1"), "the gateway's address")
			Expect(e["sentryPort"]).To(BeNumerically(">", 0))
			Expect(e["sentryAddress"]).To(Equal("127.0.0.1"))
			for _, k := range []string{"deviceType", "requestUrl", "httpMethod", "action"} {
				Expect(e).NotTo(HaveKey(k), "a RESPONSE has no %s", k)
			}
		}
	})

	fw.It("a blocked request is audited with action BLOCK and the status the device got", fw.IDs("AUD-03", "AUD-05"), fw.Introspection(fw.FeatureAudit, fw.FeatureBlock), func() {
		d := f.NewDevice(f.NewUser(), func(c *device.Config) { c.Version = eas.V121 })
		Expect(d.Connect(f.Ctx())).To(Succeed())
		f.Act(d, "block", "audit spec")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		es := eventuallyAudited(f, d.ID(), 2*len(d.Records()))
		var blocked []string
		for _, e := range es {
			if e["entryType"] == "REQUEST" && e["action"] == "BLOCK" {
				blocked = append(blocked, e["usecaseId"].(string))
			}
		}
		Expect(blocked).NotTo(BeEmpty())
		for _, e := range ofType(es, "RESPONSE") {
			if e["usecaseId"] == blocked[len(blocked)-1] {
				Expect(e["httpStatus"]).To(Equal("403"), "12.1: HTTP 403")
			}
		}
	})

	fw.It("the real client behind a proxy is recorded as forwardedFor", fw.IDs("AUD-02"), fw.Introspection(fw.FeatureAudit), func() {
		user := f.NewUser()
		id := f.FreshDeviceID()
		q := &eas.Query{Cmd: eas.CmdFolderSync, User: user, DeviceID: id, DeviceType: "iPhone"}
		req, err := http.NewRequest(http.MethodPost, f.DeviceURL()+"/Microsoft-Server-ActiveSync?"+q.Encode(false), nil)
		Expect(err).NotTo(HaveOccurred())
		req.SetBasicAuth(user, f.UserInfo(user).Password)
		req.Header.Set(eas.HeaderProtocolVersion, "14.1")
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		resp, err := f.HTTPClient().Do(req)
		Expect(err).NotTo(HaveOccurred())
		resp.Body.Close()
		reqs := ofType(eventuallyAudited(f, id, 2), "REQUEST")
		Expect(reqs).To(HaveLen(1))
		Expect(reqs[0]).To(HaveKeyWithValue("forwardedFor", "203.0.113.7"))
	})
})

var _ = Describe("Statistics after device traffic", func() {
	f := fw.New()

	fw.It("a device's row counts its requests, commands, decisions and statuses", fw.IDs("STA-01", "STA-02", "STA-04", "STA-05"), fw.Introspection(fw.FeatureStatistics, fw.FeatureStatistics), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		_, _, err := d.Ping(f.Ctx(), 1)
		Expect(err).NotTo(HaveOccurred())
		n := uint64(len(d.Records()))
		provisions, syncs := uint64(0), uint64(0)
		for _, r := range d.Records() {
			switch r.Cmd {
			case eas.CmdProvision:
				provisions++
			case eas.CmdSync:
				syncs++
			}
		}
		c := counters(f, d)
		Expect(c["d-http-requests"]).To(Equal(n), "every request the device made")
		Expect(c["s-http-requests"]).To(Equal(n), "every one relayed")
		Expect(c["permits"]).To(Equal(n))
		Expect(c["blocks"]).To(BeZero())
		Expect(c["cmd-provision"]).To(Equal(provisions))
		Expect(c["cmd-folder-sync"]).To(Equal(uint64(1)))
		Expect(c["cmd-sync"]).To(Equal(syncs))
		Expect(c["cmd-ping"]).To(Equal(uint64(1)))
		Expect(c["http-status-200"]).To(Equal(n), "Exchange answered 200 each time")
		Expect(c["s-http-responses"]).To(Equal(n))
		// Not pinned: d-connection and the byte counters are never
		// incremented today, and s-connections lands in a device's row only
		// when that device's own request dialled (issue 22).
	})

	fw.It("a blocked device's row counts blocks, not permits, and no request reaches the server", fw.IDs("STA-01", "STA-05"), fw.Introspection(fw.FeatureStatistics, fw.FeatureBlock), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		f.Act(d, "block", "statistics spec")
		Eventually(func() error { _, err := d.Sync(f.Ctx()); return err }).Should(MatchError(device.ErrBlocked))
		before := counters(f, d)
		_, err := d.Sync(f.Ctx())
		Expect(err).To(MatchError(device.ErrBlocked))
		after := counters(f, d)
		Expect(after["blocks"]).To(Equal(before["blocks"] + 1))
		Expect(after["permits"]).To(Equal(before["permits"]))
		Expect(after["d-http-requests"]).To(Equal(before["d-http-requests"] + 1))
		Expect(after["s-http-requests"]).To(Equal(before["s-http-requests"]), "the blocked request was not relayed")
	})

	fw.It("a server that answers too late or resets counts in the device's error counters", fw.IDs("STA-03"), fw.Introspection(fw.FeatureStatistics, fw.FeatureRouting), func() {
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.Timeouts.ServerResponseMs = 300 })
		DeferCleanup(func() { Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{})).To(Succeed()) })

		Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{LatencyMs: 2000})).To(Succeed())
		before := counters(f, d)
		_, err := d.Sync(f.Ctx())
		Expect(err).To(HaveOccurred(), "no answer within the server response timeout")
		Expect(counters(f, d)["s-err-cmd-sync-timeout"]).To(Equal(before["s-err-cmd-sync-timeout"]+1), "a Sync response timeout")

		Expect(f.Exchange.SetFaults(f.Ctx(), exchange.Faults{ResetRate: 1})).To(Succeed())
		before = counters(f, d)
		_, err = d.Sync(f.Ctx())
		Expect(err).To(HaveOccurred())
		after := counters(f, d)
		grown := map[string]uint64{}
		for k, v := range after {
			if v > before[k] {
				grown[k] = v - before[k]
			}
		}
		// Over TLS the reset reaches the gateway as a reset or as an
		// end of stream, depending on timing: either server-side counter.
		Expect(grown).To(Or(HaveKey("s-err-reset"), HaveKey("s-so-close")), "the server reset the connection")
	})

	fw.It("attachment counters count what the gateway encrypted and replaced for the device", fw.IDs("ATT-24", "STA-04"), fw.Introspection(fw.FeatureStatistics, fw.FeatureAttachments), func() {
		f.EditGatewayConfig(func(gc *uemapi.GatewayConfig) { gc.AttachmentControl = sendControl("corp.example") })
		user, subject := f.NewUser(), "Counted "+f.FreshDeviceID()
		injectFiles(f, user, subject, map[string][]byte{"report.pdf": reportPDF(subject)})
		enc := f.NewDevice(user, iosNative.opt)
		received(f, enc, subject)
		rem := f.NewDevice(user, androidNative.opt)
		received(f, rem, subject)
		ce, cr := counters(f, enc), counters(f, rem)
		Expect(ce["attachments-encrypted"]).To(BeNumerically(">=", 1), "encrypted for iOS native")
		Expect(ce["attachments-renamed"]).To(BeNumerically(">=", 1))
		Expect(ce["attachments-replaced"]).To(BeZero())
		Expect(cr["attachments-replaced"]).To(BeNumerically(">=", 1), "replaced for Android")
		Expect(cr["attachments-encrypted"]).To(BeZero())
	})

	fw.It("the global device statistics sum the rows and filter by name", fw.IDs("STA-06"), fw.Introspection(fw.FeatureStatistics, fw.FeatureStatistics), func() {
		a, b := f.NewDevice(f.NewUser()), f.NewDevice(f.NewUser())
		Expect(a.Connect(f.Ctx())).To(Succeed())
		Expect(b.Connect(f.Ctx())).To(Succeed())
		g, err := f.Gateway().StatsGlobalDevice(f.Ctx(), "")
		Expect(err).NotTo(HaveOccurred())
		sum := byCounterName(g)
		ca, cb := counters(f, a), counters(f, b)
		Expect(sum["d-http-requests"]).To(BeNumerically(">=", ca["d-http-requests"]+cb["d-http-requests"]))
		filtered, err := f.Gateway().StatsGlobalDevice(f.Ctx(), "http-status")
		Expect(err).NotTo(HaveOccurred())
		Expect(filtered).NotTo(BeEmpty())
		for _, c := range filtered {
			Expect(c.Name).To(ContainSubstring("http-status"))
		}
	})

})

var _ = Describe("System statistics", func() {
	f := fw.New()

	fw.It("the system statistics report peak gauges with the time of each peak", fw.IDs("STA-07", "STA-08"), fw.Introspection(fw.FeatureStatistics), func() {
		// Peaks are sampled with every statistics row: a row a second
		// (STA-08's interval, changed at run time).
		collectEvery(f, "1s")
		d := f.NewDevice(f.NewUser())
		Expect(d.Connect(f.Ctx())).To(Succeed())
		Eventually(func() []string {
			ps, err := f.Gateway().StatsGlobalSystem(f.Ctx(), "")
			Expect(err).NotTo(HaveOccurred())
			var names []string
			for _, p := range ps {
				names = append(names, p.Name)
			}
			return names
		}).Should(ContainElements("peak-device-cache-size", "peak-running-threads", "peak-heap-mem-used-MB"))
		Eventually(func() []admin.Peak {
			ps, err := f.Gateway().StatsGlobalSystem(f.Ctx(), "peak-device-cache-size")
			Expect(err).NotTo(HaveOccurred())
			return ps
		}).Should(ConsistOf(And(HaveField("Value", BeNumerically(">=", 1)), HaveField("At", Not(BeZero())))), "the device is in the cache, with the time of the peak")
	})
})
