package admin

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
)

// alertsList is the Alert Viewer (ALR-04..06): the kept alerts, newest
// first; ?filter= is a case-insensitive regular expression over each
// alert's line.
//
// ALR-02: the viewer shows alerts only while the Sentry log's verbosity
// (`ctl log verbosity`, LOG-02) is level 3 or more, as the seeds' Monitoring
// tab does; at level 1 or 2 it answers an empty list. The alerts are still
// kept (and mailed as notifications say): raising the level shows them.
func (a *api) alertsList(w http.ResponseWriter, r *http.Request) {
	list, err := a.d.Alerts.List(r.URL.Query().Get("filter"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if a.d.LogCtl != nil && a.d.LogCtl.Settings().Level < logctl.Level3 {
		list = nil
	}
	if list == nil {
		list = []alerts.Alert{}
	}
	writeJSON(w, list)
}

// Alerts returns the kept alerts matching filter ("" for all), newest first.
func (c *Client) Alerts(ctx context.Context, filter string) ([]alerts.Alert, error) {
	var out []alerts.Alert
	path := "alerts"
	if filter != "" {
		path += "?" + url.Values{"filter": {filter}}.Encode()
	}
	return out, c.do(ctx, http.MethodGet, path, nil, &out)
}
