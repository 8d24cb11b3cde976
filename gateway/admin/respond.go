package admin

import (
	"errors"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

func writeJSON(w http.ResponseWriter, v any) { httpapi.WriteJSON(w, http.StatusOK, v) }

// writeErr answers err in the one error shape; an *httpapi.Error keeps its
// code and field, any other error gets the code of status.
func writeErr(w http.ResponseWriter, status int, err error) {
	var e *httpapi.Error
	if !errors.As(err, &e) {
		e = httpapi.Errorf(status, httpapi.CodeFor(status), "%s", err.Error())
	}
	httpapi.WriteError(w, e)
}
