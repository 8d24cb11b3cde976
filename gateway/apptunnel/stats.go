package apptunnel

import (
	"io"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// statDevice is the statistics row of the call's (device UUID, user):
// nil before the app is authenticated or without a registry.
func (s *Server) statDevice(c *call) *stats.Device {
	if s.cfg.Stats == nil || c == nil || c.id == nil || c.uuid == "" {
		return nil
	}
	return s.cfg.Stats.Device(c.uuid, c.id.UPN)
}

// refused counts a refusal: the Prometheus reason and tunnels-refused,
// per device once the app is known, in the global sum otherwise.
func (s *Server) refused(c *call, r Reason) {
	s.metrics.Refused(r)
	if d := s.statDevice(c); d != nil {
		d.Inc(stats.TunnelsRefused)
	} else if s.cfg.Stats != nil {
		s.cfg.Stats.IncGlobal(stats.TunnelsRefused)
	}
}

// statsOpened counts one tunnel opened (tunnels-opened).
func (s *Server) statsOpened(c *call) {
	if d := s.statDevice(c); d != nil {
		d.Inc(stats.TunnelsOpened)
	}
}

// countedBody counts the bytes an HTTP tunnel request's body gives the
// server (tunnel-bytes-up).
type countedBody struct {
	io.ReadCloser
	dev *stats.Device
}

func (b *countedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.dev.Add(stats.TunnelBytesUp, uint64(n))
	return n, err
}

// countedWriter counts the response bytes an HTTP tunnel relays to the
// app (tunnel-bytes-down).
type countedWriter struct {
	http.ResponseWriter
	dev *stats.Device
}

func (w *countedWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.dev.Add(stats.TunnelBytesDown, uint64(n))
	return n, err
}

// Flush keeps streamed answers streaming through the counter.
func (w *countedWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// countHTTP wraps an HTTP tunnel request's body and response writer.
func (s *Server) countHTTP(w http.ResponseWriter, r *http.Request, c *call) (http.ResponseWriter, *http.Request) {
	d := s.statDevice(c)
	if d == nil {
		return w, r
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = &countedBody{ReadCloser: r.Body, dev: d} // the server keeps its own reference to close
	}
	return &countedWriter{ResponseWriter: w, dev: d}, r
}
