package uemapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// IntegratedConfig is the Integrated Sentry entry (INT-01 to INT-04,
// INT-07): where the connector reaches Exchange's management side, the
// shared secret, which groups it handles and how often it syncs.
type IntegratedConfig struct {
	Server          string `json:"server"`                     // INT-01
	Port            int    `json:"port"`                       // INT-01
	SecondaryServer string `json:"secondary_server,omitempty"` // used when the primary is unavailable
	SecondaryPort   int    `json:"secondary_port,omitempty"`
	// Secret is the shared connection secret ("Secret"/"Confirm Secret");
	// the connector presents it to Exchange's management side.
	Secret string `json:"secret"`
	// LDAPGroups is "Apply to LDAP Groups": empty means every group
	// (INT-02); not used for hosted Exchange.
	LDAPGroups []string `json:"ldap_groups,omitempty"`
	// O365Groups are full group DNs (INT-03); empty: every mailbox. Only
	// with Hosted.
	O365Groups []string `json:"o365_groups,omitempty"`
	// Hosted is set for hosted Exchange / Office 365 (INT-04).
	Hosted *HostedExchange `json:"hosted,omitempty"`
	// SyncIntervalMinutes is "Sentry Sync Interval" of the differential
	// sync (INT-07); 0 means the default, 240.
	SyncIntervalMinutes int `json:"sync_interval_minutes,omitempty"`
	// SkipRecalculate turns off Get-CASMailbox
	// -RecalculateHasActiveSyncDevicePartnership before each hosted sync
	// (INT-12: on by default).
	SkipRecalculate bool `json:"skip_recalculate,omitempty"`
}

// HostedExchange is the hosted Exchange part of the entry (INT-04).
type HostedExchange struct {
	RemoteFQDN            string `json:"remote_fqdn"`    // e.g. ps.outlook.com
	Authentication        string `json:"authentication"` // "Basic" for Office 365
	UseSSL                bool   `json:"use_ssl"`
	UseServiceCredentials bool   `json:"use_service_credentials"` // off for Office 365
	UserName              string `json:"user_name,omitempty"`     // domain_name\username
	Password              string `json:"password,omitempty"`
	DontSaveCredentials   bool   `json:"dont_save_credentials,omitempty"`
}

// DefaultSyncIntervalMinutes is the default differential interval (INT-07).
const DefaultSyncIntervalMinutes = 240

// SyncInterval is the differential sync interval.
func (c *IntegratedConfig) SyncInterval() time.Duration {
	if c.SyncIntervalMinutes == 0 {
		return DefaultSyncIntervalMinutes * time.Minute
	}
	return time.Duration(c.SyncIntervalMinutes) * time.Minute
}

func (c *IntegratedConfig) validate() error {
	const f = "integrated"
	switch {
	case c.Server == "" || strings.ContainsAny(c.Server, "/ "):
		return FieldError(f+".server", "is required: a host name or address")
	case c.Port < 1 || c.Port > 65535:
		return FieldError(f+".port", "must be 1..65535")
	case c.SecondaryServer != "" && (c.SecondaryPort < 1 || c.SecondaryPort > 65535):
		return FieldError(f+".secondary_port", "must be 1..65535 with a secondary server")
	case c.SecondaryServer == "" && c.SecondaryPort != 0:
		return FieldError(f+".secondary_server", "is required with a secondary port")
	case len(c.Secret) < 8:
		return FieldError(f+".secret", "must be at least 8 characters")
	case c.SyncIntervalMinutes < 0 || c.SyncIntervalMinutes > 7*24*60:
		return FieldError(f+".sync_interval_minutes", "must be 0 (default) to 10080")
	case c.Hosted != nil && len(c.LDAPGroups) > 0:
		return FieldError(f+".ldap_groups", "is not used for hosted Exchange (INT-02); use o365_groups")
	case c.Hosted == nil && len(c.O365Groups) > 0:
		return FieldError(f+".o365_groups", "needs hosted Exchange")
	}
	for i, g := range c.O365Groups {
		if !strings.Contains(strings.ToUpper(g), "CN=") && !strings.Contains(strings.ToUpper(g), "DC=") {
			return FieldError(indexed(f+".o365_groups", i), "must be a full group DN, one per entry (INT-03)")
		}
	}
	if h := c.Hosted; h != nil {
		switch {
		case h.RemoteFQDN == "":
			return FieldError(f+".hosted.remote_fqdn", "is required")
		case h.Authentication != "Basic":
			return FieldError(f+".hosted.authentication", `must be "Basic"`)
		case h.UserName == "" && !h.UseServiceCredentials:
			return FieldError(f+".hosted.user_name", "is required without service credentials")
		}
	}
	return nil
}

// PathIntegratedStatus is where an integrated connector reports its sync
// state and errors; the UEM shows them on the gateway entry (INT-16).
const PathIntegratedStatus = PathPrefix + "/integrated/status"

// IntegratedStatus is the body of POST PathIntegratedStatus.
type IntegratedStatus struct {
	State            string    `json:"state"` // "idle", "full", "differential"
	LastFull         time.Time `json:"last_full,omitzero"`
	LastDifferential time.Time `json:"last_differential,omitzero"`
	LastSuccess      time.Time `json:"last_success,omitzero"`
	Mailboxes        int       `json:"mailboxes"`
	Devices          int       `json:"devices"`
	// Errors are the current errors, newest last; empty once a sync
	// succeeded.
	Errors []string `json:"errors,omitempty"`
}

// ReportIntegratedStatus sends the connector's state and errors.
func (c *Client) ReportIntegratedStatus(ctx context.Context, st IntegratedStatus) error {
	return c.do(ctx, http.MethodPost, PathIntegratedStatus, nil, st, nil)
}

// PathDeviceReportBatch reports many devices at once: an integrated
// connector's full sync finds every partnership of the organisation.
const PathDeviceReportBatch = PathPrefix + "/devices/report-batch"

// MaxReportBatch bounds the items of one batch report.
const MaxReportBatch = 1000

// DeviceReportBatch is the body of POST PathDeviceReportBatch; the
// answer holds one Decision per item, in order. One invalid item refuses
// the batch (invalid_field naming items[i]).
type DeviceReportBatch struct {
	Items []DeviceReport `json:"items"`
}

// DecisionBatch answers a DeviceReportBatch.
type DecisionBatch struct {
	Items []Decision `json:"items"`
}

// ReportDevices reports up to MaxReportBatch devices at once.
func (c *Client) ReportDevices(ctx context.Context, items []DeviceReport) ([]Decision, error) {
	var out DecisionBatch
	if err := c.do(ctx, http.MethodPost, PathDeviceReportBatch, nil, DeviceReportBatch{Items: items}, &out); err != nil {
		return nil, err
	}
	if len(out.Items) != len(items) {
		return nil, fmt.Errorf("uemapi: batch report: %d decisions for %d devices", len(out.Items), len(items))
	}
	return out.Items, nil
}
