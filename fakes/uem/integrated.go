package uem

import (
	"net/http"
	"slices"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// apiIntegratedStatus records an integrated connector's sync state and
// errors on its gateway entry, where the portal shows them in the entry's
// Error(s) field (INT-16). Associations come in through the ordinary
// device reports: the connector reports each partnership it finds in
// Exchange, no device request ever passing through it.
func (s *Server) apiIntegratedStatus(w http.ResponseWriter, r *http.Request) {
	var st uemapi.IntegratedStatus
	if err := decodeBody(w, r, uemapi.MaxRequestBody, &st); err != nil {
		writeErr(w, err)
		return
	}
	if len(st.Errors) > 100 {
		st.Errors = st.Errors[len(st.Errors)-100:]
	}
	id := gatewayFrom(r.Context()).ID
	s.st.mu.Lock()
	g := s.st.gateways[id]
	if g != nil {
		st.Errors = slices.Clone(st.Errors)
		g.Integrated = &st // replaced, never changed in place: clones may share it
		g.LastContact = s.now()
	}
	s.st.mu.Unlock()
	if g == nil {
		writeErr(w, uemapi.Errorf(uemapi.CodeNotFound, "no gateway %q", id))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
