// Package adminapi is the client side of the fakes' admin APIs: a JSON
// request with a bearer token, a JSON answer, and the API's own error
// body turned into a typed error.
package adminapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// callTimeout bounds one call: a hung server must fail a test, not stall it.
const callTimeout = 30 * time.Second

// Caller sends admin requests to one server.
type Caller struct {
	Name      string       // in error messages, e.g. "uem admin"
	Base      string       // scheme://host:port plus the API prefix
	Token     string       // bearer token
	HC        *http.Client // must trust the server's certificate
	MaxAnswer int64        // bound on an answer's size
	// APIError decodes a non-2xx answer into the API's error type; it
	// returns nil when raw is not one, and the status line is reported.
	APIError func(status int, raw []byte) error
}

// Call sends method path with in (if not nil) as the JSON body and
// decodes the JSON answer into out (if not nil).
func (c *Caller) Call(method, path string, in, out any) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s %s %s: "+format, append([]any{c.Name, method, path}, args...)...)
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fail("%w", err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return fail("%w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.HC.Do(req)
	if err != nil {
		return fail("%w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxAnswer))
	if err != nil {
		return fail("reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		if c.APIError != nil {
			if apiErr := c.APIError(resp.StatusCode, raw); apiErr != nil {
				return fail("%w", apiErr)
			}
		}
		return fail("%s: %.200s", resp.Status, raw)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fail("decoding the answer: %w", err)
	}
	return nil
}
