package uem

import (
	"fmt"
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

// apiReportBatch is the batch form of the device report, for an
// integrated connector's full sync: every item is checked first, so one
// invalid item refuses the batch and none is applied.
func (s *Server) apiReportBatch(w http.ResponseWriter, r *http.Request) {
	var b uemapi.DeviceReportBatch
	if err := decodeBody(w, r, uemapi.MaxRequestBody, &b); err != nil {
		writeErr(w, err)
		return
	}
	if len(b.Items) > uemapi.MaxReportBatch {
		writeErr(w, uemapi.FieldError("items", "at most %d items", uemapi.MaxReportBatch))
		return
	}
	for i, rep := range b.Items {
		if err := validateReport(rep); err != nil {
			writeErr(w, uemapi.FieldError(fmt.Sprintf("items[%d]", i), "%v", err))
			return
		}
	}
	out := uemapi.DecisionBatch{Items: make([]uemapi.Decision, len(b.Items))}
	gw := gatewayFrom(r.Context()).ID
	for i, rep := range b.Items {
		d, err := s.st.reportDevice(gw, rep)
		if err != nil {
			writeErr(w, err)
			return
		}
		out.Items[i] = d
		s.reports.Add(1)
	}
	writeJSON(w, http.StatusOK, out)
}
