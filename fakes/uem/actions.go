package uem

import (
	"fmt"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Association actions (ACT-01).
const (
	ActAllow        = "allow"
	ActBlock        = "block"
	ActWipe         = "wipe"
	ActRegister     = "register"
	ActRemove       = "remove"
	ActLinkTo       = "link_to"
	ActAssignPolicy = "assign_policy"
	ActRevertPolicy = "revert_policy"
)

// Link To modes (ACT-12).
const (
	LinkReplace   = "replace"
	LinkDuplicate = "duplicate"
)

// Action is an admin action on an ActiveSync association. Every action
// carries the admin's note (ACT-01), which may be empty.
type Action struct {
	Action     string `json:"action"`
	Note       string `json:"note"`
	DeviceUUID string `json:"device_uuid,omitempty"` // link_to
	Mode       string `json:"mode,omitempty"`        // link_to: replace or duplicate
	PolicyID   string `json:"policy_id,omitempty"`   // assign_policy
}

func (s *store) assocByID(id string) (*assoc, error) {
	n, ok := parseAssocID(id)
	if !ok || n > int64(len(s.assocs)) || s.assocs[n-1] == nil {
		return nil, uemapi.Errorf(uemapi.CodeNotFound, "no association %q", id)
	}
	return s.assocs[n-1], nil
}

// associationAction applies one admin action and returns the association
// as it is afterwards (for Remove, as it was).
func (s *store) associationAction(id string, req Action) (Association, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.assocByID(id)
	if err != nil {
		return Association{}, err
	}
	// ACT-06: after Wipe the only valid action is Remove.
	if a.State() == uemapi.StateWiped && req.Action != ActRemove {
		return Association{}, uemapi.Errorf(uemapi.CodeActionNotAllowed, "association %s is wiped; only remove is allowed", id)
	}
	ev := Event{AssociationID: id, DeviceID: a.eas, User: a.userName, Message: req.Note}
	switch req.Action {
	case ActAllow, ActBlock, ActWipe:
		switch req.Action {
		case ActAllow:
			a.setState(uemapi.StateAllowed, uemapi.ReasonManualAllow)
			ev.Action = EventReinstate
		case ActBlock:
			a.setState(uemapi.StateBlocked, uemapi.ReasonManualBlock)
			ev.Action = EventBlock
		case ActWipe:
			a.setState(uemapi.StateWiped, uemapi.ReasonManualWipe)
			ev.Action = EventWipe
		}
		a.manual = true // ACT-04: until Remove
		s.touch(a, req.Note)
		s.logEvent(ev)
		s.notifyDevice(a)
	case ActRemove:
		v := s.view(a)
		s.deleteAssoc(a) // ACT-10: forgets the overrides too
		ev.Action = EventRemove
		s.logEvent(ev)
		s.broadcast(uemapi.Notification{Type: uemapi.NotifyPurge, Purge: &uemapi.PurgeNotification{
			DeviceRef: uemapi.DeviceRef{EASDeviceID: a.eas, User: a.userName}, AssociationID: id}})
		return v, nil
	case ActRegister:
		if err := s.register(a); err != nil {
			return Association{}, err
		}
		ev.Action, ev.DeviceUUID = EventRegister, a.device.UUID
		s.touch(a, req.Note)
		s.logEvent(ev)
		s.reevaluate(a, false)
		s.notifyDevice(a)
	case ActLinkTo:
		if err := s.linkTo(a, req.DeviceUUID, req.Mode, req.Note); err != nil {
			return Association{}, err
		}
		ev.Action, ev.DeviceUUID = EventLinkTo, req.DeviceUUID
		s.touch(a, req.Note)
		s.logEvent(ev)
		s.reevaluate(a, false)
		s.notifyDevice(a)
	case ActAssignPolicy, ActRevertPolicy:
		pid := ""
		ev.Action = EventRevertPolicy
		if req.Action == ActAssignPolicy {
			if _, ok := s.policies[req.PolicyID]; !ok {
				return Association{}, uemapi.FieldError("policy_id", "unknown policy %q", req.PolicyID)
			}
			pid, ev.Action = req.PolicyID, EventAssignPolicy
		}
		// ASA-14: the policy acts on the device, i.e. every association
		// of this EAS device id.
		for _, o := range s.assocsByEAS(a.eas) {
			if o.State() == uemapi.StateWiped {
				continue
			}
			o.rw().policyID = pid
			s.touch(o, req.Note)
			s.notifyDevice(o)
		}
		s.logEvent(ev)
	default:
		return Association{}, uemapi.FieldError("action", "must be one of allow, block, wipe, register, remove, link_to, assign_policy, revert_policy")
	}
	return s.view(a), nil
}

func (s *store) touch(a *assoc, note string) {
	a.rw().actionAt = nanos(s.now())
	if note != "" {
		a.rw().comment = note
	}
}

// register turns on management for the association's phone (ACT-09): the
// fake creates the managed device from what the gateway reported and links
// it.
func (s *store) register(a *assoc) error {
	if a.device != nil {
		return uemapi.Errorf(uemapi.CodeActionNotAllowed, "association %s is already registered", assocID(a.seq))
	}
	u := a.user
	if u == nil {
		var err error
		u, err = s.addUserLocked(User{ID: "u-" + randomHex(6), UPN: a.userName, Email: emailOf(a.userName)})
		if err != nil {
			return err
		}
		s.mailboxUnlink(a)
		a.user = u
		s.mailboxLink(a)
	}
	d := Device{UUID: newUUID(), UserID: u.ID, Platform: "Unknown"}
	if a.rep != nil {
		d.Model, d.PhoneNumber = a.rep.model, a.rep.phone
		switch {
		case a.rep.os != "":
			d.Platform = a.rep.os
		case a.rep.deviceType != "":
			d.Platform = a.rep.deviceType
		}
	}
	if _, taken := s.devByEAS[a.eas]; !taken {
		d.EASDeviceIDs = []string{a.eas}
	}
	dev, err := s.addDeviceLocked(d)
	if err != nil {
		return err
	}
	s.link(a, dev)
	return nil
}

func emailOf(name string) string {
	if strings.Contains(name, "@") {
		return name
	}
	return ""
}

// linkTo ties a to a managed device (ACT-12). When the device is already
// linked to another association the mode decides: replace moves the link,
// duplicate adds this association beside the others.
func (s *store) linkTo(a *assoc, uuid, mode, note string) error {
	d, ok := s.devices[uuid]
	if !ok {
		return uemapi.FieldError("device_uuid", "unknown device %q", uuid)
	}
	if d.Retired {
		return uemapi.Errorf(uemapi.CodeActionNotAllowed, "device %s is retired", uuid)
	}
	var others []*assoc
	for _, o := range d.links() {
		if o != a {
			others = append(others, o)
		}
	}
	if len(others) > 0 {
		switch mode {
		case LinkReplace:
			for _, o := range others {
				s.link(o, nil)
				s.touch(o, note)
				s.notifyDevice(o)
			}
		case LinkDuplicate:
		case "":
			return uemapi.Errorf(uemapi.CodeConflict, "device %s is linked to %d other association(s); choose mode replace or duplicate", uuid, len(others))
		default:
			return uemapi.FieldError("mode", "must be replace or duplicate")
		}
	}
	s.link(a, d)
	return nil
}

// setViolation toggles a device's security-policy violation, as a
// (non-)compliant check-in would (FLOW-08), and re-evaluates its
// associations and app tunnels.
func (s *store) setViolation(uuid string, violation bool) (Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[uuid]
	if !ok {
		return Device{}, uemapi.Errorf(uemapi.CodeNotFound, "no device %q", uuid)
	}
	d.SecurityViolation = violation
	for _, a := range d.links() {
		s.reevaluate(a, true)
	}
	for _, t := range s.tunnelsOfDevice(uuid) {
		s.reevaluateTunnel(t, true)
	}
	return *d, nil
}

// setDeviceTunnels is Block / Allow AppTunnels on a device (ATM-04).
func (s *store) setDeviceTunnels(uuid string, blocked bool, note string) (Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[uuid]
	if !ok {
		return Device{}, uemapi.Errorf(uemapi.CodeNotFound, "no device %q", uuid)
	}
	d.AppTunnelsBlocked = blocked
	action := EventTunnelsAllowed
	if blocked {
		action = EventTunnelsBlocked
	}
	s.logEvent(Event{Action: action, DeviceUUID: uuid, Message: note})
	for _, t := range s.tunnelsOfDevice(uuid) {
		s.reevaluateTunnel(t, true)
	}
	return *d, nil
}

// retireDevice retires a device: its associations become unlinked.
func (s *store) retireDevice(uuid string) (Device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[uuid]
	if !ok {
		return Device{}, uemapi.Errorf(uemapi.CodeNotFound, "no device %q", uuid)
	}
	d.Retired = true
	for _, a := range d.links() {
		s.link(a, nil)
		s.reevaluate(a, false)
		s.notifyDevice(a)
	}
	for _, t := range s.tunnelsOfDevice(uuid) {
		s.reevaluateTunnel(t, true)
	}
	return *d, nil
}

func newUUID() string {
	h := randomHex(16)
	return fmt.Sprintf("%s-%s-4%s-a%s-%s", h[0:8], h[8:12], h[13:16], h[17:20], h[20:32])
}
