package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// LogChange is a change to the Sentry log: `debug sentry log enable`,
// `no debug sentry log` and `debug sentry log verbosity` (LOG-03/04).
type LogChange struct {
	Enable    *bool   `json:"enable,omitempty"`
	Direction string  `json:"log_from_to,omitempty"`
	Verbosity *string `json:"verbosity,omitempty"`
}

// logControls keeps handler.go's imports (and length) as they were.
type logControls = logctl.Controls

// logRoutes serves the audit switch and the Sentry log controls.
func (a *api) logRoutes(mux *httpapi.Mux) {
	mux.HandleFunc("GET "+Prefix+"audit", a.auditShow)
	mux.HandleFunc("PUT "+Prefix+"audit", a.auditSet)
	mux.HandleFunc("POST "+Prefix+"audit/flush", a.auditFlush)
	mux.HandleFunc("GET "+Prefix+"audit/entries", a.auditEntries) // auditlog.go
	mux.HandleFunc("GET "+Prefix+"log", a.logShow)
	mux.HandleFunc("PUT "+Prefix+"log", a.logSet)
	mux.HandleFunc("POST "+Prefix+"log/filters", a.logFilterAdd)
	mux.HandleFunc("DELETE "+Prefix+"log/filters/{tag}", a.logFilterDelete)
	// The MICS log switch (mics.go).
	mux.HandleFunc("GET "+Prefix+"log/mics", a.micsShow)
	mux.HandleFunc("PUT "+Prefix+"log/mics", a.micsSet)
	mux.HandleFunc("GET "+Prefix+"log/init", a.initLogShow) // nextstart.go
	mux.HandleFunc("PUT "+Prefix+"log/init", a.initLogSet)
	mux.HandleFunc("GET "+Prefix+"log/gc", a.gcLogShow)
	mux.HandleFunc("PUT "+Prefix+"log/gc", a.gcLogSet)
	a.settingsRoutes(mux) // syslog targets and alert notifications (settings.go)
}

func (a *api) logShow(w http.ResponseWriter, _ *http.Request) {
	if a.d.LogCtl == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no sentry log"))
		return
	}
	writeJSON(w, a.d.LogCtl.Settings())
}

// logSet applies a LogChange; it holds until the gateway restarts (LOG-08).
func (a *api) logSet(w http.ResponseWriter, r *http.Request) {
	var c LogChange
	if err := decodeBody(r, &c); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if a.d.LogCtl == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no sentry log"))
		return
	}
	if c.Verbosity != nil {
		l, err := logctl.ParseLevel(*c.Verbosity)
		if err == nil {
			err = a.d.LogCtl.SetLevel(l)
		}
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
	}
	switch {
	case c.Enable != nil && *c.Enable:
		d, err := logctl.ParseDirection(c.Direction)
		if err == nil {
			err = a.d.LogCtl.Enable(d)
		}
		if err != nil {
			writeErr(w, http.StatusBadRequest, err)
			return
		}
	case c.Enable != nil:
		a.d.LogCtl.Disable()
	}
	a.logShow(w, r)
}

func (a *api) logFilterAdd(w http.ResponseWriter, r *http.Request) {
	var f logctl.Filter
	if err := decodeBody(r, &f); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if a.d.LogCtl == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no sentry log"))
		return
	}
	if err := a.d.LogCtl.AddFilter(f); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	a.logShow(w, r)
}

// logFilterDelete deletes every filter with the tag (LOG-05).
func (a *api) logFilterDelete(w http.ResponseWriter, r *http.Request) {
	if a.d.LogCtl == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no sentry log"))
		return
	}
	if a.d.LogCtl.DeleteFilters(r.PathValue("tag")) == 0 {
		writeErr(w, http.StatusNotFound, errors.New("no filter with this tag"))
		return
	}
	a.logShow(w, r)
}

// Log returns the Sentry log settings (`show sentry log`, LOG-07).
func (c *Client) Log(ctx context.Context) (*logctl.Settings, error) {
	var out logctl.Settings
	return &out, c.do(ctx, http.MethodGet, "log", nil, &out)
}

// SetLog changes the Sentry log settings (LOG-03/04).
func (c *Client) SetLog(ctx context.Context, ch LogChange) (*logctl.Settings, error) {
	var out logctl.Settings
	return &out, c.do(ctx, http.MethodPut, "log", ch, &out)
}

// AddLogFilter adds a filter (`debug sentry log filter`, LOG-05).
func (c *Client) AddLogFilter(ctx context.Context, f logctl.Filter) (*logctl.Settings, error) {
	var out logctl.Settings
	return &out, c.do(ctx, http.MethodPost, "log/filters", f, &out)
}

// DeleteLogFilters deletes the filters with tag (`no debug sentry log filter`).
func (c *Client) DeleteLogFilters(ctx context.Context, tag string) (*logctl.Settings, error) {
	var out logctl.Settings
	return &out, c.do(ctx, http.MethodDelete, "log/filters/"+url.PathEscape(tag), nil, &out)
}
