package exchange

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// Management is the management side (protocol/exmgmt), for tests and the
// lab; the connector uses the HTTP API.
func (s *Server) Management() *Management { return s.mgmt }

func (g *Management) organization() exmgmt.Organization {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.org
}

// Rules returns the device access rules.
func (g *Management) Rules() []exmgmt.Rule {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.rules)
}

// AddRule adds (or, by name, replaces) a device access rule.
func (g *Management) AddRule(r exmgmt.Rule) error {
	switch {
	case r.Name == "" || len(r.Name) > 64:
		return fieldErr("name", "a rule needs a name of 1..64 characters")
	case r.Characteristic != exmgmt.ByModel && r.Characteristic != exmgmt.ByType:
		return fieldErr("characteristic", "must be DeviceModel or DeviceType")
	case r.QueryString == "":
		return fieldErr("query_string", "must not be empty")
	case !r.AccessLevel.Valid():
		return fieldErr("access_level", "must be Allow, Block or Quarantine")
	}
	g.changeRules(func() {
		g.rules = slices.DeleteFunc(g.rules, func(x exmgmt.Rule) bool { return x.Name == r.Name })
		g.rules = append(g.rules, r)
	})
	return nil
}

// RemoveRule removes a rule by name; false when there is none.
func (g *Management) RemoveRule(name string) bool {
	found := false
	g.changeRules(func() {
		n := len(g.rules)
		g.rules = slices.DeleteFunc(g.rules, func(x exmgmt.Rule) bool { return x.Name == name })
		found = len(g.rules) != n
	})
	return found
}

// SetDefaultAccess sets the organisation's default access level.
func (g *Management) SetDefaultAccess(l exmgmt.AccessLevel) {
	g.changeRules(func() { g.org.DefaultAccessLevel = l })
}

// Device returns a device as Get-MobileDevice shows it.
func (g *Management) Device(user, device string) (exmgmt.Device, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.devices[devKey{strings.ToLower(user), device}]
	if r == nil {
		return exmgmt.Device{}, false
	}
	g.refreshWipeLocked(r)
	g.evaluateLocked(&r.d)
	return r.d, true
}

// Mailbox returns a mailbox as Get-CASMailbox shows it.
func (g *Management) Mailbox(user string) (exmgmt.Mailbox, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	mb := g.mailboxes[strings.ToLower(user)]
	if mb == nil {
		return exmgmt.Mailbox{}, false
	}
	return cloneMailbox(mb.m), true
}

// SetGroups sets the group DNs a mailbox's user is in (group scoping).
func (g *Management) SetGroups(user string, groups ...string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	mb := g.mailboxes[strings.ToLower(user)]
	if mb != nil {
		mb.m.Groups, mb.m.WhenChanged = slices.Clone(groups), g.s.now()
	}
	return mb != nil
}

// SetPartnershipFlag overwrites a mailbox's stored
// HasActiveSyncDevicePartnership, as a migration leaves it (INT-13).
func (g *Management) SetPartnershipFlag(user string, v bool) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	mb := g.mailboxes[strings.ToLower(user)]
	if mb != nil {
		mb.m.HasActiveSyncDevicePartnership = v
	}
	return mb != nil
}

// Populate adds directory-only mailboxes prefix1..prefixN, each with
// devicesPer devices ("<prefix><i>-d<j>", type and model cycling through
// a few), all changed at the time given; for scale runs. The mailboxes
// have no EAS mail.
func (g *Management) Populate(prefix string, mailboxes, devicesPer int, groups []string, at time.Time) {
	types := []string{"iPhone", "Android", "iPad", "WindowsMail"}
	g.mu.Lock()
	defer g.mu.Unlock()
	for i := 1; i <= mailboxes; i++ {
		name := fmt.Sprintf("%s%d", prefix, i)
		m := exmgmt.Mailbox{Name: name, Email: name + "@" + g.s.cfg.Domain, WhenChanged: at}
		if len(groups) > 0 {
			m.Groups = []string{groups[i%len(groups)]}
		}
		g.addMailboxLocked(m)
		for j := 1; j <= devicesPer; j++ {
			t := types[(i+j)%len(types)]
			g.addDeviceLocked(exmgmt.Device{User: name, DeviceID: fmt.Sprintf("%s-d%d", name, j), DeviceType: t, Model: t + " model",
				FirstSync: at, LastSync: at, WhenChanged: at})
		}
	}
}

// AddDevice records a partnership without an EAS request (a device that
// synced directly with Exchange before the connector existed).
func (g *Management) AddDevice(d exmgmt.Device) {
	now := g.s.now()
	if d.FirstSync.IsZero() {
		d.FirstSync, d.LastSync = now, now
	}
	d.WhenChanged = now
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.devices[devKey{strings.ToLower(d.User), d.DeviceID}] == nil {
		g.addDeviceLocked(d)
	}
}

// wipe is Clear-MobileDevice: an EAS partnership gets the wipe on its
// next Provision (as the admin API's wipe); a directory-only device just
// shows the wipe as pending.
func (g *Management) wipe(user, device string, accountOnly bool) (exmgmt.Device, error) {
	if _, ok := g.s.devices.get(g.s.canonicalUser(user), device); ok {
		if _, err := g.s.Wipe(user, device, accountOnly); err != nil {
			return exmgmt.Device{}, err
		}
	}
	now := g.s.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.devices[devKey{strings.ToLower(user), device}]
	if r == nil {
		return exmgmt.Device{}, apiErr(http.StatusNotFound, "no_such_device", "no partnership of %q with device %q", user, device)
	}
	r.d.WipeState, r.d.WhenChanged = exmgmt.WipePending, now
	if accountOnly {
		r.d.WipeState = exmgmt.WipeAccountOnlyPending
	}
	return r.d, nil
}

// remove is Remove-MobileDevice: the partnership goes, the mailbox's flag
// stays as it was until recalculated (INT-13).
func (g *Management) remove(user, device string) bool {
	g.mu.Lock()
	k := devKey{strings.ToLower(user), device}
	r := g.devices[k]
	if r != nil {
		r.removed = true
		delete(g.devices, k)
	}
	g.mu.Unlock()
	name := g.s.canonicalUser(user)
	if g.s.devices.remove(name, device) {
		if mb := g.s.mailbox(name); mb != nil {
			mb.mu.Lock()
			delete(mb.devices, device)
			mb.mu.Unlock()
		}
	}
	return r != nil
}

// canonicalUser is the EAS mailbox's own spelling of a user name.
func (s *Server) canonicalUser(user string) string {
	if mb := s.mailbox(user); mb != nil {
		return mb.user.Name
	}
	return user
}

// wakeMailbox wakes the held Pings of a mailbox so that its devices come
// back and meet their new access state.
func (s *Server) wakeMailbox(user string) {
	mb := s.mailbox(user)
	if mb == nil {
		return
	}
	mb.mu.Lock()
	for _, f := range mb.folders {
		if f.Type == FolderTypeInbox {
			mb.notifyLocked(f)
		}
	}
	mb.mu.Unlock()
}
