package integrated

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// NotificationPath is where the connector takes UEM notifications, the
// same path as the gateway's.
const NotificationPath = "/uem/v1/notifications"

// notifySkew is how old a notification may be.
const notifySkew = 5 * time.Minute

// handleNotification applies a signed UEM notification at once: a
// device's new state (violation, mailbox limit, admin Allow/Block/Wipe)
// or a policy goes to Exchange now, not at the next sync (INT-14).
func (c *Connector) handleNotification(w http.ResponseWriter, r *http.Request) {
	if len(c.cfg.NotifySecret) == 0 {
		http.Error(w, "notifications are not configured", http.StatusForbidden)
		return
	}
	n, err := uemapi.VerifyNotification(r, c.cfg.NotifySecret, c.cfg.Now(), notifySkew)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, uemapi.ErrBadSignature) || errors.Is(err, uemapi.ErrStale) {
			status = http.StatusUnauthorized
		}
		http.Error(w, "notification refused", status)
		return
	}
	if err := c.Apply(r.Context(), n); err != nil {
		c.cfg.Log.Warn("integrated: notification not applied", "type", n.Type, "error", err)
		http.Error(w, "not applied", http.StatusServiceUnavailable) // the UEM retries
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Apply applies one UEM notification: the decision is remembered (a
// running full sync uses it over the older list) and pushed to Exchange
// when the partnership is known.
func (c *Connector) Apply(ctx context.Context, n *uemapi.Notification) error {
	switch n.Type {
	case uemapi.NotifyDeviceState:
		if n.Device == nil {
			return errors.New("integrated: device.state without device")
		}
		d := decision{state: n.Device.State, at: c.cfg.Now()}
		if n.Device.Behavior == uemapi.PolicyAssigned && n.Device.Policy != nil {
			d.policy = n.Device.Policy.Name
		}
		return c.decide(ctx, keyOf(n.Device.User, n.Device.EASDeviceID), d)
	case uemapi.NotifyPolicy:
		if n.Policy == nil {
			return errors.New("integrated: policy.changed without policy")
		}
		for _, ref := range n.Policy.Devices {
			k := keyOf(ref.User, ref.EASDeviceID)
			c.mu.Lock()
			kn := c.known[k]
			var d decision
			if kn != nil {
				d = kn.dec
			}
			c.mu.Unlock()
			if kn == nil {
				continue
			}
			d.policy, d.at = n.Policy.Policy.Name, c.cfg.Now()
			if err := c.decide(ctx, k, d); err != nil {
				return err
			}
		}
	case uemapi.NotifyConfig:
		doc, _, err := c.cfg.UEM.Config(ctx, "")
		if err != nil {
			return err
		}
		return c.apply(doc)
	case uemapi.NotifyPurge:
		if n.Purge != nil {
			c.mu.Lock()
			delete(c.notes, keyOf(n.Purge.User, n.Purge.EASDeviceID))
			c.mu.Unlock()
		}
	}
	return nil
}

// decide records a decision and pushes it for a known partnership.
func (c *Connector) decide(ctx context.Context, k devKey, d decision) error {
	c.mu.Lock()
	c.notes[k] = d
	kn := c.known[k]
	m, ok := c.mailboxes[k.user]
	var dev exmgmt.Device
	if kn != nil {
		dev = kn.dev
	}
	c.mu.Unlock()
	if kn == nil || !ok {
		return nil // not in Exchange yet: the sync that finds it applies the note
	}
	nm, err := c.push(ctx, m, []exmgmt.Device{dev}, []decision{d})
	if err != nil {
		return err
	}
	c.mu.Lock()
	kn.dec = d
	if d.state == uemapi.StateWiped {
		kn.dev.WipeState = exmgmt.WipePending
	}
	if cur, ok := c.mailboxes[k.user]; ok && nm.Name != "" {
		cur.AllowedDeviceIDs, cur.BlockedDeviceIDs, cur.ActiveSyncMailboxPolicy = nm.AllowedDeviceIDs, nm.BlockedDeviceIDs, nm.ActiveSyncMailboxPolicy
		c.mailboxes[k.user] = cur
	}
	c.mu.Unlock()
	return nil
}
