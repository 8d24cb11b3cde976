package admin

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// StatsCollection is the state of statistics collection (STA-08).
type StatsCollection struct {
	Enabled  bool   `json:"enabled"`
	Interval string `json:"interval"` // Go duration, "5m0s"
}

// statsRoutes registers the statistics endpoints (STA-06..11).
func (a *api) statsRoutes(mux *httpapi.Mux) {
	mux.HandleFunc("GET "+Prefix+"statistics/entry/{device}/{user}", a.statsEntry)
	mux.HandleFunc("GET "+Prefix+"statistics/global/device", a.statsGlobal)
	mux.HandleFunc("GET "+Prefix+"statistics/global/system", a.statsSystem)
	mux.HandleFunc("GET "+Prefix+"statistics/download", a.statsDownload)
	mux.HandleFunc("GET "+Prefix+"statistics/collection", a.statsCollection)
	mux.HandleFunc("PUT "+Prefix+"statistics/collection", a.statsSetCollection)
	mux.HandleFunc("POST "+Prefix+"statistics/reset", a.statsReset)
	mux.HandleFunc("GET "+Prefix+"utilization", a.utilization)
}

// statsDownload is "Download Sentry Statistics" (STA-11): a ZIP of
// global-stats.csv and all-device-stats.csv.
func (a *api) statsDownload(w http.ResponseWriter, r *http.Request) {
	if a.d.Stats == nil || a.d.Peaks == nil {
		writeErr(w, http.StatusConflict, errors.New("statistics are off"))
		return
	}
	var b bytes.Buffer
	if err := (stats.Files{Dir: a.d.StatsDir}).Zip(&b, a.d.Stats, a.d.Peaks, a.d.Now()); err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="sentry-stats.zip"`)
	w.Write(b.Bytes())
}

func (a *api) statsCollection(w http.ResponseWriter, r *http.Request) {
	if a.d.Collection == nil {
		writeErr(w, http.StatusConflict, errors.New("statistics collection is not configurable here"))
		return
	}
	on, iv := a.d.Collection.State()
	writeJSON(w, StatsCollection{Enabled: on, Interval: iv.String()})
}

// statsSetCollection starts or stops collection and changes its interval;
// a field left out keeps its value.
func (a *api) statsSetCollection(w http.ResponseWriter, r *http.Request) {
	if a.d.Collection == nil {
		writeErr(w, http.StatusConflict, errors.New("statistics collection is not configurable here"))
		return
	}
	var body struct {
		Enabled  *bool   `json:"enabled"`
		Interval *string `json:"interval"`
	}
	if err := decodeBody(r, &body); err != nil {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"enabled": true|false, "interval": "5m"}`))
		return
	}
	var iv *time.Duration
	if body.Interval != nil {
		d, err := time.ParseDuration(*body.Interval)
		if err != nil {
			writeErr(w, http.StatusBadRequest, httpapi.FieldError("interval", "%v", err))
			return
		}
		iv = &d
	}
	if err := a.d.Collection.Set(body.Enabled, iv); err != nil {
		writeErr(w, http.StatusBadRequest, httpapi.FieldError("interval", "%v", err))
		return
	}
	if a.saved(w) {
		a.statsCollection(w, r)
	}
}

// statsReset is `Apply & Reset Statistics` (STA-08): zero the counters and
// peaks and clear the files; collection goes on.
func (a *api) statsReset(w http.ResponseWriter, r *http.Request) {
	if a.d.Stats == nil || a.d.Peaks == nil {
		writeErr(w, http.StatusConflict, errors.New("statistics are off"))
		return
	}
	a.d.Stats.Reset()
	a.d.Peaks.Reset()
	if a.d.StatsDir != "" {
		if err := (stats.Files{Dir: a.d.StatsDir}).Clear(); err != nil {
			writeErr(w, http.StatusInternalServerError, err)
			return
		}
	}
	writeJSON(w, Count{Message: "Statistics reset."})
}

func (a *api) statsEntry(w http.ResponseWriter, r *http.Request) {
	if a.d.Stats == nil {
		writeErr(w, http.StatusConflict, errors.New("statistics are off"))
		return
	}
	var d *stats.Device
	ok := anySpelling(r.PathValue("user"), func(u string) bool {
		d, _ = a.d.Stats.Lookup(r.PathValue("device"), u)
		return d != nil
	})
	if !ok {
		writeErr(w, http.StatusNotFound, errors.New("no statistics for that device and user"))
		return
	}
	writeJSON(w, counters(stats.Filter(d.Values(), r.URL.Query().Get("filter"))))
}

func (a *api) statsGlobal(w http.ResponseWriter, r *http.Request) {
	if a.d.Stats == nil {
		writeErr(w, http.StatusConflict, errors.New("statistics are off"))
		return
	}
	writeJSON(w, counters(stats.Filter(a.d.Stats.Global(), r.URL.Query().Get("filter"))))
}

func (a *api) statsSystem(w http.ResponseWriter, r *http.Request) {
	if a.d.Peaks == nil {
		writeErr(w, http.StatusConflict, errors.New("statistics are off"))
		return
	}
	filter := r.URL.Query().Get("filter")
	var out []Peak
	for _, p := range a.d.Peaks.All() {
		if filter == "" || strings.Contains(p.Name, filter) {
			out = append(out, Peak{Name: p.Name, Value: p.Value, At: p.At})
		}
	}
	writeJSON(w, out)
}

// utilization is `show sentry utilization` (STA-12).
func (a *api) utilization(w http.ResponseWriter, r *http.Request) {
	if a.d.Utilization == nil {
		writeErr(w, http.StatusConflict, errors.New("utilization is not offered here"))
		return
	}
	writeJSON(w, a.d.Utilization())
}
