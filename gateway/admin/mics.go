package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
)

// micsLog keeps handler.go's imports as they were.
type micsLog = logctl.MICS

// MICSConfig is the MICS logging switch (LOG-01).
type MICSConfig struct {
	Enabled bool `json:"enabled"`
}

func (a *api) micsShow(w http.ResponseWriter, _ *http.Request) {
	if a.d.MICS == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no mics log"))
		return
	}
	writeJSON(w, MICSConfig{Enabled: a.d.MICS.Enabled()})
}

// micsSet turns MICS logging on or off until the gateway restarts, as the
// Sentry log (LOG-08).
func (a *api) micsSet(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeBody(r, &body); err != nil || body.Enabled == nil {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"enabled": true|false}`))
		return
	}
	if a.d.MICS == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no mics log"))
		return
	}
	a.d.MICS.SetEnabled(*body.Enabled)
	a.micsShow(w, r)
}

// MICSLog returns whether MICS logging is on (LOG-01).
func (c *Client) MICSLog(ctx context.Context) (*MICSConfig, error) {
	var out MICSConfig
	return &out, c.do(ctx, http.MethodGet, "log/mics", nil, &out)
}

// SetMICSLog turns MICS logging on or off at run time (LOG-01).
func (c *Client) SetMICSLog(ctx context.Context, on bool) (*MICSConfig, error) {
	var out MICSConfig
	return &out, c.do(ctx, http.MethodPut, "log/mics", map[string]bool{"enabled": on}, &out)
}
