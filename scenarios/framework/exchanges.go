package framework

import (
	"fmt"
	"regexp"
	"time"

	"github.com/onsi/ginkgo/v2"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// ExchangesEntry is the name of the report entry that carries a failed
// spec's device exchanges (reports/ shows them beside the failure).
const ExchangesEntry = "device-exchanges"

// Caps on what a failed spec attaches: a report stays readable and small.
const (
	maxEntryDevices   = 8
	maxEntryExchanges = 32 // per device, the last ones
	maxErrLen         = 300
)

// DeviceExchanges is one device's recorded exchanges as attached to a
// failed spec's report (the value of an ExchangesEntry entry).
type DeviceExchanges struct {
	Device    string           `json:"device"`
	User      string           `json:"user"`
	Version   string           `json:"version,omitempty"`
	Omitted   int              `json:"omitted,omitempty"` // older exchanges left out
	Exchanges []ExchangeRecord `json:"exchanges"`
}

// ExchangeRecord is one request and its answer as the device saw them.
// It carries no headers or bodies, and errors are redacted.
type ExchangeRecord struct {
	At         time.Time `json:"at"`
	Cmd        string    `json:"cmd"`
	HTTPStatus int       `json:"http_status"`
	Status     int       `json:"status,omitempty"`
	DurationMs float64   `json:"duration_ms"`
	BytesOut   int       `json:"bytes_out"`
	BytesIn    int       `json:"bytes_in"`
	Err        string    `json:"err,omitempty"`
}

// String is how Ginkgo prints the entry in its console output.
func (d DeviceExchanges) String() string {
	s := fmt.Sprintf("device %s (user %s), last %d exchanges", d.Device, d.User, len(d.Exchanges))
	for _, x := range d.Exchanges {
		s += fmt.Sprintf("\n  %s %-14s http %d status %d %.1fms %s", x.At.Format("15:04:05.000"), x.Cmd, x.HTTPStatus, x.Status, x.DurationMs, x.Err)
	}
	return s
}

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

// Exchanges builds the entry value of one device: its last exchanges,
// redacted and capped.
func Exchanges(d *device.Device) DeviceExchanges {
	recs := d.Records()
	out := DeviceExchanges{Device: d.ID(), User: d.User(), Version: d.Config().Version.String()}
	if n := len(recs) - maxEntryExchanges; n > 0 {
		out.Omitted, recs = n, recs[n:]
	}
	for _, x := range recs {
		e := Redact(x.Err)
		if len(e) > maxErrLen {
			e = e[:maxErrLen] + "…"
		}
		out.Exchanges = append(out.Exchanges, ExchangeRecord{At: x.At.UTC(), Cmd: string(x.Cmd), HTTPStatus: x.HTTPStatus,
			Status: x.Status, DurationMs: float64(x.Duration.Microseconds()) / 1000, BytesOut: x.BytesOut, BytesIn: x.BytesIn, Err: e})
	}
	return out
}

// attachOnFailure registers a cleanup that, if the spec failed, adds
// the device's exchanges to its report. Only the first maxEntryDevices
// devices of a spec are attached.
func (f *Framework) attachOnFailure(d *device.Device) {
	f.devices++
	if f.devices > maxEntryDevices {
		return
	}
	ginkgo.DeferCleanup(func() {
		if ginkgo.CurrentSpecReport().Failed() {
			ginkgo.AddReportEntry(ExchangesEntry, Exchanges(d), ginkgo.ReportEntryVisibilityFailureOrVerbose)
		}
	})
}
