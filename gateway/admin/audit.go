package admin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
)

// AuditConfig is `show sentry audit config` (AUD-11).
type AuditConfig struct {
	Enabled bool `json:"enabled"`
	// Dropped counts entries lost because the log's buffer stayed full
	// (a stalled disk, issue 22).
	Dropped uint64 `json:"dropped"`
}

func (a *api) auditShow(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, AuditConfig{Enabled: a.d.Audit.Enabled(), Dropped: a.d.Audit.Dropped()})
}

// auditFlush writes the buffered entries to audit.log before it answers,
// for readers of the file right after traffic: the log writes in batches
// (at most 100 ms late).
func (a *api) auditFlush(w http.ResponseWriter, r *http.Request) {
	if err := a.d.Audit.Flush(); err != nil {
		writeErr(w, http.StatusInternalServerError, fmt.Errorf("audit flush: %w", err))
		return
	}
	a.auditShow(w, r)
}

// auditSet is `sentry audit` / `no sentry audit`: it takes effect on the
// next request and is kept across restarts (localpersist.go).
func (a *api) auditSet(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeBody(r, &body); err != nil || body.Enabled == nil {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"enabled": true|false}`))
		return
	}
	if a.d.Audit == nil {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no audit log"))
		return
	}
	a.d.Audit.SetEnabled(*body.Enabled)
	if a.saved(w) {
		a.auditShow(w, r)
	}
}

// Audit returns whether the audit log is on (AUD-11).
func (c *Client) Audit(ctx context.Context) (*AuditConfig, error) {
	var out AuditConfig
	return &out, c.do(ctx, http.MethodGet, "audit", nil, &out)
}

// FlushAudit returns once every audit entry written before the call is in
// the gateway's audit.log.
func (c *Client) FlushAudit(ctx context.Context) (*AuditConfig, error) {
	var out AuditConfig
	return &out, c.do(ctx, http.MethodPost, "audit/flush", nil, &out)
}

// SetAudit switches the audit log on or off at run time (AUD-11).
func (c *Client) SetAudit(ctx context.Context, on bool) (*AuditConfig, error) {
	var out AuditConfig
	return &out, c.do(ctx, http.MethodPut, "audit", map[string]bool{"enabled": on}, &out)
}
