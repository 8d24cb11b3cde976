package faults

import "net/http"

// ErrorWriter answers a request with an injected error of status; a fake
// gives its own to answer in its API's error shape.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, status int, env Env)

// DefaultErrorWriter answers "injected fault" in plain text, with
// Retry-After: 1.
func DefaultErrorWriter(w http.ResponseWriter, _ *http.Request, status int, _ Env) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, "injected fault", status)
}

// MiddlewareOption changes a Middleware.
type MiddlewareOption func(*middleware)

// WithErrorWriter answers injected errors with we.
func WithErrorWriter(we ErrorWriter) MiddlewareOption {
	return func(m *middleware) { m.writeError = we }
}

type middleware struct {
	in         *Injector
	next       http.Handler
	writeError ErrorWriter
}

// Middleware applies the Injector's HTTP faults to next, in the order
// they were set: each one whose toxicity roll succeeds handles the
// request and hands it on (or not) to the next.
func (in *Injector) Middleware(next http.Handler, opts ...MiddlewareOption) http.Handler {
	m := &middleware{in: in, next: next, writeError: DefaultErrorWriter}
	for _, o := range opts {
		o(m)
	}
	return m
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.serve(*m.in.cur.Load(), w, r)
}

// serve runs the faults of fs in turn, then the handler.
func (m *middleware) serve(fs []*fault, w http.ResponseWriter, r *http.Request) {
	for i, f := range fs {
		t, ok := f.spec.Toxic.(HTTPToxic)
		if !ok || !m.in.acts(f) {
			continue
		}
		rest := fs[i+1:]
		t.Serve(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(rest, w, r) }), m.in.env(f, m.writeError))
		return
	}
	m.next.ServeHTTP(w, r)
}
