package httpapi

import (
	"net/http"
	"strings"
)

// Mux routes with Go 1.22 patterns ("POST /admin/v1/users/{id}") and
// answers a path it does not know with a 404 not_found error, and a
// known path asked with another method with a 405 method_not_allowed
// error and an Allow header, both in the one error shape (http.ServeMux
// answers those in plain text).
type Mux struct{ mux *http.ServeMux }

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{mux: http.NewServeMux()} }

// Handle registers h for pattern (see http.ServeMux).
func (m *Mux) Handle(pattern string, h http.Handler) { m.mux.Handle(pattern, h) }

// HandleFunc registers h for pattern (see http.ServeMux).
func (m *Mux) HandleFunc(pattern string, h http.HandlerFunc) { m.mux.HandleFunc(pattern, h) }

// probed are the methods tried to tell a 405 from a 404.
var probed = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := m.mux.Handler(r); pattern != "" {
		m.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, method := range probed {
		probe := r.Clone(r.Context())
		probe.Method = method
		if _, p := m.mux.Handler(probe); p != "" {
			allow = append(allow, method)
		}
	}
	if len(allow) == 0 {
		WriteError(w, Errorf(http.StatusNotFound, CodeNotFound, "no endpoint %s %s", r.Method, r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteError(w, Errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method %s not allowed", r.Method))
}
