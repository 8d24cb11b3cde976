package exchange

import (
	"context"
	"net/http"
	"net/url"
)

// Wipe orders a remote wipe of a device (accountOnly: the 16.1
// account-only wipe), delivered at its next Provision.
func (c *AdminClient) Wipe(ctx context.Context, user, device string, accountOnly bool) (Partnership, error) {
	var out Partnership
	return out, c.call(ctx, http.MethodPost, "/devices/"+url.PathEscape(user)+"/"+url.PathEscape(device)+"/wipe",
		WipeRequest{AccountOnly: accountOnly}, &out)
}
