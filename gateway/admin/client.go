package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// APIError is an error answer of the admin API. It prints as `gatehouse
// ctl` shows it, "admin: 400 Bad Request: <message>"; errors.As finds
// the *httpapi.Error with its code and field.
type APIError struct {
	Status string // status line, "400 Bad Request"
	Err    *httpapi.Error
}

func (e *APIError) Error() string { return "admin: " + e.Status + ": " + e.Err.Message }

// Unwrap returns the error body.
func (e *APIError) Unwrap() error { return e.Err }

// Client calls a gateway's admin API.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// NewClient returns a client for the admin API at baseURL (e.g.
// https://127.0.0.1:9091) with the given token.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimSuffix(baseURL, "/"), token: token, hc: hc}
}

func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+Prefix+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if resp.StatusCode >= 300 {
		if e := httpapi.ParseError(resp.StatusCode, data); e != nil && e.Message != "" {
			return &APIError{Status: resp.Status, Err: e}
		}
		return fmt.Errorf("admin: %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

// Dump lists the cache: kind is all, active-sync or app-tunnel (DC-10).
func (c *Client) Dump(ctx context.Context, kind string) ([]Entry, error) {
	var out []Entry
	return out, c.do(ctx, http.MethodGet, "device-cache?kind="+url.QueryEscape(kind), nil, &out)
}

// ByDevice lists entries whose device id contains id (DC-12).
func (c *Client) ByDevice(ctx context.Context, id string) ([]Entry, error) {
	var out []Entry
	return out, c.do(ctx, http.MethodGet, "device-cache/device/"+url.PathEscape(id), nil, &out)
}

// ByUser lists entries whose user contains id (DC-13).
func (c *Client) ByUser(ctx context.Context, id string) ([]Entry, error) {
	var out []Entry
	return out, c.do(ctx, http.MethodGet, "device-cache/user/"+url.PathEscape(id), nil, &out)
}

// Entry shows one entry by tunnel id (or device id) and user (DC-11).
func (c *Client) Entry(ctx context.Context, tunnel, user string) ([]Entry, error) {
	var out []Entry
	return out, c.do(ctx, http.MethodGet, "device-cache/entry/"+url.PathEscape(tunnel)+"/"+url.PathEscape(user), nil, &out)
}

// MinConnection lists entries with at least n connections (DC-14).
func (c *Client) MinConnection(ctx context.Context, n int) ([]Entry, error) {
	var out []Entry
	return out, c.do(ctx, http.MethodGet, fmt.Sprintf("device-cache/min-connection/%d", n), nil, &out)
}

// ValidationPending lists entries waiting (yes) or not (no) for the UEM (DC-15).
func (c *Client) ValidationPending(ctx context.Context, yes bool) ([]Entry, error) {
	v := "no"
	if yes {
		v = "yes"
	}
	var out []Entry
	return out, c.do(ctx, http.MethodGet, "device-cache/validation-pending/"+v, nil, &out)
}

// CacheStatus reports on the in-memory and persistent lists (DC-16).
func (c *Client) CacheStatus(ctx context.Context) (*CacheStatus, error) {
	var out CacheStatus
	return &out, c.do(ctx, http.MethodGet, "device-cache/status", nil, &out)
}

// PurgeAll empties the cache (DC-21).
func (c *Client) PurgeAll(ctx context.Context) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "device-cache/purge", target{All: true}, &out)
}

// PurgeEntry removes one entry (DC-22).
func (c *Client) PurgeEntry(ctx context.Context, deviceID, user string) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "device-cache/purge", target{DeviceID: deviceID, User: user}, &out)
}

// ToDisk writes the persistent list (DC-17).
func (c *Client) ToDisk(ctx context.Context) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "device-cache/to-disk", nil, &out)
}

// FromDisk restores from the persistent list (DC-18).
func (c *Client) FromDisk(ctx context.Context) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "device-cache/from-disk", nil, &out)
}

