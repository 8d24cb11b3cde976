package uem

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

type ctxKey struct{}

func gatewayFrom(ctx context.Context) *GatewayEntry {
	g, _ := ctx.Value(ctxKey{}).(*GatewayEntry)
	return g
}

// gatewayHandler is the gateway-facing API (/api/v1), behind the fault
// middleware and per-gateway bearer authentication.
func (s *Server) gatewayHandler() http.Handler {
	mux := httpapi.NewMux()
	mux.HandleFunc("GET "+uemapi.PathConnectivity, s.apiConnectivity)
	mux.HandleFunc("POST "+uemapi.PathDeviceReport, s.apiReportDevice)
	mux.HandleFunc("GET "+uemapi.PathDevices, s.apiDevices)
	mux.HandleFunc("POST "+uemapi.PathLastSeen, s.apiLastSeen)
	mux.HandleFunc("POST "+uemapi.PathWipeAck, s.apiWipeAck)
	mux.HandleFunc("GET "+uemapi.PathAppTunnels, s.apiAppTunnels)
	mux.HandleFunc("POST "+uemapi.PathAppTunnelRep, s.apiReportTunnel)
	mux.HandleFunc("GET "+uemapi.PathConfig, s.apiConfig)
	mux.HandleFunc("GET "+uemapi.PathAttachmentKey, s.apiKey)
	mux.HandleFunc("POST "+uemapi.PathIntegratedStatus, s.apiIntegratedStatus) // integrated.go
	mux.HandleFunc("POST "+uemapi.PathDeviceReportBatch, s.apiReportBatch)     // integrated.go
	return s.faults.middleware(s.gatewayAuth(mux))
}

func (s *Server) gatewayAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		g := s.st.gatewayByToken(tok)
		if tok == "" || g == nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-uem"`)
			writeErr(w, uemapi.Errorf(uemapi.CodeUnauthorized, "missing or invalid gateway credential"))
			return
		}
		s.st.touchGateway(g.ID, r.Header.Get(uemapi.HeaderGatewayVersion))
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, g)))
	})
}

func (s *Server) apiConnectivity(w http.ResponseWriter, r *http.Request) {
	g, err := s.st.gateway(gatewayFrom(r.Context()).ID)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, uemapi.Connectivity{APIVersion: uemapi.APIVersion, GatewayID: g.ID, Enabled: g.Enabled,
		Time: s.now().UTC(), ConfigVersion: g.ConfigVersion})
}

func (s *Server) apiReportDevice(w http.ResponseWriter, r *http.Request) {
	var rep uemapi.DeviceReport
	if err := decodeBody(w, r, uemapi.MaxRequestBody, &rep); err != nil {
		writeErr(w, err)
		return
	}
	d, err := s.st.reportDevice(gatewayFrom(r.Context()).ID, rep)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.reports.Add(1)
	status := http.StatusOK
	if d.FirstAccess {
		status = http.StatusCreated
	}
	writeJSON(w, status, d)
}

func pageQuery(r *http.Request) (cursor string, limit int, err error) {
	q := r.URL.Query()
	if l := q.Get("limit"); l != "" {
		limit, err = strconv.Atoi(l)
		if err != nil {
			return "", 0, uemapi.FieldError("limit", "must be an integer")
		}
		if limit < 1 {
			return "", 0, uemapi.FieldError("limit", "must be 1-%d", uemapi.MaxPageSize)
		}
	}
	return q.Get("cursor"), limit, nil
}

func (s *Server) apiDevices(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.writeDevicePage(w, uemapi.DeviceFilter(r.URL.Query().Get("filter")), cursor, limit)
}

func (s *Server) apiLastSeen(w http.ResponseWriter, r *http.Request) {
	var b uemapi.LastSeenBatch
	if err := decodeBody(w, r, uemapi.MaxRequestBody, &b); err != nil {
		writeErr(w, err)
		return
	}
	res, err := s.st.lastSeen(b.Items)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) apiWipeAck(w http.ResponseWriter, r *http.Request) {
	var a uemapi.WipeAck
	if err := decodeBody(w, r, uemapi.MaxRequestBody, &a); err != nil {
		writeErr(w, err)
		return
	}
	if err := s.st.wipeAck(a); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) apiAppTunnels(w http.ResponseWriter, r *http.Request) {
	cursor, limit, err := pageQuery(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	page, err := s.st.tunnelPage(cursor, limit)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) apiReportTunnel(w http.ResponseWriter, r *http.Request) {
	var rep uemapi.AppTunnelReport
	if err := decodeBody(w, r, uemapi.MaxRequestBody, &rep); err != nil {
		writeErr(w, err)
		return
	}
	t, err := s.st.reportTunnel(gatewayFrom(r.Context()).ID, rep)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func (s *Server) apiConfig(w http.ResponseWriter, r *http.Request) {
	doc, err := s.st.configDocument(gatewayFrom(r.Context()).ID)
	if err != nil {
		writeErr(w, err)
		return
	}
	etag := `"` + strconv.FormatInt(doc.Version, 10) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Cache-Control", "no-cache")
	if inm := r.Header.Get("If-None-Match"); inm != "" && inm == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) apiKey(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.st.attachmentKey())
}
