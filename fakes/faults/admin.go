package faults

import (
	"net/http"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// SpecList is the JSON body of AdminHandler: {"faults": [spec, ...]}.
type SpecList struct {
	Faults []Spec `json:"faults"`
}

// maxSpecBody bounds an admin request body.
const maxSpecBody = 1 << 20

// AdminHandler serves the Injector's faults as raw Specs, for fakes
// without an admin API of their own (the KDC, the DNS): GET lists them,
// PUT {"faults": [...]} replaces them (strict: an unknown type or field
// is a 400 naming it), DELETE clears them. Mount it at a path of the
// fake's admin listener, e.g. "/faults".
func (in *Injector) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
		case http.MethodPut:
			var l SpecList
			if err := httpapi.Decode(w, r, maxSpecBody, &l); err != nil {
				httpapi.WriteError(w, err)
				return
			}
			if err := in.Set(l.Faults...); err != nil {
				httpapi.WriteError(w, err)
				return
			}
		case http.MethodDelete:
			if err := in.Clear(); err != nil {
				httpapi.WriteError(w, err)
				return
			}
		default:
			w.Header().Set("Allow", "GET, PUT, DELETE")
			httpapi.WriteError(w, httpapi.Errorf(http.StatusMethodNotAllowed, httpapi.CodeFor(http.StatusMethodNotAllowed), "method %s not allowed", r.Method))
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, SpecList{Faults: in.Specs()})
	})
}
