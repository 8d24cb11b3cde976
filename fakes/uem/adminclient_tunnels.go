package uem

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// maxTunnelPages bounds AppTunnels' walk of the list.
const maxTunnelPages = 1000

// AppTunnels lists every app tunnel, following the pages: the AppTunnels
// view (ATM-01).
func (c *AdminClient) AppTunnels(ctx context.Context) ([]uemapi.AppTunnel, error) {
	var all []uemapi.AppTunnel
	cursor := ""
	for range maxTunnelPages {
		q := url.Values{}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page uemapi.AppTunnelPage
		if err := c.call(ctx, http.MethodGet, "/apptunnels?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return all, nil
}

// ActOnTunnel applies allow, block or remove to one app tunnel (ATM-02,
// ATM-03).
func (c *AdminClient) ActOnTunnel(ctx context.Context, id string, a TunnelAction) (uemapi.AppTunnel, error) {
	var out uemapi.AppTunnel
	return out, c.call(ctx, http.MethodPost, "/apptunnels/"+url.PathEscape(id)+"/actions", a, &out)
}

// SetAppTunnelsBlocked is the device-level Block / Allow App Tunnels (ATM-04).
func (c *AdminClient) SetAppTunnelsBlocked(ctx context.Context, uuid string, blocked bool, note string) (Device, error) {
	var out Device
	return out, c.call(ctx, http.MethodPost, "/devices/"+url.PathEscape(uuid)+"/apptunnels",
		map[string]any{"blocked": blocked, "note": note}, &out)
}
