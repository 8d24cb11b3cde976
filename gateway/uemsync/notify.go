package uemsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Apply applies one UEM notification to the cache at once. A notification
// is applied once: its id is remembered, once it was applied, for the
// whole replay window (replay.go), so a redelivery or a replay within it
// changes nothing; one that failed is applied again when retried.
// ErrNotificationInFlight and ErrTooManyNotifications say it was not
// applied and should be retried.
//
// With a persistent store, the id is also written to it before Apply
// returns (replaystore.go), so that a replay after a restart is still
// recognised; a failed write keeps the notification applied.
func (l *Link) Apply(n *uemapi.Notification) (err error) {
	if n.ID != "" {
		now := l.cfg.Now()
		dup, rewrite, berr := l.notes.begin(n.ID, now, l.cfg.MaxNotificationIDs)
		if berr != nil || dup {
			if rewrite {
				l.storeNote(n.ID, now.Add(replayWindow))
			}
			return berr
		}
		defer func() {
			if until := l.notes.end(n.ID, l.cfg.Now(), err == nil); err == nil {
				l.storeNote(n.ID, until)
			}
		}()
	}
	return l.apply(n)
}

func (l *Link) apply(n *uemapi.Notification) error {
	switch n.Type {
	case uemapi.NotifyDeviceState:
		if n.Device == nil {
			return errors.New("uemsync: device.state without device")
		}
		d := n.Device
		key, err := deviceKey(d.EASDeviceID, d.User)
		if err != nil {
			return fmt.Errorf("uemsync: device.state: %w", err)
		}
		l.applyDecision(key, d.State, d.Behavior, d.Policy, "")
	case uemapi.NotifyPolicy:
		if n.Policy == nil {
			return errors.New("uemsync: policy.changed without policy")
		}
		pol := n.Policy.Policy
		l.putPolicy(&pol)
		for _, ref := range n.Policy.Devices {
			key, err := deviceKey(ref.EASDeviceID, ref.User)
			if err != nil {
				l.cfg.Log.Warn("policy.changed names a device with an invalid identity; skipped", "error", err)
				continue
			}
			l.cfg.Cache.Update(key, func(e *devicecache.Entry, exists bool) bool {
				if !exists {
					return false
				}
				applyState(e, true, stateOf(e), pol.ID, versionOf(&pol))
				return true
			})
		}
	case uemapi.NotifyPurge:
		if n.Purge == nil {
			return errors.New("uemsync: purge without device")
		}
		key, err := deviceKey(n.Purge.EASDeviceID, n.Purge.User)
		if err != nil {
			return fmt.Errorf("uemsync: purge: %w", err)
		}
		l.cfg.Cache.Delete(key)
	case uemapi.NotifyAppTunnel:
		if n.AppTunnel == nil {
			return errors.New("uemsync: apptunnel.changed without tunnel")
		}
		t := n.AppTunnel.Tunnel
		key, err := appKey(t.DeviceUUID, t.User, t.AppID)
		if err != nil {
			return fmt.Errorf("uemsync: apptunnel.changed: %w", err)
		}
		if n.AppTunnel.Removed {
			l.cfg.Cache.Delete(key)
			break
		}
		l.cfg.Cache.Update(key, func(e *devicecache.Entry, _ bool) bool {
			// Policy keeps the UEM's reason for an app entry, which tells
			// a device-level block from a tunnel block (gateway/apptunnel).
			e.Validated, e.State, e.Policy = true, devicecache.Allowed, t.Reason
			if t.State == uemapi.TunnelBlock {
				e.State = devicecache.Blocked
			}
			return true
		})
	case uemapi.NotifyConfig:
		if n.Config != nil && l.cfg.OnConfigChange != nil {
			if err := l.cfg.OnConfigChange(n.Config.Version); err != nil {
				return fmt.Errorf("uemsync: applying configuration %d: %w", n.Config.Version, err)
			}
		}
	case uemapi.NotifyKey:
		if n.Key != nil && l.cfg.OnKeyChange != nil {
			if err := l.cfg.OnKeyChange(*n.Key); err != nil {
				return fmt.Errorf("uemsync: loading key %s: %w", n.Key.KeyID, err)
			}
		}
	default:
		return fmt.Errorf("uemsync: unknown notification type %q", n.Type)
	}
	return nil
}

// stateOf maps a cache entry back to the UEM state, for re-applying a
// policy without changing the state.
func stateOf(e *devicecache.Entry) uemapi.SyncState {
	switch e.State {
	case devicecache.Blocked:
		return uemapi.StateBlocked
	case devicecache.WipePending:
		return uemapi.StateWiped
	}
	return uemapi.StateAllowed
}

// NotificationHandler receives the UEM's signed notifications
// (uemapi.VerifyNotification checks headers, size and signature before
// decoding). 401: signature or timestamp wrong; 413: body too large; 400:
// not a notification; 409: the same id is being applied; 503: too many
// recent notifications to remember; 422: it could not be applied (a
// retry applies it again). Refused requests change nothing.
func (l *Link) NotificationHandler(secret []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		n, err := uemapi.VerifyNotification(r, secret, l.cfg.Now(), 0)
		if err != nil {
			status := http.StatusBadRequest
			switch {
			case errors.Is(err, uemapi.ErrBadSignature) || errors.Is(err, uemapi.ErrStale):
				status = http.StatusUnauthorized
			case uemapi.IsCode(err, uemapi.CodeBodyTooLarge):
				status = http.StatusRequestEntityTooLarge
			case errors.Is(err, uemapi.ErrNoSecret):
				status = http.StatusInternalServerError
			}
			writeJSONError(w, status, err)
			return
		}
		switch err := l.Apply(n); {
		case err == nil:
			w.WriteHeader(http.StatusNoContent)
		case errors.Is(err, ErrNotificationInFlight):
			writeJSONError(w, http.StatusConflict, err)
		case errors.Is(err, ErrTooManyNotifications):
			w.Header().Set("Retry-After", "30")
			writeJSONError(w, http.StatusServiceUnavailable, err)
		default:
			writeJSONError(w, http.StatusUnprocessableEntity, err)
		}
	})
}

func writeJSONError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
