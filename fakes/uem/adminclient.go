package uem

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// AdminClient drives a fake UEM over its admin API (/admin/v1): what a
// test does with a *Server in-process, it does with an AdminClient when
// the UEM runs elsewhere (a container). Its methods mirror the Server's,
// each with a context first that bounds the call; API errors come back as
// *uemapi.Error, so uemapi.IsCode works on both.
type AdminClient struct{ api httpapi.Caller }

// NewAdminClient returns a client of the admin API at baseURL (what
// Server.AdminURL returns, without /admin/v1) with its bearer token; hc
// must trust the UEM's certificate (nil: http.DefaultClient).
func NewAdminClient(baseURL, token string, hc *http.Client) *AdminClient {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &AdminClient{api: httpapi.Caller{
		Name: "uem admin", Base: baseURL + AdminPrefix, Token: token, HC: hc, MaxAnswer: maxAdminBody,
		APIError: func(status int, raw []byte) error {
			var eb uemapi.ErrorBody
			if json.Unmarshal(raw, &eb) != nil || eb.Error == nil {
				return nil
			}
			eb.Error.Status = status
			return eb.Error
		},
	}}
}

// call sends one admin request; in (if not nil) is the JSON body, out
// (if not nil) receives the JSON answer.
func (c *AdminClient) call(ctx context.Context, method, path string, in, out any) error {
	return c.api.Call(ctx, method, path, in, out)
}

// AddDevice enrols a managed device (POST /devices).
func (c *AdminClient) AddDevice(ctx context.Context, d Device) (Device, error) {
	var out Device
	return out, c.call(ctx, http.MethodPost, "/devices", d, &out)
}

// Device returns a managed device by UUID.
func (c *AdminClient) Device(ctx context.Context, uuid string) (Device, error) {
	var out Device
	return out, c.call(ctx, http.MethodGet, "/devices/"+url.PathEscape(uuid), nil, &out)
}

// SetSecurityViolation records a check-in finding the device out of (or
// back in) compliance (FLOW-08).
func (c *AdminClient) SetSecurityViolation(ctx context.Context, uuid string, violation bool) (Device, error) {
	var out Device
	return out, c.call(ctx, http.MethodPost, "/devices/"+url.PathEscape(uuid)+"/security-violation",
		map[string]bool{"violation": violation}, &out)
}

// Associations lists the associations matching f, following the pages.
func (c *AdminClient) Associations(ctx context.Context, f AssociationFilter) ([]Association, error) {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("state", string(f.State))
	set("eas_device_id", f.EASDeviceID)
	set("user", f.User)
	if f.Registered != nil {
		q.Set("registered", strconv.FormatBool(*f.Registered))
	}
	if f.PolicyAssigned {
		q.Set("policy_assigned", "true")
	}
	if f.ActionThisYear {
		q.Set("action_this_year", "true")
	}
	var out []Association
	for {
		var page AssociationPage
		if err := c.call(ctx, http.MethodGet, "/associations?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out, nil
		}
		q.Set("cursor", page.NextCursor)
	}
}

// Association returns an association by id.
func (c *AdminClient) Association(ctx context.Context, id string) (Association, error) {
	var out Association
	return out, c.call(ctx, http.MethodGet, "/associations/"+url.PathEscape(id), nil, &out)
}

// FindAssociation returns the association of an EAS device id and user,
// a CodeNotFound error when there is none (as Server.FindAssociation).
func (c *AdminClient) FindAssociation(ctx context.Context, easDeviceID, user string) (Association, error) {
	as, err := c.Associations(ctx, AssociationFilter{EASDeviceID: easDeviceID, User: user})
	if err != nil {
		return Association{}, err
	}
	if len(as) == 0 {
		return Association{}, uemapi.Errorf(uemapi.CodeNotFound, "no association for %q / %q", easDeviceID, user)
	}
	return as[0], nil
}

// Act applies an admin action to an association (ACT).
func (c *AdminClient) Act(ctx context.Context, id string, a Action) (Association, error) {
	var out Association
	return out, c.call(ctx, http.MethodPost, "/associations/"+url.PathEscape(id)+"/actions", a, &out)
}

// Events returns the event log entries with Seq > after, oldest first.
func (c *AdminClient) Events(ctx context.Context, after int64) ([]Event, error) {
	var out []Event
	return out, c.call(ctx, http.MethodGet, "/events?after="+strconv.FormatInt(after, 10), nil, &out)
}

// Preferences returns the UEM preferences.
func (c *AdminClient) Preferences(ctx context.Context) (Preferences, error) {
	var out Preferences
	return out, c.call(ctx, http.MethodGet, "/preferences", nil, &out)
}

