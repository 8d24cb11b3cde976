package faults

import "net/http"

// Reset drops requests with a TCP reset and no answer: upstream as soon
// as the request is read (the handler never runs), downstream after the
// handler ran, its answer thrown away. Its connection-level sibling is
// ResetPeer.
type Reset struct{}

func init() { Register("reset", func() Toxic { return &Reset{} }) }

// Kind is "reset".
func (Reset) Kind() string { return "reset" }

// Validate accepts every Reset.
func (Reset) Validate() error { return nil }

// Serve resets the request's connection.
func (Reset) Serve(w http.ResponseWriter, r *http.Request, next http.Handler, env Env) {
	if env.Direction != Upstream {
		runDiscarded(next, r)
	}
	resetRequest(w)
}
