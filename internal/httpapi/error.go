package httpapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Codes used by this package; an API may add its own.
const (
	CodeInvalidJSON      = "invalid_json"       // 400: the body is not the JSON the endpoint takes
	CodeInvalidField     = "invalid_field"      // 400: a field is unknown, missing or out of range; Field names it
	CodeUnauthorized     = "unauthorized"       // 401
	CodeNotFound         = "not_found"          // 404: no such resource or endpoint
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeConflict         = "conflict"           // 409
	CodeBodyTooLarge     = "body_too_large"     // 413
	CodeInternal         = "internal"           // 500
	CodeUnavailable      = "unavailable"        // 503
)

// Error is the one error shape. On the wire it is the body
// {"error": {"code": ..., "message": ..., "field": ...}}.
type Error struct {
	// Status is the HTTP status the error is (or came) with.
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the offending request field (JSON path form,
	// "services[1].name") for invalid_field errors.
	Field string `json:"field,omitempty"`
}

// ErrorBody is the JSON envelope of an Error.
type ErrorBody struct {
	Error *Error `json:"error"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Code + ": " + e.Field + ": " + e.Message
	}
	return e.Code + ": " + e.Message
}

// Errorf builds an Error with a status, a code and a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds a 400 invalid_field Error naming field.
func FieldError(field, format string, args ...any) *Error {
	e := Errorf(http.StatusBadRequest, CodeInvalidField, format, args...)
	e.Field = field
	return e
}

// CodeFor is the code of a status, for errors that carry only a status.
func CodeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return CodeUnauthorized
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusConflict:
		return CodeConflict
	case http.StatusRequestEntityTooLarge:
		return CodeBodyTooLarge
	case http.StatusBadGateway:
		return "bad_gateway"
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	}
	if status >= 500 {
		return CodeInternal
	}
	return "error"
}

// WriteError writes err in the one error shape: an *Error (or one it
// wraps) as it is, anything else as a 500 internal error.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = Errorf(http.StatusInternalServerError, CodeInternal, "%v", err)
	}
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	WriteJSON(w, status, ErrorBody{Error: e})
}
