package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// Run-time settings (issue 22): the syslog targets the audit log is
// forwarded to (AUD-12) and the alert notifications (ALR-07). A PUT
// replaces the whole setting, after validating all of it (the error names
// the field); it is kept across restarts (localpersist.go), and `ctl
// config export` saves it.

// SyslogTargets is `show syslog`: the targets and, on GET, what each has
// sent and dropped.
type SyslogTargets struct {
	Targets []SyslogTargetState `json:"targets"`
}

// SyslogTargetState is one target with its counters.
type SyslogTargetState struct {
	audit.SyslogTarget
	Sent    uint64 `json:"sent"`
	Dropped uint64 `json:"dropped"` // queue full (a slow or stalled server)
}

// syslogBody is the PUT body: the targets alone.
type syslogBody struct {
	Targets []audit.SyslogTarget `json:"targets"`
}

func (a *api) settingsRoutes(mux *httpapi.Mux) {
	mux.HandleFunc("GET "+Prefix+"syslog", a.syslogShow)
	mux.HandleFunc("PUT "+Prefix+"syslog", a.syslogSet)
	mux.HandleFunc("GET "+Prefix+"alerts/notify", a.notifyShow)
	mux.HandleFunc("PUT "+Prefix+"alerts/notify", a.notifySet)
}

func (a *api) syslogShow(w http.ResponseWriter, _ *http.Request) {
	out := SyslogTargets{Targets: []SyslogTargetState{}}
	for _, s := range a.d.Audit.Syslogs() {
		out.Targets = append(out.Targets, SyslogTargetState{SyslogTarget: s.Target(), Sent: s.Sent(), Dropped: s.Dropped()})
	}
	writeJSON(w, out)
}

func (a *api) syslogSet(w http.ResponseWriter, r *http.Request) {
	var body syslogBody
	if err := decodeBody(r, &body); err != nil || body.Targets == nil {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"targets": [{"server", "port", "protocol", "facility", "level", "disabled"}, ...]}`))
		return
	}
	if a.d.Audit == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no audit log"))
		return
	}
	if err := a.applySyslog(body.Targets); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if a.saved(w) {
		a.syslogShow(w, r)
	}
}

// applySyslog validates every target, then puts the list in force. A
// target already in force keeps its connection and counters; the ones
// removed are closed in the background (each sends its queue for up to
// a second).
func (a *api) applySyslog(ts []audit.SyslogTarget) error {
	if err := validateSyslog(ts); err != nil {
		return err
	}
	current := map[audit.SyslogTarget]*audit.Syslog{}
	for _, s := range a.d.Audit.Syslogs() {
		current[s.Target()] = s
	}
	next := make([]*audit.Syslog, 0, len(ts))
	for _, t := range ts {
		s, ok := current[t]
		if !ok {
			var err error
			if s, err = audit.NewSyslog(t, a.d.Audit.Host()); err != nil {
				return err // validated above: cannot happen
			}
		}
		delete(current, t)
		next = append(next, s)
	}
	a.d.Audit.SetSyslogs(next)
	for _, old := range current {
		go old.Close()
	}
	return nil
}

// validateSyslog checks each target (defaults filled in) and that no two
// name the same server, port and protocol.
func validateSyslog(ts []audit.SyslogTarget) error {
	seen := map[string]int{}
	for i := range ts {
		if err := ts[i].Validate(); err != nil {
			return namedField(fmt.Sprintf("targets[%d].", i), strings.TrimPrefix(err.Error(), "syslog: "))
		}
		k := fmt.Sprintf("%s %d %s", ts[i].Server, ts[i].Port, ts[i].Protocol)
		if j, dup := seen[k]; dup {
			return fieldErr(fmt.Sprintf("targets[%d].server", i), "%s port %d %s is already targets[%d]", ts[i].Server, ts[i].Port, ts[i].Protocol, j)
		}
		seen[k] = i
	}
	return nil
}

// namedField turns a validation message "field: why" into a field error
// named prefix+field.
func namedField(prefix, msg string) error {
	field, why, ok := strings.Cut(msg, ": ")
	if !ok {
		return fieldErr(strings.TrimSuffix(prefix, "."), "%s", msg)
	}
	return fieldErr(prefix+field, "%s", why)
}

func (a *api) notifyShow(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, a.d.Alerts.Config())
}

func (a *api) notifySet(w http.ResponseWriter, r *http.Request) {
	var cfg alerts.Config
	if err := decodeBody(r, &cfg); err != nil {
		writeErr(w, http.StatusBadRequest, usage(err, "body must be the alerts notification settings (GET alerts/notify)"))
		return
	}
	if a.d.Alerts == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no alerts"))
		return
	}
	if err := a.setNotify(cfg); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	if a.saved(w) {
		a.notifyShow(w, r)
	}
}

// setNotify validates and applies cfg, naming the field at fault
// ("smtp.port", "emails[0]").
func (a *api) setNotify(cfg alerts.Config) error {
	if err := a.d.Alerts.SetConfig(cfg); err != nil {
		return namedField("", strings.TrimPrefix(err.Error(), "alerts."))
	}
	return nil
}

// Syslog returns the syslog targets with their counters (AUD-12).
func (c *Client) Syslog(ctx context.Context) (*SyslogTargets, error) {
	var out SyslogTargets
	return &out, c.do(ctx, http.MethodGet, "syslog", nil, &out)
}

// SetSyslog replaces the syslog targets at run time (AUD-12).
func (c *Client) SetSyslog(ctx context.Context, ts []audit.SyslogTarget) (*SyslogTargets, error) {
	var out SyslogTargets
	if ts == nil {
		ts = []audit.SyslogTarget{}
	}
	return &out, c.do(ctx, http.MethodPut, "syslog", syslogBody{Targets: ts}, &out)
}

// AlertsNotify returns the alert notification settings (ALR-07).
func (c *Client) AlertsNotify(ctx context.Context) (*alerts.Config, error) {
	var out alerts.Config
	return &out, c.do(ctx, http.MethodGet, "alerts/notify", nil, &out)
}

// SetAlertsNotify replaces the alert notification settings at run time
// (ALR-07).
func (c *Client) SetAlertsNotify(ctx context.Context, cfg alerts.Config) (*alerts.Config, error) {
	var out alerts.Config
	return &out, c.do(ctx, http.MethodPut, "alerts/notify", cfg, &out)
}

func trimAlerts(msg string) string { return strings.TrimPrefix(msg, "alerts.") }

func itoa(i int) string { return fmt.Sprint(i) }

// prefixField renames a field error's field to prefix+field.
func prefixField(prefix string, err error) error {
	var e *httpapi.Error
	if errors.As(err, &e) && e.Field != "" {
		why := strings.TrimPrefix(e.Message, e.Field+": ")
		return fieldErr(prefix+e.Field, "%s", why)
	}
	return err
}
