package uemapi

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
)

// DecodeStrict decodes exactly one JSON value from r into v, refusing
// unknown fields: a misspelt field in a configuration document or a
// notification would otherwise be dropped silently, and with it the
// setting it was meant to carry. An unknown field is an invalid_field
// *Error naming it, other faults invalid_json.
func DecodeStrict(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &ute) && ute.Field != "":
			return FieldError(ute.Field, "must be a JSON %s", ute.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return FieldError(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
		}
		return Errorf(CodeInvalidJSON, "%v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(CodeInvalidJSON, "more than one JSON value")
	}
	return nil
}
