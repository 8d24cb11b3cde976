package exchange

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// APIError is the admin API's one error shape:
// {"error":{"code":"...","message":"...","field":"..."}}.
type APIError struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// errorBody wraps an APIError on the wire.
type errorBody struct {
	Error *APIError `json:"error"`
}

func apiErr(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func fieldErr(field, format string, args ...any) *APIError {
	e := apiErr(http.StatusBadRequest, "invalid_field", format, args...)
	e.Field = field
	return e
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, err error) {
	var e *APIError
	if !errors.As(err, &e) {
		e = apiErr(http.StatusInternalServerError, "internal", "%v", err)
	}
	writeJSON(w, e.Status, errorBody{e})
}

// decodeBody reads a size-limited JSON body; unknown fields are errors.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return apiErr(http.StatusRequestEntityTooLarge, "body_too_large", "request body larger than %d bytes", limit)
		case errors.As(err, &ute) && ute.Field != "":
			return fieldErr(ute.Field, "must be a JSON %s", ute.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return fieldErr(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
		}
		return apiErr(http.StatusBadRequest, "invalid_json", "request body: %v", err)
	}
	if dec.More() {
		return apiErr(http.StatusBadRequest, "invalid_json", "request body holds more than one JSON value")
	}
	return nil
}
