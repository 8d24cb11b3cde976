package uemapi

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
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

// MaxNotificationBody bounds a notification body. The largest is a
// policy.changed, whose device list a UEM splits so that each fits
// (fakes/uem: at most 1,000 devices); the rest are well under 4 KiB.
const MaxNotificationBody = 256 << 10

// MinNotifySecret is the shortest notification secret accepted: an empty
// or short key makes the signature a formality.
const MinNotifySecret = 16

// MaxNotificationID bounds a notification id (the receiver remembers ids
// against replay).
const MaxNotificationID = 128

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
	return signaturePrefix + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Errors of VerifyNotification.
var (
	ErrBadSignature = errors.New("uemapi: notification signature mismatch")
	ErrStale        = errors.New("uemapi: notification timestamp outside the allowed skew")
	// ErrNoSecret: the receiver has no (or too short a) secret; it must
	// not accept notifications at all.
	ErrNoSecret = fmt.Errorf("uemapi: notification secret shorter than %d bytes", MinNotifySecret)
)

// DefaultSkew is the timestamp tolerance VerifyNotification applies when
// given 0.
const DefaultSkew = 5 * time.Minute

// signaturePrefix starts the signature header; the hex HMAC follows.
const signaturePrefix = "v1="

// VerifyNotification authenticates and decodes an incoming notification,
// cheapest checks first: the secret is at least MinNotifySecret bytes
// (ErrNoSecret); the timestamp header is within skew of now (ErrStale)
// and the signature header is well-formed (ErrBadSignature), both before
// the body is read; the body is at most MaxNotificationBody bytes
// (body_too_large); its HMAC matches, compared in constant time
// (ErrBadSignature), before any JSON is decoded; the JSON is one
// Notification with no unknown field (invalid_field naming it), with an
// id of at most MaxNotificationID bytes and a type. The gateway's
// receiving handler answers 401 for signature and skew, 413 for size,
// 400 otherwise.
func VerifyNotification(r *http.Request, secret []byte, now time.Time, skew time.Duration) (*Notification, error) {
	if len(secret) < MinNotifySecret {
		return nil, ErrNoSecret
	}
	if skew <= 0 {
		skew = DefaultSkew
	}
	ts, err := strconv.ParseInt(r.Header.Get(HeaderTimestamp), 10, 64)
	if err != nil {
		return nil, ErrStale
	}
	if d := now.Sub(time.Unix(ts, 0)); d > skew || d < -skew {
		return nil, ErrStale
	}
	sig, ok := strings.CutPrefix(r.Header.Get(HeaderSignature), signaturePrefix)
	if !ok || len(sig) != 2*sha256.Size {
		return nil, ErrBadSignature
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return nil, ErrBadSignature
	}
	if r.ContentLength > MaxNotificationBody {
		return nil, Errorf(CodeBodyTooLarge, "notification larger than %d bytes", MaxNotificationBody)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxNotificationBody+1))
	if err != nil {
		return nil, fmt.Errorf("uemapi: reading notification: %w", err)
	}
	if len(body) > MaxNotificationBody {
		return nil, Errorf(CodeBodyTooLarge, "notification larger than %d bytes", MaxNotificationBody)
	}
	if !hmac.Equal(got, mac(secret, ts, body)) {
		return nil, ErrBadSignature
	}
	var n Notification
	if err := DecodeStrict(bytes.NewReader(body), &n); err != nil {
		return nil, err
	}
	switch {
	case n.ID == "" || n.Type == "":
		return nil, FieldError("type", "notification needs an id and a type")
	case len(n.ID) > MaxNotificationID:
		return nil, FieldError("id", "longer than %d bytes", MaxNotificationID)
	}
	if d := r.Header.Get(HeaderDelivery); d != "" && d != n.ID {
		return nil, FieldError("id", "does not match the %s header", HeaderDelivery)
	}
	return &n, nil
}
