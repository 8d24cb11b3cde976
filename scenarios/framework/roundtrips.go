package framework

import (
	"regexp"

	"github.com/onsi/ginkgo/v2"

	"github.com/gatehouse-lab/gatehouse/internal/roundtrip"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// RoundTripsEntry is the name of the report entry that carries a failed
// spec's device round trips (reports/ shows them beside the failure).
const RoundTripsEntry = roundtrip.EntryName

// Caps on what a failed spec attaches: a report stays readable and small.
const (
	maxEntryDevices    = 8
	maxEntryRoundTrips = 32 // per device, the last ones
	maxErrLen          = 300
)

var secretRE = []*regexp.Regexp{
	regexp.MustCompile(`(?i)(authorization["']?\s*[:=]?\s*)(?:(?:basic|bearer|negotiate|digest)\s+)?[^\s,"']+`),
	regexp.MustCompile(`(?i)((?:password|passwd|pwd|secret|token)["']?\s*[=:]\s*["']?)[^\s&,"']+`),
	regexp.MustCompile(`//([^/:@\s]+):[^@/\s]+@`),
}

// Redact removes credentials from a string: Authorization header
// values, password=... pairs and user:password@ in URLs.
func Redact(s string) string {
	s = secretRE[0].ReplaceAllString(s, "${1}[redacted]")
	s = secretRE[1].ReplaceAllString(s, "${1}[redacted]")
	s = secretRE[2].ReplaceAllString(s, "//${1}:[redacted]@")
	return s
}

// RoundTrips builds the entry value of one device: its last round trips,
// redacted and capped.
func RoundTrips(d *device.Device) roundtrip.DeviceLog {
	recs := d.Records()
	out := roundtrip.DeviceLog{Device: d.ID(), User: d.User(), Version: d.Config().Version.String()}
	if n := len(recs) - maxEntryRoundTrips; n > 0 {
		out.Omitted, recs = n, recs[n:]
	}
	for _, x := range recs {
		e := Redact(x.Err)
		if len(e) > maxErrLen {
			e = e[:maxErrLen] + "…"
		}
		out.RoundTrips = append(out.RoundTrips, roundtrip.Record{At: x.At.UTC(), Cmd: string(x.Cmd), HTTPStatus: x.HTTPStatus,
			Status: x.Status, DurationMs: float64(x.Duration.Microseconds()) / 1000, BytesOut: x.BytesOut, BytesIn: x.BytesIn, Err: e})
	}
	return out
}

// attachOnFailure registers a cleanup that, if the spec failed, adds
// the device's round trips to its report. Only the first
// maxEntryDevices devices of a spec are attached.
func (f *Framework) attachOnFailure(d *device.Device) {
	f.devices++
	if f.devices > maxEntryDevices {
		return
	}
	ginkgo.DeferCleanup(func() {
		if ginkgo.CurrentSpecReport().Failed() {
			ginkgo.AddReportEntry(RoundTripsEntry, RoundTrips(d), ginkgo.ReportEntryVisibilityFailureOrVerbose)
		}
	})
}
