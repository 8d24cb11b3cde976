package uem

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// maxEvents bounds the event log; the oldest entries are dropped.
const maxEvents = 100000

// assoc is the stored form of an ActiveSync association, kept small (128
// bytes) because the fake holds a million of them in capacity tests: state
// and reason are one-byte codes, the gateway name is interned and the
// rarely set fields live behind ext.
type assoc struct {
	seq      int64
	eas      string
	userName string // as reported
	user     *User  // nil when the user is unknown to the UEM
	device   *Device
	first    int64 // unix nanoseconds
	last     int64
	gateway  *string // interned gateway id
	ext      *assocExtra
	rep      *reported
	mbPrev   *assoc
	mbNext   *assoc
	state    stateCode
	reason   reasonCode
	manual   bool
}

// assocExtra holds the fields most associations never set.
type assocExtra struct {
	policyID string
	comment  string
	redirect string
	wipeAck  int64
	actionAt int64
}

var noExtra assocExtra

// ro returns the extra fields for reading; never write through it.
func (a *assoc) ro() *assocExtra {
	if a.ext == nil {
		return &noExtra
	}
	return a.ext
}

// rw returns the extra fields for writing, allocating them.
func (a *assoc) rw() *assocExtra {
	if a.ext == nil {
		a.ext = &assocExtra{}
	}
	return a.ext
}

type stateCode uint8

var stateNames = [...]uemapi.SyncState{uemapi.StateAllowed, uemapi.StateBlocked, uemapi.StateWiped}

type reasonCode uint8

var reasonNames = [...]uemapi.Reason{uemapi.ReasonAllowed, uemapi.ReasonSecurityViolation, uemapi.ReasonMailboxLimit,
	uemapi.ReasonUnregistered, uemapi.ReasonManualAllow, uemapi.ReasonManualBlock, uemapi.ReasonManualWipe}

// State is the association's sync state.
func (a *assoc) State() uemapi.SyncState { return stateNames[a.state] }

// Reason is why the association has its state.
func (a *assoc) Reason() uemapi.Reason { return reasonNames[a.reason] }

