package admin

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// LocalConfig is the appliance-local configuration that Export
// Configuration saves and Import Configuration loads, as one XML file
// (CFG-01, CFG-02). Only settings local to the gateway are in it: the
// service configuration the UEM delivers (ActiveSync, AppTunnel,
// Kerberos, attachments) is not (CFG-04). A field left out on import
// keeps its current value.
type LocalConfig struct {
	XMLName     xml.Name         `xml:"sentry-configuration"`
	Version     int              `xml:"version,attr"`
	Audit       *bool            `xml:"audit,omitempty"`
	EMMFailOpen *bool            `xml:"emm-fail-open,omitempty"`
	Statistics  *LocalStatistics `xml:"statistics,omitempty"`
	// Syslog and AlertsNotify: localconfig_obs.go.
	Syslog       *LocalSyslog `xml:"syslog,omitempty"`
	AlertsNotify *LocalNotify `xml:"alerts-notify,omitempty"`
}

// LocalStatistics is statistics collection in the exported file (STA-08).
type LocalStatistics struct {
	Enabled  *bool   `xml:"enabled,omitempty"`
	Interval *string `xml:"interval,omitempty"` // Go duration, "5m0s"
}

// localConfigVersion is the file format's version.
const localConfigVersion = 1

// localConfigFields are the element paths a file may hold.
var localConfigFields = map[string]bool{
	"sentry-configuration": true, "sentry-configuration/audit": true, "sentry-configuration/emm-fail-open": true,
	"sentry-configuration/statistics": true, "sentry-configuration/statistics/enabled": true,
	"sentry-configuration/statistics/interval": true,
}

func (a *api) configRoutes(mux *httpapi.Mux) {
	mux.HandleFunc("GET "+Prefix+"config/export", a.configExport)
	mux.HandleFunc("POST "+Prefix+"config/import", a.configImport)
	mux.HandleFunc("POST "+Prefix+"config/clear", a.configClear) // clearconfig.go
}

// exportLocal returns the current local configuration.
func (a *api) exportLocal() LocalConfig {
	c := LocalConfig{Version: localConfigVersion}
	if a.d.Audit != nil {
		on := a.d.Audit.Enabled()
		c.Audit = &on
	}
	if a.d.Link != nil {
		fo := a.d.Link.Status().FailOpen
		c.EMMFailOpen = &fo
	}
	if a.d.Collection != nil {
		on, iv := a.d.Collection.State()
		s := iv.String()
		c.Statistics = &LocalStatistics{Enabled: &on, Interval: &s}
	}
	a.exportObs(&c)
	return c
}

func (a *api) configExport(w http.ResponseWriter, r *http.Request) {
	out, err := xml.MarshalIndent(a.exportLocal(), "", "  ")
	if err != nil {
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("config export: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Write(append(append([]byte(xml.Header), out...), '\n'))
}

// configImport validates the whole file, then applies it; nothing is
// applied when any field is wrong, and the error names the field.
func (a *api) configImport(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("config import: %w", err))
		return
	}
	if err := a.applyLocal(data, false); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if !a.saved(w) {
		return
	}
	out, _ := xml.MarshalIndent(a.exportLocal(), "", "  ")
	w.Header().Set("Content-Type", "application/xml")
	w.Write(append(append([]byte(xml.Header), out...), '\n'))
}

// applyLocal validates a local configuration file whole, then applies
// it. At start (restoring) statistics collection takes only the interval:
// whether it runs is the bootstrap configuration's (INC-02).
func (a *api) applyLocal(data []byte, restoring bool) error {
	c, iv, err := a.parseLocal(data)
	var targets []audit.SyslogTarget
	var notify *alerts.Config
	if err == nil {
		targets, notify, err = a.parseObs(c)
	}
	if err != nil {
		return err
	}
	if notify != nil { // first: the only part that can still fail (its password file)
		if err := a.setNotify(*notify); err != nil {
			return prefixField("alerts-notify/", err)
		}
	}
	if c.Syslog != nil {
		_ = a.applySyslog(targets) // validated by parseObs
	}
	if c.Audit != nil {
		a.d.Audit.SetEnabled(*c.Audit)
	}
	if c.EMMFailOpen != nil {
		a.d.Link.SetFailOpen(*c.EMMFailOpen, uemsync.ByCLI)
	}
	if c.Statistics == nil {
		return nil
	}
	enabled := c.Statistics.Enabled
	if restoring {
		enabled = nil
	}
	if err := a.d.Collection.Set(enabled, iv); err != nil {
		return fieldErr("statistics/interval", "%v", err)
	}
	return nil
}

// parseLocal checks every element name, the version and each value, and
// that this gateway has the part a field sets.
func (a *api) parseLocal(data []byte) (LocalConfig, *time.Duration, error) {
	var c LocalConfig
	if err := checkFields(data); err != nil {
		return c, nil, err
	}
	if err := xml.Unmarshal(data, &c); err != nil {
		return c, nil, fmt.Errorf("config import: %w", err)
	}
	if c.Version != localConfigVersion {
		return c, nil, fieldErr("version", "version %d, want %d", c.Version, localConfigVersion)
	}
	switch {
	case c.Audit != nil && a.d.Audit == nil:
		return c, nil, fieldErr("audit", "this gateway has no audit log")
	case c.EMMFailOpen != nil && a.d.Link == nil:
		return c, nil, fieldErr("emm-fail-open", "this gateway has no UEM link")
	case c.Statistics != nil && a.d.Collection == nil:
		return c, nil, fieldErr("statistics", "statistics collection is not configurable here")
	}
	if c.Statistics == nil || c.Statistics.Interval == nil {
		return c, nil, nil
	}
	iv, err := time.ParseDuration(strings.TrimSpace(*c.Statistics.Interval))
	if err != nil || iv < time.Second {
		return c, nil, fieldErr("statistics/interval", "%q is not a duration of 1s or more", *c.Statistics.Interval)
	}
	return c, &iv, nil
}

// checkFields rejects an element or attribute the format does not have,
// naming it by its path.
func checkFields(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	var path []string
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("config import: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			p := strings.Join(path, "/")
			if !localConfigFields[p] {
				return fieldErr(strings.TrimPrefix(p, "sentry-configuration/"), "unknown field")
			}
			for _, at := range t.Attr {
				if len(path) != 1 || at.Name.Local != "version" {
					return fieldErr(p+"@"+at.Name.Local, "unknown attribute")
				}
			}
		case xml.EndElement:
			path = path[:len(path)-1]
		}
	}
}

// fieldErr is a 400 naming field both in the error body and in its
// message, so that `ctl` (which prints the message) names it too.
func fieldErr(field, format string, args ...any) error {
	return httpapi.FieldError(field, "%s: %s", field, fmt.Sprintf(format, args...))
}
