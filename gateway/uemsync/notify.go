package uemsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// maxRemembered bounds the notification ids kept to drop redeliveries.
const maxRemembered = 4096

// Apply applies one UEM notification to the cache at once. Redelivered
// notifications (same id) are applied once.
func (l *Link) Apply(n *uemapi.Notification) error {
	if n.ID != "" && !l.remember(n.ID) {
		return nil
	}
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
		l.cfg.Policies.Put(&pol)
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
			e.Validated, e.State = true, devicecache.Allowed
			if t.State == uemapi.TunnelBlock {
				e.State = devicecache.Blocked
			}
			return true
		})
	case uemapi.NotifyConfig:
		if n.Config != nil && l.cfg.OnConfigChange != nil {
			if err := l.cfg.OnConfigChange(n.Config.Version); err != nil {
				l.forget(n.ID) // let the UEM's retry try again
				return fmt.Errorf("uemsync: applying configuration %d: %w", n.Config.Version, err)
			}
		}
	case uemapi.NotifyKey:
		if n.Key != nil && l.cfg.OnKeyChange != nil {
			if err := l.cfg.OnKeyChange(*n.Key); err != nil {
				l.forget(n.ID)
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

// forget drops a remembered id, so a redelivery is applied again.
func (l *Link) forget(id string) {
	if id == "" {
		return
	}
	l.mu.Lock()
	delete(l.seenNotes, id)
	l.mu.Unlock()
}

func (l *Link) remember(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, seen := l.seenNotes[id]; seen {
		return false
	}
	l.seenNotes[id] = struct{}{}
	l.noteOrder = append(l.noteOrder, id)
	if len(l.noteOrder) > maxRemembered {
		delete(l.seenNotes, l.noteOrder[0])
		l.noteOrder = l.noteOrder[1:]
	}
	return true
}

// NotificationHandler receives the UEM's signed notifications. A request
// whose signature or timestamp does not verify is refused with 401 and
// changes nothing.
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
			if errors.Is(err, uemapi.ErrBadSignature) || errors.Is(err, uemapi.ErrStale) {
				status = http.StatusUnauthorized
			}
			writeJSONError(w, status, err)
			return
		}
		if err := l.Apply(n); err != nil {
			writeJSONError(w, http.StatusUnprocessableEntity, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func writeJSONError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}
