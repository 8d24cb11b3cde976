package uemapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// MaxResponseBody bounds what the client reads from one response.
const MaxResponseBody = 64 << 20

// Client calls the gateway-facing UEM API on behalf of one gateway entry.
// It is safe for concurrent use.
type Client struct {
	base           *url.URL
	token          string
	hc             *http.Client
	gatewayVersion string
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithHTTPClient sets the HTTP client (TLS roots, timeouts, transport).
func WithHTTPClient(hc *http.Client) ClientOption { return func(c *Client) { c.hc = hc } }

// WithGatewayVersion sets the version sent in HeaderGatewayVersion.
func WithGatewayVersion(v string) ClientOption { return func(c *Client) { c.gatewayVersion = v } }

// NewClient returns a client for the UEM at baseURL (scheme, host and
// optional path prefix) that authenticates with the gateway's bearer token.
func NewClient(baseURL, token string, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("uemapi: base URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("uemapi: base URL %q needs an http(s) scheme and a host", baseURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	c := &Client{base: u, token: token, hc: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// CloseIdleConnections closes the idle connections of the client's HTTP
// client (a gateway that stops calls it: see http.Client.CloseIdleConnections).
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Connectivity checks that the UEM is reachable and the credential valid.
func (c *Client) Connectivity(ctx context.Context) (*Connectivity, error) {
	var out Connectivity
	return &out, c.do(ctx, http.MethodGet, PathConnectivity, nil, nil, &out)
}

// ReportDevice reports a device's access and returns the UEM's decision
// (FLOW-01). For a known association the current decision is returned.
func (c *Client) ReportDevice(ctx context.Context, r DeviceReport) (*Decision, error) {
	var out Decision
	return &out, c.do(ctx, http.MethodPost, PathDeviceReport, nil, r, &out)
}

// ReportLastSeen reports a batch of last access times (≤ MaxBatch items).
func (c *Client) ReportLastSeen(ctx context.Context, items []LastSeen) (*LastSeenResult, error) {
	var out LastSeenResult
	return &out, c.do(ctx, http.MethodPost, PathLastSeen, nil, LastSeenBatch{Items: items}, &out)
}

// AckWipe tells the UEM the wipe was delivered to the device.
func (c *Client) AckWipe(ctx context.Context, a WipeAck) error {
	return c.do(ctx, http.MethodPost, PathWipeAck, nil, a, nil)
}

// ReportAppTunnel reports an app's first access and returns the tunnel with
// its state (FLOW-06).
func (c *Client) ReportAppTunnel(ctx context.Context, r AppTunnelReport) (*AppTunnel, error) {
	var out AppTunnel
	return &out, c.do(ctx, http.MethodPost, PathAppTunnelRep, nil, r, &out)
}

// Devices returns one page of the device list. An empty cursor starts at
// the beginning; limit 0 means DefaultPageSize.
func (c *Client) Devices(ctx context.Context, filter DeviceFilter, cursor string, limit int) (*DevicePage, error) {
	var out DevicePage
	return &out, c.devices(ctx, filter, cursor, limit, nil, &out)
}

// devices fetches one page into out, reading the body into buf and reusing
// out's Items array (the decoded page never refers to buf).
func (c *Client) devices(ctx context.Context, filter DeviceFilter, cursor string, limit int, buf *bytes.Buffer, out *DevicePage) error {
	q := url.Values{}
	if filter != "" {
		q.Set("filter", string(filter))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	req, err := c.newRequest(ctx, http.MethodGet, PathDevices, q, nil)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	if resp.StatusCode >= 300 {
		return decodeResponse(resp, nil)
	}
	body, err := readBody(resp, buf)
	if err != nil {
		return err
	}
	return decodeDevicePage(body, out)
}

// readBody reads a whole success body, sized by Content-Length when given.
func readBody(resp *http.Response, buf *bytes.Buffer) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > MaxResponseBody {
		n = 512
	}
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	buf.Reset()
	buf.Grow(int(n) + 1)
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, MaxResponseBody+1)); err != nil {
		return nil, err
	}
	if buf.Len() > MaxResponseBody {
		return nil, fmt.Errorf("uemapi: response larger than %d bytes", MaxResponseBody)
	}
	return buf.Bytes(), nil
}

// EachDevicePage walks the whole device list, calling fn for every page in
// order, and stops at the first error. The page and its Items array are
// reused for the next page: fn must not keep p or p.Items after it
// returns (copying entries out is fine; their strings are not reused).
func (c *Client) EachDevicePage(ctx context.Context, filter DeviceFilter, limit int, fn func(p *DevicePage) error) error {
	cursor := ""
	var buf bytes.Buffer
	p := new(DevicePage)
	for {
		if err := c.devices(ctx, filter, cursor, limit, &buf, p); err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if p.NextCursor == "" {
			return nil
		}
		cursor = p.NextCursor
	}
}

// AppTunnels returns one page of the app tunnel list (FLOW-12).
func (c *Client) AppTunnels(ctx context.Context, cursor string, limit int) (*AppTunnelPage, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var out AppTunnelPage
	return &out, c.do(ctx, http.MethodGet, PathAppTunnels, q, nil, &out)
}

// Config fetches the gateway's configuration. With a non-empty etag it is a
// conditional request and returns ErrNotModified when nothing changed. It
// returns the document and its ETag.
func (c *Client) Config(ctx context.Context, etag string) (*ConfigDocument, string, error) {
	req, err := c.newRequest(ctx, http.MethodGet, PathConfig, nil, nil)
	if err != nil {
		return nil, "", err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer drain(resp.Body)
	if resp.StatusCode == http.StatusNotModified {
		return nil, etag, ErrNotModified
	}
	var out ConfigDocument
	if err := decodeResponseWith(resp, &out, DecodeStrict); err != nil {
		return nil, "", err
	}
	return &out, resp.Header.Get("ETag"), nil
}

// DecodeConfigDocument reads a configuration document strictly: unlike
// other responses, an unknown field is an error (invalid_field naming
// it), since a setting the gateway does not understand, or a misspelt
// one, would otherwise be ignored and leave the gateway less strict than
// its administrator set it (docs/uem-api.md, Versioning).
func DecodeConfigDocument(r io.Reader) (*ConfigDocument, error) {
	var doc ConfigDocument
	if err := DecodeStrict(r, &doc); err != nil {
		return nil, fmt.Errorf("uemapi: configuration document: %w", err)
	}
	return &doc, nil
}

// AttachmentKey fetches the current attachment encryption key (ATT-10).
func (c *Client) AttachmentKey(ctx context.Context) (*AttachmentKey, error) {
	var out AttachmentKey
	return &out, c.do(ctx, http.MethodGet, PathAttachmentKey, nil, nil, &out)
}

func (c *Client) newRequest(ctx context.Context, method, path string, q url.Values, body any) (*http.Request, error) {
	u := *c.base
	u.Path += path
	if q != nil {
		u.RawQuery = q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	if c.gatewayVersion != "" {
		req.Header.Set(HeaderGatewayVersion, c.gatewayVersion)
	}
	return req, nil
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body, out any) error {
	req, err := c.newRequest(ctx, method, path, q, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer drain(resp.Body)
	return decodeResponse(resp, out)
}

// decodeResponse turns an error status into an *Error and decodes a
// success body into out (when out is non-nil), ignoring unknown fields
// (fields may be added within v1).
func decodeResponse(resp *http.Response, out any) error {
	return decodeResponseWith(resp, out, func(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) })
}

// decodeResponseWith is decodeResponse decoding with decode.
func decodeResponseWith(resp *http.Response, out any, decode func(io.Reader, any) error) error {
	body := io.LimitReader(resp.Body, MaxResponseBody)
	if resp.StatusCode >= 300 {
		var eb ErrorBody
		b, _ := io.ReadAll(io.LimitReader(body, 64<<10))
		if json.Unmarshal(b, &eb) != nil || eb.Error == nil || eb.Error.Code == "" {
			eb.Error = &Error{Code: codeForStatus(resp.StatusCode), Message: strings.TrimSpace(http.StatusText(resp.StatusCode))}
		}
		eb.Error.Status = resp.StatusCode
		return eb.Error
	}
	if out == nil {
		return nil
	}
	if err := decode(body, out); err != nil {
		return fmt.Errorf("uemapi: decoding %s response: %w", resp.Request.URL.Path, err)
	}
	return nil
}

func codeForStatus(status int) Code {
	for _, c := range []Code{CodeInvalidJSON, CodeUnauthorized, CodeNotFound, CodeMethodNotAllowed, CodeConflict, CodeBodyTooLarge, CodeUnavailable} {
		if c.HTTPStatus() == status {
			return c
		}
	}
	return CodeInternal
}

func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
	_ = rc.Close()
}

// Is lets errors.Is(err, &Error{Code: c}) match by code.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Code == e.Code
}
