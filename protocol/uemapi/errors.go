package uemapi

import (
	"errors"
	"fmt"
	"net/http"
)

// Code is a stable, machine-readable error code. Codes never change meaning
// within an API version.
type Code string

// The error codes of the contract, with the HTTP status each is sent with.
const (
	CodeInvalidJSON      Code = "invalid_json"       // 400: body is not the JSON the endpoint takes
	CodeInvalidField     Code = "invalid_field"      // 400: a field is missing or out of range; Field names it
	CodeUnauthorized     Code = "unauthorized"       // 401: missing or wrong credential
	CodeNotFound         Code = "not_found"          // 404: no such resource or endpoint
	CodeMethodNotAllowed Code = "method_not_allowed" // 405
	CodeConflict         Code = "conflict"           // 409: uniqueness or link conflict
	CodeActionNotAllowed Code = "action_not_allowed" // 409: action invalid in the record's state (e.g. after Wipe)
	CodeBodyTooLarge     Code = "body_too_large"     // 413
	CodeInternal         Code = "internal"           // 500
	CodeUnavailable      Code = "unavailable"        // 503: injected fault or shutting down
)

// HTTPStatus is the status a code is sent with.
func (c Code) HTTPStatus() int {
	switch c {
	case CodeInvalidJSON, CodeInvalidField:
		return http.StatusBadRequest
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeConflict, CodeActionNotAllowed:
		return http.StatusConflict
	case CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Error is the one error shape of the API. On the wire it is the body
// {"error": {"code": ..., "message": ..., "field": ...}}.
type Error struct {
	// Status is the HTTP status the error came with (client side only).
	Status  int    `json:"-"`
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Field names the offending request field, in JSON path form
	// (e.g. "activesync.services[1].name"), for invalid_field errors.
	Field string `json:"field,omitempty"`
}

// ErrorBody is the JSON envelope of an Error.
type ErrorBody struct {
	Error *Error `json:"error"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("uemapi: %s: %s: %s", e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("uemapi: %s: %s", e.Code, e.Message)
}

// Errorf builds an Error with a code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError builds an invalid_field Error naming field.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalidField, Field: field, Message: fmt.Sprintf(format, args...)}
}

// IsCode reports whether err is (or wraps) an *Error with the given code.
func IsCode(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// ErrNotModified is returned by Client.Config when the configuration has not
// changed since the ETag the caller holds.
var ErrNotModified = errors.New("uemapi: not modified")