func (a *assoc) setState(st uemapi.SyncState, r uemapi.Reason) {
	for i, n := range stateNames {
		if n == st {
			a.state = stateCode(i)
		}
	}
	for i, n := range reasonNames {
		if n == r {
			a.reason = reasonCode(i)
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// intern returns the shared copy of a gateway id.
func (s *store) intern(id string) *string {
	if id == "" {
		return nil
	}
	if p, ok := s.interned[id]; ok {
		return p
	}
	p := &id
	s.interned[id] = p
	return p
}

// reported is what the gateway said about the device on first access.
type reported struct {
	deviceType, model, os, phone string
}

type assocKey struct{ eas, user string }

// sink receives the notifications the store emits. Called with the store
// lock held; it must not block or call back into the store.
type sink interface {
	enqueue(gatewayID string, n uemapi.Notification)
}

type nopSink struct{}

func (nopSink) enqueue(string, uemapi.Notification) {}

// store is the fake UEM's state. One lock guards everything.
type store struct {
	mu    sync.RWMutex
	now   func() time.Time
	out   sink
	prefs Preferences

	users     map[string]*User // by id
	userNames map[string]*User // by lower-case UPN, email and id
	devices   map[string]*Device
	devByEAS  map[string]*Device

	assocs     []*assoc // index seq-1; nil once removed
	assocByKey map[assocKey]*assoc
	mailboxes  map[string]*assoc // head of each unknown user's mailbox list
	assocCount int

	policies  map[string]*uemapi.ActiveSyncPolicy
	policySeq int

	gateways  map[string]*GatewayEntry
	gwByToken map[string]*GatewayEntry

	tunnels    map[tunnelKey]*tunnel
	tunnelList []*tunnel // index seq-1; nil once removed

	events   []Event
	eventSeq int64

	key *uemapi.AttachmentKey

	interned map[string]*string
}

func newStore(now func() time.Time, out sink) *store {
	s := &store{
		now:        now,
		out:        out,
		prefs:      DefaultPreferences(),
		users:      map[string]*User{},
		userNames:  map[string]*User{},
		devices:    map[string]*Device{},
		devByEAS:   map[string]*Device{},
		assocByKey: map[assocKey]*assoc{},
		mailboxes:  map[string]*assoc{},
		policies:   map[string]*uemapi.ActiveSyncPolicy{},
		gateways:   map[string]*GatewayEntry{},
		gwByToken:  map[string]*GatewayEntry{},
		tunnels:    map[tunnelKey]*tunnel{},
		interned:   map[string]*string{},
	}
	p := uemapi.DefaultPolicy()
	p.Version = 1
	p.UpdatedAt = now()
	s.policies[p.ID] = &p
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func assocID(seq int64) string { return "a" + strconv.FormatInt(seq, 10) }

func parseAssocID(id string) (int64, bool) {
	if !strings.HasPrefix(id, "a") {
		return 0, false
	}
	n, err := strconv.ParseInt(id[1:], 10, 64)
	return n, err == nil && n > 0
}

func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// ---- users and devices ----

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

// ---- mailbox index ----

func (s *store) mailboxOf(a *assoc) string {
	if a.user != nil {
		return a.user.MailboxID
	}
	return strings.ToLower(a.userName)
}

// mailboxHead returns the first association of a's mailbox: known users
// hold their list themselves, unknown ones are indexed by name.
func (s *store) mailboxHead(mailbox string, u *User) *assoc {
	if u != nil {
		return u.mbHead
	}
	return s.mailboxes[mailbox]
}

func (s *store) setMailboxHead(a *assoc, head *assoc) {
	switch {
	case a.user != nil:
		a.user.mbHead = head
	case head == nil:
		delete(s.mailboxes, s.mailboxOf(a))
	default:
		s.mailboxes[s.mailboxOf(a)] = head
	}
}

func (s *store) mailboxLink(a *assoc) {
	head := s.mailboxHead(s.mailboxOf(a), a.user)
	a.mbNext = head
	if head != nil {
		head.mbPrev = a
	}
	s.setMailboxHead(a, a)
}

func (s *store) mailboxUnlink(a *assoc) {
	if a.mbPrev != nil {
		a.mbPrev.mbNext = a.mbNext
	} else {
		s.setMailboxHead(a, a.mbNext)
	}
	if a.mbNext != nil {
		a.mbNext.mbPrev = a.mbPrev
	}
	a.mbPrev, a.mbNext = nil, nil
}

// mailboxLimit returns the device limit of the policy applied to the
// mailbox: an active policy listing the mailbox (lowest id first), else the
// Default ActiveSync Policy (ASP-13, ASP-15).
func (s *store) mailboxLimit(mailbox string) int {
	var best *uemapi.ActiveSyncPolicy
	for _, p := range s.policies {
		if p.Status != uemapi.PolicyActive || !slices.Contains(p.ApplyToMailboxes, mailbox) {
			continue
		}
		if best == nil || p.ID < best.ID {
			best = p
		}
	}
	if best == nil {
		best = s.policies[uemapi.DefaultPolicyID]
		if best.Status != uemapi.PolicyActive {
			return 0
		}
	}
	return best.MaxDevicesPerMailbox
}

func (s *store) mailboxAllowed(mailbox string, u *User, except *assoc) int {
	n := 0
	for a := s.mailboxHead(mailbox, u); a != nil; a = a.mbNext {
		if a != except && a.State() == uemapi.StateAllowed {
			n++
		}
	}
	return n
}

// ---- linking ----

// findDevice matches a reported association to a managed device (ASA-09,
// PREF-06): by EAS device id, then, unless strict linking is on, by the
// user's name or email, preferring a device of that user not yet linked.
func (s *store) findDevice(eas string, user *User) *Device {
	if d, ok := s.devByEAS[eas]; ok && !d.Retired {
		return d
	}
	if s.prefs.StrictLinking || user == nil {
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

// ---- reporting ----

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

// notifyDevice sends a device.state notification to every enabled gateway.
func (s *store) notifyDevice(a *assoc) {
	d := s.decision(a, false)
	s.broadcast(uemapi.Notification{Type: uemapi.NotifyDeviceState, Device: &d})
}

func (s *store) broadcast(n uemapi.Notification) {
	for _, id := range s.gatewayIDs() {
		s.out.enqueue(id, n)
	}
}

func (s *store) gatewayIDs() []string {
	ids := make([]string, 0, len(s.gateways))
	for id := range s.gateways {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// autoMessage is the Message of an automatic event: it names the security
// policy cause (ACT-16).
func autoMessage(action string, r uemapi.Reason) string {
	if action == EventReinstate {
		return "security policy: device is compliant"
	}
	switch r {
	case uemapi.ReasonSecurityViolation:
		return "security policy violation"
	case uemapi.ReasonMailboxLimit:
		return "security policy: per-mailbox device limit exceeded"
	case uemapi.ReasonUnregistered:
		return "security policy: unregistered device blocked (auto block)"
	}
	return "security policy"
}

func (s *store) logAuto(a *assoc, action string) {
	s.logEvent(Event{Action: action, Automatic: true, AssociationID: assocID(a.seq), DeviceID: a.eas, User: a.userName,
		Message: autoMessage(action, a.Reason())})
}

func (s *store) logEvent(e Event) {
	s.eventSeq++
	e.Seq = s.eventSeq
	if e.Time.IsZero() {
		e.Time = s.now().UTC()
	}
	if len(s.events) >= maxEvents {
		s.events = slices.Delete(s.events, 0, len(s.events)-maxEvents+1)
	}
	s.events = append(s.events, e)
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

// appendDevicePage appends one page of the device list as JSON (the
// encoding of uemapi.DevicePage) to b, straight from the store: the list
// moves a million records in capacity tests. The cursor is the last
// sequence number scanned, opaque to clients.
func (s *store) appendDevicePage(b []byte, filter uemapi.DeviceFilter, cursor string, limit int) ([]byte, error) {
	if filter == "" {
		filter = uemapi.FilterAllowed
	}
	if filter != uemapi.FilterAllowed && filter != uemapi.FilterAll {
		return b, uemapi.FieldError("filter", "must be allowed or all")
	}
	from, err := parseCursor(cursor)
	if err != nil {
		return b, err
	}
	if limit == 0 {
		limit = uemapi.DefaultPageSize
	}
	if limit < 1 || limit > uemapi.MaxPageSize {
		return b, uemapi.FieldError("limit", "must be 1-%d", uemapi.MaxPageSize)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	policies := map[string]*uemapi.ActiveSyncPolicy{}
	b = append(b, `{"items":[`...)
	n := 0
	i := from
	for ; i < int64(len(s.assocs)) && n < limit; i++ {
		a := s.assocs[i]
		if a == nil || filter == uemapi.FilterAllowed && (a.State() != uemapi.StateAllowed || a.device == nil) {
			continue
		}
		behavior, p := s.policyFor(a)
		policyID := ""
		if p != nil {
			policyID = p.ID
			policies[p.ID] = p
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendDeviceEntry(b, a, behavior, policyID)
		n++
	}
	b = append(b, `],"policies":`...)
	pol, err := json.Marshal(policies)
	if err != nil {
		return b, err
	}
	b = append(b, pol...)
	if i < int64(len(s.assocs)) {
		b = append(b, `,"next_cursor":"`...)
		b = strconv.AppendInt(b, i, 10)
		b = append(b, '"')
	}
	return append(b, "}\n"...), nil
}

func parseCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(c, 10, 64)
	if err != nil || n < 0 {
		return 0, uemapi.FieldError("cursor", "is not a cursor this server issued")
	}
	return n, nil
}