// SetPreferences replaces the preferences.
func (c *AdminClient) SetPreferences(ctx context.Context, p Preferences) (Preferences, error) {
	var out Preferences
	return out, c.call(ctx, http.MethodPut, "/preferences", p, &out)
}

// CreatePolicy adds an ActiveSync policy.
func (c *AdminClient) CreatePolicy(ctx context.Context, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error) {
	var out uemapi.ActiveSyncPolicy
	return out, c.call(ctx, http.MethodPost, "/policies", p, &out)
}

// UpdatePolicy replaces a policy.
func (c *AdminClient) UpdatePolicy(ctx context.Context, id string, p uemapi.ActiveSyncPolicy) (uemapi.ActiveSyncPolicy, error) {
	var out uemapi.ActiveSyncPolicy
	return out, c.call(ctx, http.MethodPut, "/policies/"+url.PathEscape(id), p, &out)
}

// Gateway returns a gateway entry by id.
func (c *AdminClient) Gateway(ctx context.Context, id string) (GatewayEntry, error) {
	var out GatewayEntry
	return out, c.call(ctx, http.MethodGet, "/gateways/"+url.PathEscape(id), nil, &out)
}

// AddGateway creates a gateway entry (its token, notification URL and
// secret, and its configuration).
func (c *AdminClient) AddGateway(ctx context.Context, g GatewayEntry) (GatewayEntry, error) {
	var out GatewayEntry
	return out, c.call(ctx, http.MethodPost, "/gateways", g, &out)
}

// SetGatewayConfig replaces a gateway's configuration.
func (c *AdminClient) SetGatewayConfig(ctx context.Context, id string, cfg uemapi.GatewayConfig) (GatewayEntry, error) {
	var out GatewayEntry
	return out, c.call(ctx, http.MethodPut, "/gateways/"+url.PathEscape(id)+"/config", cfg, &out)
}

// SetGatewayEnabled enables or disables a gateway entry (ENT-03, ENT-04):
// a disabled entry gets no notifications and keeps its changes pending.
func (c *AdminClient) SetGatewayEnabled(ctx context.Context, id string, enabled bool) (GatewayEntry, error) {
	action := "/disable"
	if enabled {
		action = "/enable"
	}
	var out GatewayEntry
	return out, c.call(ctx, http.MethodPost, "/gateways/"+url.PathEscape(id)+action, nil, &out)
}

// Deliveries lists the notification deliveries.
func (c *AdminClient) Deliveries(ctx context.Context) ([]Delivery, error) {
	var out []Delivery
	return out, c.call(ctx, http.MethodGet, "/notifications", nil, &out)
}

// Faults returns the fault injection state.
func (c *AdminClient) Faults(ctx context.Context) (Faults, error) {
	var out Faults
	return out, c.call(ctx, http.MethodGet, "/faults", nil, &out)
}

// SetFaults replaces the fault injection state (Faults{Down: true} takes
// the gateway API down; Faults{} clears everything).
func (c *AdminClient) SetFaults(ctx context.Context, f Faults) error {
	return c.call(ctx, http.MethodPut, "/faults", f, nil)
}

// AttachmentKey returns the attachment key, generating it on first use
// (GET /attachment-key).
func (c *AdminClient) AttachmentKey(ctx context.Context) (uemapi.AttachmentKey, error) {
	var out uemapi.AttachmentKey
	return out, c.call(ctx, http.MethodGet, "/attachment-key", nil, &out)
}

// RegenerateKey generates a new attachment key and notifies the gateways
// (POST /attachment-key/regenerate).
func (c *AdminClient) RegenerateKey(ctx context.Context) (uemapi.AttachmentKey, error) {
	var out uemapi.AttachmentKey
	return out, c.call(ctx, http.MethodPost, "/attachment-key/regenerate", nil, &out)
}

// CA describes the device CA (GET /ca).
func (c *AdminClient) CA(ctx context.Context) (CAInfo, error) {
	var out CAInfo
	return out, c.call(ctx, http.MethodGet, "/ca", nil, &out)
}

// IssueDeviceCertificate has the device CA issue an identity certificate
// for the managed device req.DeviceUUID (POST /devices/{id}/certificate).
func (c *AdminClient) IssueDeviceCertificate(ctx context.Context, req CertRequest) (IssuedCert, error) {
	var out IssuedCert
	return out, c.call(ctx, http.MethodPost, "/devices/"+url.PathEscape(req.DeviceUUID)+"/certificate", req, &out)
}

// RevokeCertificate revokes an issued certificate by serial
// (POST /certificates/{serial}/revoke).
func (c *AdminClient) RevokeCertificate(ctx context.Context, serial string) (IssuedCert, error) {
	var out IssuedCert
	return out, c.call(ctx, http.MethodPost, "/certificates/"+url.PathEscape(serial)+"/revoke", nil, &out)
}
