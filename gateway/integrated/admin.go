package integrated

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// Admin paths (gatehouse ctl integrated).
const (
	PathState  = "/integrated/v1/state"
	PathResync = "/integrated/v1/resync"
)

// ResyncRequest is the body of POST PathResync.
type ResyncRequest struct {
	Kind Kind `json:"kind"`
}

// Handler serves UEM notifications (signed) and, with the admin token,
// the sync state and the manual resync.
func (c *Connector) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+NotificationPath, c.handleNotification)
	mux.HandleFunc("GET "+PathState, c.admin(func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, c.State()) }))
	mux.HandleFunc("POST "+PathResync, c.admin(c.handleResync))
	return mux
}

func (c *Connector) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !httpapi.BearerMatches(r.Header, c.cfg.AdminToken) { // none configured: nothing matches
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong admin token"})
			return
		}
		h(w, r)
	}
}

func (c *Connector) handleResync(w http.ResponseWriter, r *http.Request) {
	var req ResyncRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || (req.Kind != Full && req.Kind != Differential) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `want {"kind":"full"} or {"kind":"differential"}`})
		return
	}
	if err := c.Resync(req.Kind); err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrSyncRunning) {
			status = http.StatusConflict
		}
		writeJSON(w, status, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "resync of kind " + string(req.Kind) + " started"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
