package admin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// ExportConfig returns the appliance-local configuration as XML (CFG-01).
func (c *Client) ExportConfig(ctx context.Context) ([]byte, error) {
	return c.raw(ctx, http.MethodGet, "config/export", nil)
}

// ImportConfig loads an exported file (CFG-02) and returns the
// configuration now in force.
func (c *Client) ImportConfig(ctx context.Context, file []byte) ([]byte, error) {
	return c.raw(ctx, http.MethodPost, "config/import", file)
}

// raw is do for XML bodies.
func (c *Client) raw(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+Prefix+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/xml")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	if resp.StatusCode >= 300 {
		if e := httpapi.ParseError(resp.StatusCode, data); e != nil && e.Message != "" {
			return nil, &APIError{Status: resp.Status, Err: e}
		}
		return nil, fmt.Errorf("admin: %s", resp.Status)
	}
	return data, nil
}
