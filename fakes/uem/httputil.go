package uem

import (
	"errors"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// maxAdminBody bounds admin request bodies (a gateway config with a
// keytab and certificates fits easily).
const maxAdminBody = 8 << 20

func writeJSON(w http.ResponseWriter, status int, v any) { httpapi.WriteJSON(w, status, v) }

// writeErr writes the contract's one error shape (the shared one:
// uemapi.Error and httpapi.Error are the same on the wire).
func writeErr(w http.ResponseWriter, err error) {
	var e *uemapi.Error
	if errors.As(err, &e) {
		err = &httpapi.Error{Status: e.Code.HTTPStatus(), Code: string(e.Code), Message: e.Message, Field: e.Field}
	}
	httpapi.WriteError(w, err)
}

// decodeBody reads a size-limited JSON body into v; unknown fields are
// rejected so that typos surface as errors naming them.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	return httpapi.Decode(w, r, limit, v)
}

// bearer extracts the credential of an Authorization header: Bearer
// <token>, or Basic with the token as password.
func bearer(r *http.Request) string {
	if tok, ok := httpapi.BearerToken(r.Header); ok {
		return tok
	}
	if _, pw, ok := r.BasicAuth(); ok {
		return pw
	}
	return ""
}
