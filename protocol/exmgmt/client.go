package exmgmt

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// Client calls the management API. It holds no state beyond its caller.
type Client struct{ c httpapi.Caller }

// NewClient returns a client of the API at base (scheme://host:port) with
// the bearer token; hc must trust the server's certificate.
func NewClient(base, token string, hc *http.Client) *Client {
	return &Client{c: httpapi.Caller{Name: "exchange mgmt", Base: base + Prefix, Token: token, HC: hc, MaxAnswer: 256 << 20}}
}

func query(o ListOptions) string {
	q := url.Values{}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if !o.Since.IsZero() {
		q.Set("since", o.Since.UTC().Format(time.RFC3339Nano))
	}
	if o.WithPartnership {
		q.Set("with_partnership", "true")
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Mailboxes is one page of Get-CASMailbox.
func (c *Client) Mailboxes(ctx context.Context, o ListOptions) (*MailboxPage, error) {
	var p MailboxPage
	return &p, c.c.Call(ctx, http.MethodGet, "/mailboxes"+query(o), nil, &p)
}

// Devices is one page of Get-MobileDevice.
func (c *Client) Devices(ctx context.Context, o ListOptions) (*DevicePage, error) {
	var p DevicePage
	return &p, c.c.Call(ctx, http.MethodGet, "/devices"+query(o), nil, &p)
}

// Recalculate runs Get-CASMailbox -RecalculateHasActiveSyncDevicePartnership.
func (c *Client) Recalculate(ctx context.Context) (*Recalculated, error) {
	var r Recalculated
	return &r, c.c.Call(ctx, http.MethodPost, "/mailboxes/recalculate", nil, &r)
}

// SetAccess is Set-CASMailbox on the device id lists and policy of user.
func (c *Client) SetAccess(ctx context.Context, user string, ch AccessChange) (*Mailbox, error) {
	var m Mailbox
	return &m, c.c.Call(ctx, http.MethodPost, "/mailboxes/"+url.PathEscape(user)+"/access", ch, &m)
}

// Wipe is Clear-MobileDevice [-AccountOnly].
func (c *Client) Wipe(ctx context.Context, user, device string, accountOnly bool) (*Device, error) {
	var d Device
	return &d, c.c.Call(ctx, http.MethodPost, "/devices/"+url.PathEscape(user)+"/"+url.PathEscape(device)+"/wipe", WipeRequest{AccountOnly: accountOnly}, &d)
}

// Remove is Remove-MobileDevice.
func (c *Client) Remove(ctx context.Context, user, device string) error {
	return c.c.Call(ctx, http.MethodDelete, "/devices/"+url.PathEscape(user)+"/"+url.PathEscape(device), nil, nil)
}

// Organization is Get-ActiveSyncOrganizationSettings.
func (c *Client) Organization(ctx context.Context) (*Organization, error) {
	var o Organization
	return &o, c.c.Call(ctx, http.MethodGet, "/organization", nil, &o)
}

// SetDefaultAccess is Set-ActiveSyncOrganizationSettings -DefaultAccessLevel.
func (c *Client) SetDefaultAccess(ctx context.Context, l AccessLevel) (*Organization, error) {
	var o Organization
	return &o, c.c.Call(ctx, http.MethodPut, "/organization", Organization{DefaultAccessLevel: l}, &o)
}

// Rules is Get-ActiveSyncDeviceAccessRule.
func (c *Client) Rules(ctx context.Context) ([]Rule, error) {
	var rs []Rule
	return rs, c.c.Call(ctx, http.MethodGet, "/access-rules", nil, &rs)
}

// AddRule is New-ActiveSyncDeviceAccessRule (same name: replaced).
func (c *Client) AddRule(ctx context.Context, r Rule) error {
	return c.c.Call(ctx, http.MethodPost, "/access-rules", r, nil)
}

// RemoveRule is Remove-ActiveSyncDeviceAccessRule.
func (c *Client) RemoveRule(ctx context.Context, name string) error {
	return c.c.Call(ctx, http.MethodDelete, "/access-rules/"+url.PathEscape(name), nil, nil)
}

// SetAccessBatch is Set-CASMailbox for up to MaxBatch mailboxes at once.
func (c *Client) SetAccessBatch(ctx context.Context, items []AccessItem) ([]Mailbox, error) {
	var out MailboxBatch
	if err := c.c.Call(ctx, http.MethodPost, "/mailboxes/access", AccessBatch{Items: items}, &out); err != nil {
		return nil, err
	}
	if len(out.Items) != len(items) {
		return nil, fmt.Errorf("exchange mgmt: batch access: %d mailboxes for %d changes", len(out.Items), len(items))
	}
	return out.Items, nil
}
