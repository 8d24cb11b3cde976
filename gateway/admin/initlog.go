package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
)

// InitLogConfig is the init-log setting (LOG-09) as saved for the next
// start, with the seeds' reminder that it needs a restart.
type InitLogConfig struct {
	Enabled   bool   `json:"enabled"`
	Verbosity string `json:"verbosity"` // level1..level4
	Message   string `json:"message"`
}

// initLogMessage is the seeds' "Restart tomcat service to make this
// effective." for a gateway.
const initLogMessage = "Restart the gateway to make this effective."

func (a *api) initLogShow(w http.ResponseWriter, _ *http.Request) {
	if a.d.InitLogFile == "" {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no init log"))
		return
	}
	s, err := logctl.LoadInit(a.d.InitLogFile)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, InitLogConfig{Enabled: s.Enabled, Verbosity: s.Level.String(), Message: initLogMessage})
}

// initLogSet is `debug sentry init-log [level]` (level_4_highest when
// none is given) and `no debug sentry init-log`.
func (a *api) initLogSet(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled   *bool  `json:"enabled"`
		Verbosity string `json:"verbosity"`
	}
	if err := decodeBody(r, &body); err != nil || body.Enabled == nil {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"enabled": true|false, "verbosity": "level_1_lowest|level_2|level_3|level_4_highest"}`))
		return
	}
	if a.d.InitLogFile == "" {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no init log"))
		return
	}
	s, err := logctl.LoadInit(a.d.InitLogFile)
	if err != nil {
		s = logctl.DefaultInit() // a damaged setting is replaced whole
	}
	s.Enabled = *body.Enabled
	if s.Enabled {
		s.Level = logctl.Level4
		if body.Verbosity != "" {
			if s.Level, err = logctl.ParseLevel(body.Verbosity); err != nil {
				writeErr(w, http.StatusBadRequest, fieldErr("verbosity", "%v", err))
				return
			}
		}
	}
	if err := logctl.SaveInit(a.d.InitLogFile, s); err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	a.initLogShow(w, r)
}

// InitLog returns the init-log setting for the next start (LOG-09).
func (c *Client) InitLog(ctx context.Context) (*InitLogConfig, error) {
	var out InitLogConfig
	return &out, c.do(ctx, http.MethodGet, "log/init", nil, &out)
}

// SetInitLog switches initialisation logging at the next start; an empty
// verbosity is level_4_highest (LOG-09).
func (c *Client) SetInitLog(ctx context.Context, on bool, verbosity string) (*InitLogConfig, error) {
	var out InitLogConfig
	return &out, c.do(ctx, http.MethodPut, "log/init", map[string]any{"enabled": on, "verbosity": verbosity}, &out)
}
