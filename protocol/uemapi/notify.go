package uemapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// NotificationType names a UEM → gateway notification.
type NotificationType string

// Notification types.
const (
	// NotifyDeviceState: an association's state or policy changed (admin
	// action, security violation, FLOW-08). Device is set.
	NotifyDeviceState NotificationType = "device.state"
	// NotifyPolicy: an ActiveSync policy changed; Policy and the affected
	// devices are set (FLOW-09).
	NotifyPolicy NotificationType = "policy.changed"
	// NotifyConfig: the gateway's configuration changed; fetch it (ENT-01).
	NotifyConfig NotificationType = "config.changed"
	// NotifyKey: the attachment key was regenerated; fetch it (ATT-11).
	NotifyKey NotificationType = "key.regenerated"
	// NotifyAppTunnel: an app tunnel's state changed or it was removed.
	NotifyAppTunnel NotificationType = "apptunnel.changed"
	// NotifyPurge: an association was removed (ACT-10); forget it, the next
	// access is a first access.
	NotifyPurge NotificationType = "purge"
)

// Notification headers.
const (
	HeaderTimestamp = "X-Gatehouse-Timestamp" // unix seconds
	HeaderSignature = "X-Gatehouse-Signature" // "v1=" + hex HMAC-SHA256
	HeaderDelivery  = "X-Gatehouse-Delivery"  // notification id, stable across retries
)

// MaxNotificationBody bounds a notification body.
const MaxNotificationBody = 1 << 20

// Notification is the body the UEM POSTs to a gateway's notification URL.
// Exactly the member matching Type is set.
type Notification struct {
	ID        string           `json:"id"` // unique; retries carry the same id
	Type      NotificationType `json:"type"`
	GatewayID string           `json:"gateway_id"`
	Time      time.Time        `json:"time"`

	Device    *Decision          `json:"device,omitempty"`     // device.state
	Policy    *PolicyChange      `json:"policy,omitempty"`     // policy.changed
	Config    *ConfigChange      `json:"config,omitempty"`     // config.changed
	Key       *KeyChange         `json:"key,omitempty"`        // key.regenerated
	AppTunnel *AppTunnelChange   `json:"app_tunnel,omitempty"` // apptunnel.changed
	Purge     *PurgeNotification `json:"purge,omitempty"`      // purge
}

// PolicyChange carries a changed policy and the associations it applies to.
type PolicyChange struct {
	Policy  ActiveSyncPolicy `json:"policy"`
	Devices []DeviceRef      `json:"devices"`
}

// DeviceRef names one association.
type DeviceRef struct {
	EASDeviceID string `json:"eas_device_id"`
	User        string `json:"user"`
}

// ConfigChange announces a new configuration version.
type ConfigChange struct {
	Version int64 `json:"version"`
}

// KeyChange announces a new attachment key.
type KeyChange struct {
	KeyID     string       `json:"key_id"`
	Algorithm KeyAlgorithm `json:"algorithm"`
}

// AppTunnelChange carries a tunnel's new state; Removed means forget it
// (ATM-03).
type AppTunnelChange struct {
	Tunnel  AppTunnel `json:"tunnel"`
	Removed bool      `json:"removed"`
}

// PurgeNotification names the association to forget.
type PurgeNotification struct {
	DeviceRef
	AssociationID string `json:"association_id"`
}

// Sign returns the signature header value of body sent at timestamp ts:
// "v1=" + hex(HMAC-SHA256(secret, ts + "." + body)).
func Sign(secret []byte, ts int64, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

// Errors of VerifyNotification.
var (
	ErrBadSignature = errors.New("uemapi: notification signature mismatch")
	ErrStale        = errors.New("uemapi: notification timestamp outside the allowed skew")
)

// DefaultSkew is the timestamp tolerance VerifyNotification applies when
// given 0.
const DefaultSkew = 5 * time.Minute

// VerifyNotification reads, authenticates and decodes an incoming
// notification: the body is size-limited, the timestamp must be within skew
// of now and the signature must match secret. It is what the gateway's
// receiving handler calls; on error it should answer 401 (signature, skew)
// or 400 (body).
func VerifyNotification(r *http.Request, secret []byte, now time.Time, skew time.Duration) (*Notification, error) {
	if skew <= 0 {
		skew = DefaultSkew
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxNotificationBody+1))
	if err != nil {
		return nil, fmt.Errorf("uemapi: reading notification: %w", err)
	}
	if len(body) > MaxNotificationBody {
		return nil, Errorf(CodeBodyTooLarge, "notification larger than %d bytes", MaxNotificationBody)
	}
	ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return nil, ErrStale
	}
	if d := now.Sub(time.Unix(ts, 0)); d > skew || d < -skew {
		return nil, ErrStale
	}
	want := Sign(secret, ts, body)
	if !hmac.Equal([]byte(want), []byte(r.Header.Get(HeaderSignature))) {
		return nil, ErrBadSignature
	}
	var n Notification
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&n); err != nil {
		return nil, Errorf(CodeInvalidJSON, "notification: %v", err)
	}
	if n.ID == "" || n.Type == "" {
		return nil, FieldError("type", "notification needs an id and a type")
	}
	return &n, nil
}
