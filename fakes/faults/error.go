package faults

import "net/http"

// ErrorStatus answers requests with an HTTP error Status (default 503):
// upstream without running the handler, downstream after it ran, its
// answer thrown away (the client cannot tell whether the request took
// effect). The Middleware's ErrorWriter writes the answer.
type ErrorStatus struct {
	Status int `json:"status,omitempty"`
}

func init() { Register("error", func() Toxic { return &ErrorStatus{} }) }

// Kind is "error".
func (ErrorStatus) Kind() string { return "error" }

// Validate checks the status.
func (t ErrorStatus) Validate() error {
	if t.Status != 0 && (t.Status < 400 || t.Status > 599) {
		return attrErr("status", "must be a 4xx or 5xx status")
	}
	return nil
}

// Serve answers the error.
func (t ErrorStatus) Serve(w http.ResponseWriter, r *http.Request, next http.Handler, env Env) {
	status := t.Status
	if status == 0 {
		status = http.StatusServiceUnavailable
	}
	if env.Direction != Upstream {
		runDiscarded(next, r)
	}
	env.WriteError(w, r, status, env)
}
