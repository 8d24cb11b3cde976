package activesync

import (
	"fmt"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// Alerts (ALR-01, ALR-03): HTTP errors the device gets and the ActiveSync
// error statuses the gateway writes raise an alert whose ID is the
// command's (AS_SYNC, AS_PING...); Kerberos failures raise KERBEROS.

// alertResponse raises the alert of x's response, when it was an error.
// 401 (the authentication challenge) and 449 (provision first) are the
// protocol's normal course, not errors.
func (h *Handler) alertResponse(x *exchange, rec *statusRecorder) {
	code := rec.code
	if h.cfg.Alerts == nil || x.alerted || code < 400 || code == http.StatusUnauthorized || code == eas.HTTPRetryWith {
		return
	}
	lvl, from := alerts.Warning, ""
	if code >= 500 {
		lvl = alerts.Error
	}
	if x.s503 { // known when statistics are on (countServerResponse)
		from = " from the ActiveSync server"
	}
	h.raise(x, alerts.CommandID(string(x.info.Query.Cmd)), lvl,
		fmt.Sprintf("HTTP %d %s for %s%s", code, http.StatusText(code), x.info.Query.Cmd, from))
}

// alertStatus raises the alert of an error Status the gateway wrote in
// the command's response.
func (h *Handler) alertStatus(x *exchange, st eas.Status, why string) {
	h.raise(x, alerts.CommandID(string(x.info.Query.Cmd)), alerts.Warning,
		fmt.Sprintf("ActiveSync Status %d for %s: %s", int(st), x.info.Query.Cmd, why))
}

func (h *Handler) raise(x *exchange, id string, lvl alerts.Level, desc string) {
	if h.cfg.Alerts == nil {
		return
	}
	x.alerted = true // one alert per request: its first cause
	h.cfg.Alerts.Raise(alerts.Alert{ID: id, Level: lvl, Device: x.key.DeviceID, User: x.key.User, Service: "ActiveSync", Description: desc})
}
