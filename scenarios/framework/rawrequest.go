package framework

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// RawResponse is a response a spec read itself: status, headers, body.
type RawResponse struct {
	Status int
	Header http.Header
	Body   []byte
}

// DeviceRequest sends one ActiveSync request as d would (its credentials,
// id, type, protocol version, policy key and Host header), in the plain
// query form, on path ("" is /Microsoft-Server-ActiveSync), and reads the
// whole answer. method OPTIONS sends no query. For what the device
// library does not do: look at a 451's headers, use another path.
func (f *Framework) DeviceRequest(ctx context.Context, d *device.Device, method, path string, cmd eas.Command, body []byte) (RawResponse, error) {
	if path == "" {
		path = "/Microsoft-Server-ActiveSync"
	}
	cfg := d.Config()
	u := f.DeviceURL() + path
	if method != http.MethodOptions {
		q := &eas.Query{Cmd: cmd, User: cfg.User, DeviceID: cfg.ID, DeviceType: cfg.DeviceType()}
		u += "?" + q.Encode(false)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return RawResponse{}, fmt.Errorf("device request: %w", err)
	}
	if cfg.Host != "" {
		req.Host = cfg.Host
	}
	req.SetBasicAuth(cfg.User, cfg.Password)
	req.Header.Set("User-Agent", cfg.UserAgent())
	req.Header.Set(eas.HeaderProtocolVersion, cfg.Version.String())
	if pk := d.PolicyKey(); pk != "" {
		req.Header.Set(eas.HeaderPolicyKey, pk)
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	}
	resp, err := f.HTTPClient().Do(req)
	if err != nil {
		return RawResponse{}, fmt.Errorf("device request: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return RawResponse{}, fmt.Errorf("device request: reading the answer: %w", err)
	}
	return RawResponse{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}
