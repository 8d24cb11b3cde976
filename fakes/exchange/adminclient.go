package exchange

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// AdminClient drives a fake Exchange over its admin API (/admin/v1): what
// a test does with a *Server in-process, it does with an AdminClient when
// the server runs elsewhere (a container). Every method takes a context
// first that bounds the call; API errors come back as *APIError.
type AdminClient struct{ api httpapi.Caller }

// NewAdminClient returns a client of the admin API at baseURL (what
// Server.AdminURL returns) with its bearer token; hc must trust the
// server's certificate (nil: http.DefaultClient).
func NewAdminClient(baseURL, token string, hc *http.Client) *AdminClient {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &AdminClient{api: httpapi.Caller{
		Name: "exchange admin", Base: baseURL + "/admin/v1", Token: token, HC: hc,
		// A mailbox listing with large attachments' metadata fits easily.
		MaxAnswer: 64 << 20,
	}}
}

func (c *AdminClient) call(ctx context.Context, method, path string, in, out any) error {
	return c.api.Call(ctx, method, path, in, out)
}

// Users returns the mailbox users with their passwords, sorted by name.
func (c *AdminClient) Users(ctx context.Context) ([]UserView, error) {
	var out []UserView
	return out, c.call(ctx, http.MethodGet, "/users", nil, &out)
}

// Partnerships returns every device partnership the server recorded.
func (c *AdminClient) Partnerships(ctx context.Context) ([]Partnership, error) {
	var out []Partnership
	return out, c.call(ctx, http.MethodGet, "/devices", nil, &out)
}

// Mailbox returns a user's folders and messages.
func (c *AdminClient) Mailbox(ctx context.Context, user string) (MailboxInfo, error) {
	var out MailboxInfo
	return out, c.call(ctx, http.MethodGet, "/mailboxes/"+url.PathEscape(user), nil, &out)
}

// Inject stores a message in a user's mailbox (and wakes its Pings).
func (c *AdminClient) Inject(ctx context.Context, user string, req InjectRequest) (*InjectResponse, error) {
	var out InjectResponse
	if err := c.call(ctx, http.MethodPost, "/mailboxes/"+url.PathEscape(user)+"/messages", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetRedirect makes the user's mailbox answer 451 with location; an
// empty location clears it.
func (c *AdminClient) SetRedirect(ctx context.Context, user, location string) error {
	path := "/mailboxes/" + url.PathEscape(user) + "/redirect"
	if location == "" {
		return c.call(ctx, http.MethodDelete, path, nil, nil)
	}
	return c.call(ctx, http.MethodPut, path, RedirectRequest{URL: location}, nil)
}

// Faults returns the ActiveSync listener's faults and what they did.
func (c *AdminClient) Faults(ctx context.Context) (FaultsView, error) {
	var out FaultsView
	return out, c.call(ctx, http.MethodGet, "/faults", nil, &out)
}

// SetFaults replaces the ActiveSync listener's faults; Faults{} clears
// them.
func (c *AdminClient) SetFaults(ctx context.Context, f Faults) error {
	return c.call(ctx, http.MethodPut, "/faults", f, nil)
}
