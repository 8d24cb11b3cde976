package exchange

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/internal/adminapi"
)

// AdminClient drives a fake Exchange over its admin API (/admin/v1): what
// a test does with a *Server in-process, it does with an AdminClient when
// the server runs elsewhere (a container). API errors come back as
// *APIError.
type AdminClient struct{ api adminapi.Caller }

// NewAdminClient returns a client of the admin API at baseURL (what
// Server.AdminURL returns) with its bearer token; hc must trust the
// server's certificate (nil: http.DefaultClient).
func NewAdminClient(baseURL, token string, hc *http.Client) *AdminClient {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &AdminClient{api: adminapi.Caller{
		Name: "exchange admin", Base: baseURL + "/admin/v1", Token: token, HC: hc,
		// A mailbox listing with large attachments' metadata fits easily.
		MaxAnswer: 64 << 20,
		APIError: func(status int, raw []byte) error {
			var eb errorBody
			if json.Unmarshal(raw, &eb) != nil || eb.Error == nil {
				return nil
			}
			eb.Error.Status = status
			return eb.Error
		},
	}}
}

func (c *AdminClient) call(method, path string, in, out any) error {
	return c.api.Call(method, path, in, out)
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

// Faults returns the ActiveSync listener's faults and what they did.
func (c *AdminClient) Faults() (FaultsView, error) {
	var out FaultsView
	return out, c.call(http.MethodGet, "/faults", nil, &out)
}

// SetFaults replaces the ActiveSync listener's faults; Faults{} clears
// them.
func (c *AdminClient) SetFaults(f Faults) error {
	return c.call(http.MethodPut, "/faults", f, nil)
}
