package device

import (
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// RoundTrip is one request and its answer, as the device saw them.
type RoundTrip struct {
	At         time.Time
	Cmd        eas.Command
	HTTPStatus int           // 0 when the request failed in transport
	Status     int           // the response's global Status element; 0 when absent
	Duration   time.Duration // request sent to body read
	BytesOut   int
	BytesIn    int
	Err        string // transport error, if any
}

// Records returns the kept round trips, oldest first.
func (d *Device) Records() []RoundTrip {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]RoundTrip(nil), d.records...)
}

// Last returns the latest round trip (zero before any).
func (d *Device) Last() RoundTrip {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.records) == 0 {
		return RoundTrip{}
	}
	return d.records[len(d.records)-1]
}

// Saw reports whether any kept round trip answered cmd with this global
// status (or, for status 0, with this HTTP status).
func (d *Device) Saw(cmd eas.Command, httpStatus, status int) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.records {
		if (cmd == "" || r.Cmd == cmd) && (httpStatus == 0 || r.HTTPStatus == httpStatus) && (status == 0 || r.Status == status) {
			return true
		}
	}
	return false
}

func (d *Device) record(x RoundTrip) {
	d.mu.Lock()
	if len(d.records) >= d.cfg.MaxRecords {
		n := copy(d.records, d.records[1:])
		d.records = d.records[:n]
	}
	d.records = append(d.records, x)
	d.nrecords++
	d.mu.Unlock()
	if d.cfg.OnRoundTrip != nil {
		d.cfg.OnRoundTrip(x)
	}
}
