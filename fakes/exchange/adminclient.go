package exchange

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// AdminClient drives a fake Exchange over its admin API (/admin/v1): what
// a test does with a *Server in-process, it does with an AdminClient when
// the server runs elsewhere (a container). API errors come back as
// *APIError.
type AdminClient struct {
	base  string // scheme://host:port, without /admin/v1
	token string
	hc    *http.Client
}

// NewAdminClient returns a client of the admin API at baseURL (what
// Server.AdminURL returns) with its bearer token; hc must trust the
// server's certificate (nil: http.DefaultClient).
func NewAdminClient(baseURL, token string, hc *http.Client) *AdminClient {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &AdminClient{base: baseURL, token: token, hc: hc}
}

// maxAdminAnswer bounds an admin answer read by the client (a mailbox
// listing with large attachments' metadata fits easily).
const maxAdminAnswer = 64 << 20

// adminCallTimeout bounds one admin call: a hung server must fail a
// test, not stall it.
const adminCallTimeout = 30 * time.Second

func (c *AdminClient) call(method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("exchange admin %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/admin/v1"+path, body)
	if err != nil {
		return fmt.Errorf("exchange admin %s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("exchange admin %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAdminAnswer))
	if err != nil {
		return fmt.Errorf("exchange admin %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		var eb errorBody
		if json.Unmarshal(raw, &eb) == nil && eb.Error != nil {
			eb.Error.Status = resp.StatusCode
			return fmt.Errorf("exchange admin %s %s: %w", method, path, eb.Error)
		}
		return fmt.Errorf("exchange admin %s %s: %s: %.200s", method, path, resp.Status, raw)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("exchange admin %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// Users returns the mailbox users with their passwords, sorted by name.
func (c *AdminClient) Users() ([]UserView, error) {
	var out []UserView
	return out, c.call(http.MethodGet, "/users", nil, &out)
}

// Partnerships returns every device partnership the server recorded.
func (c *AdminClient) Partnerships() ([]Partnership, error) {
	var out []Partnership
	return out, c.call(http.MethodGet, "/devices", nil, &out)
}

// Mailbox returns a user's folders and messages.
func (c *AdminClient) Mailbox(user string) (MailboxInfo, error) {
	var out MailboxInfo
	return out, c.call(http.MethodGet, "/mailboxes/"+url.PathEscape(user), nil, &out)
}

// Inject stores a message in a user's mailbox (and wakes its Pings).
func (c *AdminClient) Inject(user string, req InjectRequest) (*InjectResponse, error) {
	var out InjectResponse
	if err := c.call(http.MethodPost, "/mailboxes/"+url.PathEscape(user)+"/messages", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetRedirect makes the user's mailbox answer 451 with location; an
// empty location clears it.
func (c *AdminClient) SetRedirect(user, location string) error {
	path := "/mailboxes/" + url.PathEscape(user) + "/redirect"
	if location == "" {
		return c.call(http.MethodDelete, path, nil, nil)
	}
	return c.call(http.MethodPut, path, RedirectRequest{URL: location}, nil)
}
