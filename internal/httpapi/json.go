package httpapi

import (
	"encoding/json"
	"net/http"
)

// WriteJSON writes v as a JSON answer with status. Answers show state
// that changes: they are not stored unless the handler set its own
// Cache-Control (an ETag'd document revalidates with no-cache).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
