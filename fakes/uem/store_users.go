package uem

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// The store's users and managed devices, and how a reported association
// links to a device (ASA-09).

func (s *store) addUserLocked(u User) (*User, error) {
	if u.ID == "" {
		return nil, uemapi.FieldError("id", "is required")
	}
	if u.UPN == "" && u.Email == "" {
		return nil, uemapi.FieldError("upn", "a UPN or an email is required")
	}
	if _, ok := s.users[u.ID]; ok {
		return nil, uemapi.Errorf(uemapi.CodeConflict, "user %q exists", u.ID)
	}
	for _, n := range []string{u.UPN, u.Email} {
		if n == "" {
			continue
		}
		if other := s.lookupUser(n); other != nil && other.ID != u.ID {
			return nil, uemapi.Errorf(uemapi.CodeConflict, "user name %q is taken by %q", n, other.ID)
		}
	}
	if u.MailboxID == "" {
		u.MailboxID = u.Email
		if u.MailboxID == "" {
			u.MailboxID = u.UPN
		}
	}
	p := &u
	s.users[u.ID] = p
	for _, n := range []string{u.UPN, u.Email} {
		if n != "" {
			s.userNames[strings.ToLower(n)] = p
		}
	}
	return p, nil
}

// lookupUser resolves a reported user name: UPN, email, user id, or the
// user part of DOMAIN\user.
func (s *store) lookupUser(name string) *User {
	l := strings.ToLower(name)
	if u, ok := s.userNames[l]; ok {
		return u
	}
	if i := strings.LastIndexByte(l, '\\'); i >= 0 {
		l = l[i+1:]
		if u, ok := s.userNames[l]; ok {
			return u
		}
	}
	for _, id := range []string{name, l} {
		if u, ok := s.users[id]; ok {
			return u
		}
	}
	return nil
}

func (s *store) addDeviceLocked(d Device) (*Device, error) {
	if d.UUID == "" {
		return nil, uemapi.FieldError("uuid", "is required")
	}
	if _, ok := s.devices[d.UUID]; ok {
		return nil, uemapi.Errorf(uemapi.CodeConflict, "device %q exists", d.UUID)
	}
	if _, ok := s.users[d.UserID]; !ok {
		return nil, uemapi.FieldError("user_id", "unknown user %q", d.UserID)
	}
	if d.Platform == "" {
		return nil, uemapi.FieldError("platform", "is required")
	}
	for i, e := range d.EASDeviceIDs {
		if e == "" {
			return nil, uemapi.FieldError(fmt.Sprintf("eas_device_ids[%d]", i), "is empty")
		}
		if other, ok := s.devByEAS[e]; ok {
			return nil, uemapi.Errorf(uemapi.CodeConflict, "EAS device id %q belongs to device %q", e, other.UUID)
		}
	}
	if d.RegisteredAt.IsZero() {
		d.RegisteredAt = s.now().UTC()
	}
	p := &d
	p.link, p.moreLinks = nil, nil
	owner := s.users[d.UserID]
	p.nextOfOwner = owner.firstDevice
	owner.firstDevice = p
	s.devices[d.UUID] = p
	for _, e := range d.EASDeviceIDs {
		s.devByEAS[e] = p
	}
	return p, nil
}

// findDevice matches a reported association to a managed device (ASA-09,
// PREF-06): by EAS device id, then, unless strict linking is on, by the
// user's name or email, preferring a device of that user not yet linked.
// An account whose user the UEM does not know is never linked: on a
// registered device it is an extra mailbox, and multi-mailbox needs the
// user of each account to exist in the UEM (MMB-05); it stays
// unregistered, decided as such.
func (s *store) findDevice(eas string, user *User) *Device {
	if user == nil {
		return nil
	}
	if d, ok := s.devByEAS[eas]; ok && !d.Retired {
		return d
	}
	if s.prefs.StrictLinking {
		return nil
	}
	var first *Device
	for _, d := range s.devicesOfUser(user) {
		if d.Retired {
			continue
		}
		if first == nil {
			first = d
		}
		if !s.deviceLinked(d) {
			return d
		}
	}
	return first
}

// devicesOfUser returns the devices registered to u, oldest first.
func (s *store) devicesOfUser(u *User) []*Device {
	var out []*Device
	for d := u.firstDevice; d != nil; d = d.nextOfOwner {
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *Device) int {
		if c := a.RegisteredAt.Compare(b.RegisteredAt); c != 0 {
			return c
		}
		return strings.Compare(a.UUID, b.UUID)
	})
	return out
}

// deviceLinked reports whether any association is linked to d.
func (s *store) deviceLinked(d *Device) bool { return d.link != nil }

// link ties a to d (nil unlinks).
func (s *store) link(a *assoc, d *Device) {
	if a.device == d {
		return
	}
	if old := a.device; old != nil {
		rest := slices.DeleteFunc(old.links(), func(x *assoc) bool { return x == a })
		old.link, old.moreLinks = nil, nil
		for _, x := range rest {
			addLink(old, x)
		}
	}
	a.device = d
	if d != nil {
		addLink(d, a)
	}
}

func addLink(d *Device, a *assoc) {
	switch {
	case d.link == nil:
		d.link = a
	case d.moreLinks == nil:
		d.moreLinks = &[]*assoc{a}
	default:
		*d.moreLinks = append(*d.moreLinks, a)
	}
}

// assocsByEAS returns the associations of one EAS device id in creation
// order. It scans every association: only admin actions use it.
func (s *store) assocsByEAS(eas string) []*assoc {
	var out []*assoc
	for k, a := range s.assocByKey {
		if k.eas == eas {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b *assoc) int { return int(a.seq - b.seq) })
	return out
}
