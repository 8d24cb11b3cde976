package uem

import (
	"fmt"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// What the gateways report: first accesses (device reports), last-seen
// times and wipe acknowledgements, and the decision each one gets.

func (s *store) view(a *assoc) Association {
	v := Association{
		ID:             assocID(a.seq),
		DeviceID:       a.eas,
		User:           a.userName,
		Registered:     a.device != nil,
		Status:         StatusUnregistered,
		State:          a.State(),
		SyncStatus:     a.State().Display(),
		Reason:         a.Reason(),
		FirstSyncTime:  fromNanos(a.first),
		LastSyncTime:   fromNanos(a.last),
		MailboxID:      s.mailboxOf(a),
		Domain:         deref(a.gateway),
		PolicyID:       a.ro().policyID,
		Comment:        a.ro().comment,
		RedirectURL:    a.ro().redirect,
		ManualOverride: a.manual,
		WipeAcked:      fromNanos(a.ro().wipeAck),
		LastActionAt:   fromNanos(a.ro().actionAt),
	}
	if a.rep != nil {
		v.Number, v.Phone, v.OS = a.rep.phone, a.rep.model, a.rep.os
	}
	if a.device != nil {
		v.Status = StatusRegistered
		v.DeviceUUID = a.device.UUID
		if a.device.PhoneNumber != "" {
			v.Number = a.device.PhoneNumber
		}
		if a.device.Model != "" {
			v.Phone = a.device.Model
		}
		if v.OS == "" {
			v.OS = a.device.Platform
		}
	}
	if p := s.policies[a.ro().policyID]; p != nil {
		v.PolicyName = p.Name
	}
	return v
}

// policyFor returns the behaviour and policy the gateway applies (ASP-17).
func (s *store) policyFor(a *assoc) (uemapi.PolicyBehavior, *uemapi.ActiveSyncPolicy) {
	if p := s.policies[a.ro().policyID]; p != nil && p.Status == uemapi.PolicyActive {
		return uemapi.PolicyAssigned, p
	}
	return s.prefs.DefaultPolicyBehavior, nil
}

func (s *store) decision(a *assoc, first bool) uemapi.Decision {
	b, p := s.policyFor(a)
	d := uemapi.Decision{
		AssociationID: assocID(a.seq),
		EASDeviceID:   a.eas,
		User:          a.userName,
		State:         a.State(),
		Reason:        a.Reason(),
		Behavior:      b,
		FirstAccess:   first,
		Registered:    a.device != nil,
	}
	if p != nil {
		cp := *p
		d.Policy = &cp
	}
	return d
}

func (s *store) decideInput(a *assoc, isNew bool) DecisionInput {
	in := DecisionInput{
		New:                   isNew,
		Current:               a.State(),
		CurrentReason:         a.Reason(),
		Manual:                a.manual,
		Registered:            a.device != nil,
		SecurityViolation:     a.device != nil && a.device.SecurityViolation,
		AutoBlockUnregistered: s.prefs.AutoBlockUnregistered,
	}
	if isNew {
		mb := s.mailboxOf(a)
		in.MailboxLimit = s.mailboxLimit(mb)
		if in.MailboxLimit > 0 {
			in.MailboxAllowed = s.mailboxAllowed(mb, a.user, a)
		}
	}
	return in
}

// reportDevice handles a gateway's device report (FLOW-01).
func (s *store) reportDevice(gatewayID string, r uemapi.DeviceReport) (uemapi.Decision, error) {
	if err := validateReport(r); err != nil {
		return uemapi.Decision{}, err
	}
	at := r.AccessTime
	if at.IsZero() {
		at = s.now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := assocKey{r.EASDeviceID, strings.ToLower(r.User)}
	if a, ok := s.assocByKey[key]; ok {
		a.last = max(a.last, nanos(at))
		a.gateway = s.intern(gatewayID)
		s.reevaluate(a, false)
		return s.decision(a, false), nil
	}
	a := &assoc{
		seq:      int64(len(s.assocs)) + 1,
		eas:      r.EASDeviceID,
		userName: r.User,
		user:     s.lookupUser(r.User),
		gateway:  s.intern(gatewayID),
		first:    nanos(s.now()), // ASA-05: when the gateway first reported it
		last:     nanos(at),
		rep:      &reported{deviceType: r.DeviceType, model: r.Model, os: r.OS, phone: r.PhoneNumber},
	}
	if a.user == nil && r.Email != "" {
		a.user = s.lookupUser(r.Email)
	}
	s.link(a, s.findDevice(a.eas, a.user))
	a.setState(Decide(s.decideInput(a, true)))
	s.insertAssoc(a)
	if a.State() == uemapi.StateBlocked {
		s.logAuto(a, EventBlock)
	}
	return s.decision(a, true), nil
}

func validateReport(r uemapi.DeviceReport) error {
	switch {
	case r.EASDeviceID == "":
		return uemapi.FieldError("eas_device_id", "is required")
	case len(r.EASDeviceID) > 128:
		return uemapi.FieldError("eas_device_id", "longer than 128 characters")
	case r.User == "":
		return uemapi.FieldError("user", "is required")
	case len(r.User) > 256:
		return uemapi.FieldError("user", "longer than 256 characters")
	}
	return nil
}

func (s *store) insertAssoc(a *assoc) {
	s.assocs = append(s.assocs, a)
	s.assocByKey[assocKey{a.eas, strings.ToLower(a.userName)}] = a
	s.mailboxLink(a)
	s.assocCount++
}

func (s *store) deleteAssoc(a *assoc) {
	s.link(a, nil)
	s.assocs[a.seq-1] = nil
	delete(s.assocByKey, assocKey{a.eas, strings.ToLower(a.userName)})
	s.mailboxUnlink(a)
	s.assocCount--
}

// reevaluate re-runs the automatic decision on an existing association and,
// on a change, logs it and notifies the gateways. It reports whether the
// state changed.
func (s *store) reevaluate(a *assoc, notify bool) bool {
	st, why := Decide(s.decideInput(a, false))
	if st == a.State() && why == a.Reason() {
		return false
	}
	old := a.State()
	a.setState(st, why)
	if old != st {
		switch st {
		case uemapi.StateBlocked:
			s.logAuto(a, EventBlock)
		case uemapi.StateAllowed:
			s.logAuto(a, EventReinstate)
		}
	}
	if notify {
		s.notifyDevice(a)
	}
	return old != st
}

func (s *store) lastSeen(items []uemapi.LastSeen) (uemapi.LastSeenResult, error) {
	if len(items) > uemapi.MaxBatch {
		return uemapi.LastSeenResult{}, uemapi.FieldError("items", "more than %d items", uemapi.MaxBatch)
	}
	for i, it := range items {
		if it.EASDeviceID == "" || it.User == "" {
			return uemapi.LastSeenResult{}, uemapi.FieldError(fmt.Sprintf("items[%d]", i), "eas_device_id and user are required")
		}
		if it.Time.IsZero() {
			return uemapi.LastSeenResult{}, uemapi.FieldError(fmt.Sprintf("items[%d].time", i), "is required")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res uemapi.LastSeenResult
	for _, it := range items {
		a, ok := s.assocByKey[assocKey{it.EASDeviceID, strings.ToLower(it.User)}]
		if !ok {
			res.Unknown = append(res.Unknown, it)
			continue
		}
		a.last = max(a.last, nanos(it.Time))
		if it.RedirectURL != "" {
			a.rw().redirect = it.RedirectURL
		}
		res.Updated++
	}
	return res, nil
}

func (s *store) wipeAck(w uemapi.WipeAck) error {
	if w.EASDeviceID == "" || w.User == "" {
		return uemapi.FieldError("eas_device_id", "eas_device_id and user are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.assocByKey[assocKey{w.EASDeviceID, strings.ToLower(w.User)}]
	if !ok {
		return uemapi.Errorf(uemapi.CodeNotFound, "no association for that device and user")
	}
	if a.State() != uemapi.StateWiped {
		return uemapi.Errorf(uemapi.CodeActionNotAllowed, "association %s is not wiped", assocID(a.seq))
	}
	t := w.Time
	if t.IsZero() {
		t = s.now()
	}
	a.rw().wipeAck = nanos(t)
	s.logEvent(Event{Action: EventWipeAcked, AssociationID: assocID(a.seq), DeviceID: a.eas, User: a.userName})
	return nil
}
