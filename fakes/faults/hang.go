package faults

import "net/http"

// Hang holds requests (upstream: before the handler runs) or their
// answers (downstream) until the fault ends (cleared, replaced, or the
// Injector stopped), then lets them through. A client that gives up
// first gets its connection closed without an answer.
type Hang struct{}

func init() { Register("hang", func() Toxic { return &Hang{} }) }

// Kind is "hang".
func (Hang) Kind() string { return "hang" }

// Validate accepts every Hang.
func (Hang) Validate() error { return nil }

// Serve holds the request or its answer.
func (Hang) Serve(w http.ResponseWriter, r *http.Request, next http.Handler, env Env) {
	wait := func() bool {
		select {
		case <-r.Context().Done():
			return false
		case <-env.Done:
			return true
		}
	}
	holdOrPass(w, r, next, env, wait)
}
