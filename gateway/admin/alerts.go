package admin

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
)

// alertsList is the Alert Viewer (ALR-04..06): the kept alerts, newest
// first; ?filter= is a case-insensitive regular expression over each
// alert's line.
func (a *api) alertsList(w http.ResponseWriter, r *http.Request) {
	list, err := a.d.Alerts.List(r.URL.Query().Get("filter"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
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
