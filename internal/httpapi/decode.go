package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Decode reads one JSON value of at most limit bytes from the request
// body into v. Unknown fields are refused, so that a typo is an error and
// not a silent default; so is anything after the value. Errors are
// *Error: body_too_large (413), invalid_field naming the field (400) or
// invalid_json (400).
func Decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body larger than %d bytes", limit)
		}
		return Errorf(http.StatusBadRequest, CodeInvalidJSON, "request body holds more than one JSON value")
	}
	return nil
}

func decodeError(err error, limit int64) *Error {
	var mbe *http.MaxBytesError
	var ute *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return Errorf(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body larger than %d bytes", limit)
	case errors.As(err, &ute) && ute.Field != "":
		return FieldError(ute.Field, "must be a JSON %s", ute.Type)
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return FieldError(strings.Trim(f, `"`), "unknown field")
	}
	return Errorf(http.StatusBadRequest, CodeInvalidJSON, "request body: %v", err)
}
