package admin

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// StatsDownload copies the statistics ZIP (STA-11) to w.
func (c *Client) StatsDownload(ctx context.Context, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+Prefix+"statistics/download", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin: statistics download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if e := httpapi.ParseError(resp.StatusCode, data); e != nil && e.Message != "" {
			return &APIError{Status: resp.Status, Err: e}
		}
		return fmt.Errorf("admin: statistics download: %s", resp.Status)
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("admin: statistics download: %w", err)
	}
	return nil
}

// StatsCollection reads whether statistics are collected and how often (STA-08).
func (c *Client) StatsCollection(ctx context.Context) (*StatsCollection, error) {
	var out StatsCollection
	return &out, c.do(ctx, http.MethodGet, "statistics/collection", nil, &out)
}

// SetStatsCollection starts/stops collection (enabled) and sets its
// interval ("5m"); nil keeps the current value.
func (c *Client) SetStatsCollection(ctx context.Context, enabled *bool, interval *string) (*StatsCollection, error) {
	var out StatsCollection
	body := struct {
		Enabled  *bool   `json:"enabled,omitempty"`
		Interval *string `json:"interval,omitempty"`
	}{enabled, interval}
	return &out, c.do(ctx, http.MethodPut, "statistics/collection", body, &out)
}

// StatsReset zeroes the counters and peaks and clears the files (STA-08).
func (c *Client) StatsReset(ctx context.Context) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "statistics/reset", nil, &out)
}

// Utilization reads `show sentry utilization` (STA-12).
func (c *Client) Utilization(ctx context.Context) (*stats.Utilization, error) {
	var out stats.Utilization
	return &out, c.do(ctx, http.MethodGet, "utilization", nil, &out)
}

// Diagnose runs Service Diagnosis: Verify on one service (EMM, EAS, DNS,
// NTP), or Verify All when service is "" (SVD-01).
func (c *Client) Diagnose(ctx context.Context, service string) ([]DiagnosisRow, error) {
	path := "diagnose"
	if service != "" {
		path += "/" + url.PathEscape(service)
	}
	var out []DiagnosisRow
	return out, c.do(ctx, http.MethodPost, path, nil, &out)
}
