package logctl

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// MICS is the `MICS` logging switch beside the Sentry one (LOG-01). In
// the seeds MICS is the configuration service behind the gateway (Table
// 50: "messages related to the MobileIron Configuration System module
// that supports the Sentry"); gatehouse's counterpart is its link to the
// UEM, which delivers its configuration and device decisions. With MICS
// logging on, every call the gateway makes to the UEM is one line (its
// method, path and query, then its status and duration, or its error)
// and every change of the UEM's connectivity another. Off at start and
// not persistent, as the Sentry log (LOG-08). Headers and bodies are
// never written: they carry the gateway's UEM credential and the users'
// device data.
type MICS struct {
	on  atomic.Bool
	mu  sync.Mutex
	w   io.Writer // nil until SetOutput: nothing is written
	now func() time.Time
}

// NewMICS returns the switch, off, writing nowhere until SetOutput.
func NewMICS() *MICS { return &MICS{now: time.Now} }

// SetOutput sets where lines go (data_dir/mics.log).
func (m *MICS) SetOutput(w io.Writer) {
	m.mu.Lock()
	m.w = w
	m.mu.Unlock()
}

// Enabled reports whether MICS logging is on; false for a nil *MICS.
func (m *MICS) Enabled() bool { return m != nil && m.on.Load() }

// SetEnabled turns MICS logging on or off until the next restart.
func (m *MICS) SetEnabled(on bool) { m.on.Store(on) }

// Printf writes one line when MICS logging is on.
func (m *MICS) Printf(format string, args ...any) {
	if !m.Enabled() {
		return
	}
	line := oneLine(fmt.Sprintf(format, args...))
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.w != nil {
		_, _ = io.WriteString(m.w, m.now().UTC().Format(time.RFC3339Nano)+" mics "+line+"\n")
	}
}

// Transport wraps the UEM client's transport: each call is logged while
// MICS logging is on, at no cost when it is off. CloseIdleConnections
// reaches next (the gateway closes its idle UEM connections at shutdown).
func (m *MICS) Transport(next http.RoundTripper) http.RoundTripper {
	return &micsTransport{m: m, next: next}
}

type micsTransport struct {
	m    *MICS
	next http.RoundTripper
}

func (t *micsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	m := t.m
	if !m.Enabled() {
		return t.next.RoundTrip(r)
	}
	target := r.URL.Path
	if r.URL.RawQuery != "" {
		target += "?" + r.URL.RawQuery
	}
	m.Printf("uem > %s %s", r.Method, target)
	start := m.now()
	resp, err := t.next.RoundTrip(r)
	took := m.now().Sub(start).Round(time.Millisecond)
	if err != nil {
		m.Printf("uem ! %s %s: %v (%s)", r.Method, r.URL.Path, err, took)
		return resp, err
	}
	m.Printf("uem < %s %s: %s (%s)", r.Method, r.URL.Path, resp.Status, took)
	return resp, nil
}

// CloseIdleConnections closes next's idle connections.
func (t *micsTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
