package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultCallTimeout bounds a call whose context has no deadline: a hung
// server must fail a test, not stall it.
const DefaultCallTimeout = 30 * time.Second

// Caller is the client side of an API of this shape: a JSON request with
// a bearer token, a JSON answer, and the error body turned into a typed
// error.
type Caller struct {
	Name      string       // in error messages, e.g. "uem admin"
	Base      string       // scheme://host:port plus the API prefix
	Token     string       // bearer token
	HC        *http.Client // must trust the server's certificate
	MaxAnswer int64        // bound on an answer's size
	// APIError decodes a non-2xx answer into the API's error type; it
	// returns nil when raw is not one, and the status line is reported.
	// Nil decodes the one error shape into an *Error.
	APIError func(status int, raw []byte) error
}

// Call sends method path with in (if not nil) as the JSON body and
// decodes the JSON answer into out (if not nil). Without a deadline in
// ctx the call is bounded by DefaultCallTimeout.
func (c *Caller) Call(ctx context.Context, method, path string, in, out any) error {
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
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCallTimeout)
		defer cancel()
	}
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
		if apiErr := c.apiError(resp.StatusCode, raw); apiErr != nil {
			return fail("%w", apiErr)
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

func (c *Caller) apiError(status int, raw []byte) error {
	if c.APIError != nil {
		return c.APIError(status, raw)
	}
	if e := ParseError(status, raw); e != nil {
		return e
	}
	return nil
}

// ParseError reads an error answer in the one shape; nil when raw is not
// one.
func ParseError(status int, raw []byte) *Error {
	var eb ErrorBody
	if json.Unmarshal(raw, &eb) != nil || eb.Error == nil {
		return nil
	}
	eb.Error.Status = status
	return eb.Error
}
