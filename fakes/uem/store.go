package uem

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// maxEvents bounds the event log; the oldest entries are dropped.
const maxEvents = 100000

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

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
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
