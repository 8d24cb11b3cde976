package exchange

import (
	"net/http"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// APIError is the admin API's one error shape:
// {"error":{"code":"...","message":"...","field":"..."}}.
type APIError = httpapi.Error

// errorBody wraps an APIError on the wire.
type errorBody = httpapi.ErrorBody

// The admin handlers' short names for internal/httpapi.

func apiErr(status int, code, format string, args ...any) *APIError {
	return httpapi.Errorf(status, code, format, args...)
}

func fieldErr(field, format string, args ...any) *APIError {
	return httpapi.FieldError(field, format, args...)
}

func writeJSON(w http.ResponseWriter, status int, v any) { httpapi.WriteJSON(w, status, v) }

func writeErr(w http.ResponseWriter, err error) { httpapi.WriteError(w, err) }

// decodeBody reads a size-limited JSON body; unknown fields are errors.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return httpapi.Decode(w, r, limit, v)
}
