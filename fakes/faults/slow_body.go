package faults

import (
	"io"
	"net/http"
)

// SlowBody throttles bodies to BytesPerSec, ten pieces a second: the
// answer's (downstream, flushed piece by piece) or the request's
// (upstream, as the handler reads it).
type SlowBody struct {
	BytesPerSec int `json:"bytes_per_sec"`
}

func init() { Register("slow_body", func() Toxic { return &SlowBody{} }) }

// Kind is "slow_body".
func (SlowBody) Kind() string { return "slow_body" }

// Validate checks the rate.
func (t SlowBody) Validate() error {
	if t.BytesPerSec < 1 {
		return attrErr("bytes_per_sec", "must be at least 1")
	}
	return nil
}

// Serve throttles the body of its direction.
func (t SlowBody) Serve(w http.ResponseWriter, r *http.Request, next http.Handler, env Env) {
	p := pacer{rate: t.BytesPerSec, stop: r.Context().Done(), done: env.Done, stopErr: r.Context().Err}
	if env.Direction == Upstream {
		r.Body = &slowReader{ReadCloser: r.Body, r: paceReader{p: p}}
	} else {
		w = &slowWriter{ResponseWriter: w, p: p}
	}
	next.ServeHTTP(w, r)
}

type slowWriter struct {
	http.ResponseWriter
	p pacer
}

func (s *slowWriter) Write(b []byte) (int, error) {
	return s.p.write(b, s.ResponseWriter.Write, func() { _ = http.NewResponseController(s.ResponseWriter).Flush() })
}

func (s *slowWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

type slowReader struct {
	io.ReadCloser
	r paceReader
}

func (s *slowReader) Read(b []byte) (int, error) { return s.r.read(b, s.ReadCloser.Read) }
