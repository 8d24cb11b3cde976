package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// ClearResult is the answer of POST config/clear.
type ClearResult struct {
	Restarting bool `json:"restarting"`
}

// configClear is Clear Configuration (CFG-03): the run-time local
// settings go back to their defaults and the gateway restarts. The answer
// (202) is sent before the restart; the admin API is back once the new
// gateway has started.
func (a *api) configClear(w http.ResponseWriter, _ *http.Request) {
	if a.d.ClearConfig == nil {
		writeErr(w, http.StatusNotImplemented, errors.New("this gateway cannot clear its configuration"))
		return
	}
	if err := a.d.ClearConfig(); err != nil {
		writeErr(w, http.StatusConflict, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusAccepted, ClearResult{Restarting: true})
}

// ClearConfig asks the gateway to clear its configuration and restart
// (CFG-03); it returns once the gateway has accepted.
func (c *Client) ClearConfig(ctx context.Context) (*ClearResult, error) {
	var out ClearResult
	return &out, c.do(ctx, http.MethodPost, "config/clear", nil, &out)
}
