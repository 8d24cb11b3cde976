package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
)

// Both settings here (init-log, LOG-09; gc-log, LOG-10) act from the
// gateway's next start, so they are saved in its data directory and each
// answer carries the seeds' reminder.

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

// GCLogConfig is `show sentry gc-log` (LOG-10): the setting for the next
// start.
type GCLogConfig struct {
	Enabled   bool   `json:"enabled"`
	FileCount int    `json:"file_count"`
	FileSize  string `json:"file_size"` // 20M, 8K
	Message   string `json:"message"`
}

func (a *api) gcLogShow(w http.ResponseWriter, _ *http.Request) {
	if a.d.GCLogFile == "" {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no gc log"))
		return
	}
	s, err := logctl.LoadGC(a.d.GCLogFile)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, GCLogConfig{Enabled: s.Enabled, FileCount: s.FileCount, FileSize: logctl.FormatSize(s.FileSize), Message: initLogMessage})
}

// gcLogSet is `sentry gc-log [file-count] [file-size]` (a value left out
// is the default: 5 files of 20M) and `no sentry gc-log`.
func (a *api) gcLogSet(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled   *bool  `json:"enabled"`
		FileCount int    `json:"file_count"`
		FileSize  string `json:"file_size"`
	}
	if err := decodeBody(r, &body); err != nil || body.Enabled == nil {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"enabled": true|false, "file_count": 1-100, "file_size": "8K-300M"}`))
		return
	}
	if a.d.GCLogFile == "" {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no gc log"))
		return
	}
	s, err := logctl.LoadGC(a.d.GCLogFile)
	if err != nil {
		s = logctl.DefaultGC() // a damaged setting is replaced whole
	}
	s.Enabled = *body.Enabled
	if s.Enabled {
		s.FileCount, s.FileSize = logctl.DefaultGCFiles, logctl.DefaultGCFileSize
		if body.FileCount != 0 {
			s.FileCount = body.FileCount
		}
		if body.FileSize != "" {
			if s.FileSize, err = logctl.ParseSize(body.FileSize); err != nil {
				writeErr(w, http.StatusBadRequest, fieldErr("file_size", "%v", err))
				return
			}
		}
	}
	if err := s.Validate(); err != nil {
		field, why, _ := strings.Cut(err.Error(), ": ")
		writeErr(w, http.StatusBadRequest, fieldErr(field, "%s", why))
		return
	}
	if err := logctl.SaveGC(a.d.GCLogFile, s); err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	a.gcLogShow(w, r)
}

// GCLog returns the gc-log setting for the next start (LOG-10).
func (c *Client) GCLog(ctx context.Context) (*GCLogConfig, error) {
	var out GCLogConfig
	return &out, c.do(ctx, http.MethodGet, "log/gc", nil, &out)
}

// SetGCLog switches the GC log at the next start; zero values are the
// defaults (5 files of 20M).
func (c *Client) SetGCLog(ctx context.Context, on bool, files int, size string) (*GCLogConfig, error) {
	var out GCLogConfig
	return &out, c.do(ctx, http.MethodPut, "log/gc", map[string]any{"enabled": on, "file_count": files, "file_size": size}, &out)
}