// FromUEM reloads the allowed list from the UEM (DC-19).
func (c *Client) FromUEM(ctx context.Context) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "device-cache/from-uem", nil, &out)
}

// ClearRedirect clears remembered 451 redirect URLs: all, or one entry.
func (c *Client) ClearRedirect(ctx context.Context, all bool, deviceID, user string) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "clear-redirect-url", target{All: all, DeviceID: deviceID, User: user}, &out)
}

// SetFailOpen switches `emm-fail-open` (FO-04).
func (c *Client) SetFailOpen(ctx context.Context, allow bool) (*Status, error) {
	var out Status
	return &out, c.do(ctx, http.MethodPut, "emm-fail-open", map[string]bool{"allow": allow}, &out)
}

// Status is `show sentry status` (FO-05).
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var out Status
	return &out, c.do(ctx, http.MethodGet, "status", nil, &out)
}

// Verify checks UEM connectivity now (SVD-03).
func (c *Client) Verify(ctx context.Context) (*Status, error) {
	var out Status
	return &out, c.do(ctx, http.MethodPost, "verify", nil, &out)
}

// StatsEntry returns one device's counters, filtered (STA-01).
func (c *Client) StatsEntry(ctx context.Context, deviceID, user, filter string) ([]Counter, error) {
	var out []Counter
	return out, c.do(ctx, http.MethodGet, "statistics/entry/"+url.PathEscape(deviceID)+"/"+url.PathEscape(user)+"?filter="+url.QueryEscape(filter), nil, &out)
}

// StatsGlobalDevice returns counters summed over devices, filtered (STA-06).
func (c *Client) StatsGlobalDevice(ctx context.Context, filter string) ([]Counter, error) {
	var out []Counter
	return out, c.do(ctx, http.MethodGet, "statistics/global/device?filter="+url.QueryEscape(filter), nil, &out)
}

// StatsGlobalSystem returns the peak gauges, filtered (STA-07).
func (c *Client) StatsGlobalSystem(ctx context.Context, filter string) ([]Peak, error) {
	var out []Peak
	return out, c.do(ctx, http.MethodGet, "statistics/global/system?filter="+url.QueryEscape(filter), nil, &out)
}

// CRLs lists the cached CRLs.
func (c *Client) CRLs(ctx context.Context) ([]deviceauth.CRLInfo, error) {
	var out []deviceauth.CRLInfo
	return out, c.do(ctx, http.MethodGet, "crl-cache", nil, &out)
}

// PurgeCRL drops a cached CRL by id, or all of them (DA-10).
func (c *Client) PurgeCRL(ctx context.Context, id string) (*Count, error) {
	var out Count
	return &out, c.do(ctx, http.MethodPost, "crl-cache/purge", map[string]string{"id": id}, &out)
}

// Servers reports the ActiveSync services and their servers' health.
func (c *Client) Servers(ctx context.Context) ([]upstream.ServiceStatus, error) {
	var out []upstream.ServiceStatus
	return out, c.do(ctx, http.MethodGet, "servers", nil, &out)
}

// VerifyEAS runs the Service Diagnosis EAS check (SVD-01).
func (c *Client) VerifyEAS(ctx context.Context) (*upstream.Diagnosis, error) {
	var out upstream.Diagnosis
	return &out, c.do(ctx, http.MethodPost, "servers/verify", nil, &out)
}

// Metrics reads the Prometheus endpoint and returns its unlabelled
// samples by name (go_memstats_heap_inuse_bytes, process_resident_memory_bytes,
// ...): enough for a load test to follow the gateway's memory.
func (c *Client) Metrics(ctx context.Context) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("admin: metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("admin: metrics: %s", resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("admin: metrics: %w", err)
	}
	out := map[string]float64{}
	for line := range strings.SplitSeq(string(data), "\n") {
		name, val, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, nil
}
