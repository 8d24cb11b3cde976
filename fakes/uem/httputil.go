package uem

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// maxAdminBody bounds admin request bodies (a gateway config with a
// keytab and certificates fits easily).
const maxAdminBody = 8 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// writeErr writes the contract's one error shape.
func writeErr(w http.ResponseWriter, err error) {
	var e *uemapi.Error
	if !errors.As(err, &e) {
		e = uemapi.Errorf(uemapi.CodeInternal, "%v", err)
	}
	writeJSON(w, e.Code.HTTPStatus(), uemapi.ErrorBody{Error: e})
}

// decodeBody reads a size-limited JSON body into v; unknown fields are
// rejected so that typos surface as errors.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var ute *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return uemapi.Errorf(uemapi.CodeBodyTooLarge, "request body larger than %d bytes", limit)
		case errors.As(err, &ute) && ute.Field != "":
			return uemapi.FieldError(ute.Field, "must be a JSON %s", ute.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			return uemapi.FieldError(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`), "unknown field")
		}
		return uemapi.Errorf(uemapi.CodeInvalidJSON, "request body: %v", err)
	}
	if dec.More() {
		return uemapi.Errorf(uemapi.CodeInvalidJSON, "request body holds more than one JSON value")
	}
	return nil
}

// methods routes one path by HTTP method and answers others with the JSON
// 405 error.
type methods map[string]http.HandlerFunc

func (m methods) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, ok := m[r.Method]
	if !ok && r.Method == http.MethodHead {
		h, ok = m[http.MethodGet]
	}
	if !ok {
		allow := make([]string, 0, len(m))
		for k := range m {
			allow = append(allow, k)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeErr(w, uemapi.Errorf(uemapi.CodeMethodNotAllowed, "method %s not allowed", r.Method))
		return
	}
	h(w, r)
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeErr(w, uemapi.Errorf(uemapi.CodeNotFound, "no endpoint %s", r.URL.Path))
}

// bearer extracts the credential of an Authorization header: Bearer
// <token>, or Basic with the token as password.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return ""
}
