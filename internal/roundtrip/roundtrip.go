// Package roundtrip is the wire format of a device's recorded round trips
// (one request and its answer each) as the scenarios framework attaches
// them to a failed spec's Ginkgo report and package reports reads them
// back. One definition, so that writer and reader cannot drift apart.
package roundtrip

import (
	"fmt"
	"strings"
	"time"
)

// EntryName is the name of the Ginkgo report entry that carries one
// device's round trips. The name (and the "exchanges" JSON key below)
// predate the rename and stay, so that result files already written
// still read.
const EntryName = "device-exchanges"

// Record is one request and its answer as the device saw them. It carries
// no headers or bodies; the framework redacts Err before it is written.
type Record struct {
	At         time.Time `json:"at"`
	Cmd        string    `json:"cmd"`
	HTTPStatus int       `json:"http_status"`
	Status     int       `json:"status,omitempty"`
	DurationMs float64   `json:"duration_ms"`
	BytesOut   int       `json:"bytes_out"`
	BytesIn    int       `json:"bytes_in"`
	Err        string    `json:"err,omitempty"`
}

// DeviceLog is one device's last round trips: the value of an EntryName
// report entry.
type DeviceLog struct {
	Device     string   `json:"device"`
	User       string   `json:"user"`
	Version    string   `json:"version,omitempty"`
	Omitted    int      `json:"omitted,omitempty"` // older round trips left out
	RoundTrips []Record `json:"exchanges"`
}

// String is how Ginkgo prints the entry in its console output.
func (d DeviceLog) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "device %s (user %s), last %d round trips", d.Device, d.User, len(d.RoundTrips))
	for _, x := range d.RoundTrips {
		fmt.Fprintf(&b, "\n  %s %-14s http %d status %d %.1fms %s", x.At.Format("15:04:05.000"), x.Cmd, x.HTTPStatus, x.Status, x.DurationMs, x.Err)
	}
	return b.String()
}
