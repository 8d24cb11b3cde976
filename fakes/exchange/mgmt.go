package exchange

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// Management is the management side of the fake Exchange (protocol/exmgmt): the
// mailbox directory with its device access lists, the devices as
// Get-MobileDevice shows them, the device access rules and the
// organisation's default level. It keeps its own records, in insertion
// order so that a cursor is a stable position, and can be populated far
// beyond the EAS mailboxes (directory-only mailboxes) for scale runs.
type Management struct {
	s  *Server
	mu sync.Mutex

	mailboxes   map[string]*mbRec // by lower-case name
	mbOrder     []*mbRec
	devices     map[devKey]*devRec // user is the lower-case mailbox name
	devOrder    []*devRec
	rules       []exmgmt.Rule
	org         exmgmt.Organization
	faults      mgmtFaults
	pagesServed int
}

type mbRec struct {
	m exmgmt.Mailbox
}

type devRec struct {
	d       exmgmt.Device
	canon   string // the EAS mailbox's spelling of the user, "" without EAS requests
	removed bool
}

func newMgmt(s *Server) *Management {
	g := &Management{s: s, mailboxes: map[string]*mbRec{}, devices: map[devKey]*devRec{},
		org: exmgmt.Organization{DefaultAccessLevel: exmgmt.LevelAllow}}
	for _, u := range s.Users() {
		g.addMailboxLocked(exmgmt.Mailbox{Name: u.Name, Email: userAddress(u), WhenChanged: s.now()})
	}
	return g
}

func (g *Management) addMailboxLocked(m exmgmt.Mailbox) *mbRec {
	r := &mbRec{m: m}
	g.mailboxes[strings.ToLower(m.Name)] = r
	g.mbOrder = append(g.mbOrder, r)
	return r
}

// addDeviceLocked records a new partnership and sets the mailbox's flag,
// as Exchange does when a device first syncs.
func (g *Management) addDeviceLocked(d exmgmt.Device) *devRec {
	r := &devRec{d: d}
	g.devices[devKey{strings.ToLower(d.User), d.DeviceID}] = r
	g.devOrder = append(g.devOrder, r)
	if mb := g.mailboxes[strings.ToLower(d.User)]; mb != nil {
		mb.m.HasActiveSyncDevicePartnership = true
	}
	return r
}

// observe records an EAS request of a device and returns its record (a
// copy) with the access state evaluated now.
func (g *Management) observe(user string, dev Partnership, now time.Time) exmgmt.Device {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.devices[devKey{strings.ToLower(user), dev.DeviceID}]
	if r == nil {
		r = g.addDeviceLocked(exmgmt.Device{User: user, DeviceID: dev.DeviceID, FirstSync: now, WhenChanged: now})
	}
	r.d.DeviceType, r.d.LastSync, r.d.UserAgent, r.canon = dev.DeviceType, now, dev.UserAgent, user
	if dev.Model != "" {
		r.d.Model = dev.Model
	}
	g.evaluateLocked(&r.d)
	return r.d
}

// refreshWipeLocked moves a pending wipe to done once the device
// acknowledged it on its EAS partnership (Get-MobileDeviceStatistics
// DeviceWipeStatus), moving WhenChanged so a differential sees it.
func (g *Management) refreshWipeLocked(r *devRec) {
	if r.canon == "" || (r.d.WipeState != exmgmt.WipePending && r.d.WipeState != exmgmt.WipeAccountOnlyPending) {
		return
	}
	p, ok := g.s.devices.get(r.canon, r.d.DeviceID)
	switch {
	case ok && p.AccessState == AccessWiped:
		r.d.WipeState, r.d.WhenChanged = exmgmt.WipeDone, g.s.now()
	case ok && p.AccessState == AccessAccountOnlyWiped:
		r.d.WipeState, r.d.WhenChanged = exmgmt.WipeAccountOnlyDone, g.s.now()
	}
}

// evaluateLocked sets AccessState and AccessStateReason in Exchange's
// order: the mailbox's blocked then allowed device ids, a rule on the
// model, a rule on the type, the organisation's default.
func (g *Management) evaluateLocked(d *exmgmt.Device) {
	if mb := g.mailboxes[strings.ToLower(d.User)]; mb != nil {
		if slices.Contains(mb.m.BlockedDeviceIDs, d.DeviceID) {
			d.AccessState, d.AccessStateReason = exmgmt.StateBlocked, exmgmt.ReasonIndividual
			return
		}
		if slices.Contains(mb.m.AllowedDeviceIDs, d.DeviceID) {
			d.AccessState, d.AccessStateReason = exmgmt.StateAllowed, exmgmt.ReasonIndividual
			return
		}
	}
	for _, ch := range []string{exmgmt.ByModel, exmgmt.ByType} {
		v := d.Model
		if ch == exmgmt.ByType {
			v = d.DeviceType
		}
		for _, r := range g.rules {
			if r.Characteristic == ch && v != "" && strings.EqualFold(r.QueryString, v) {
				d.AccessState, d.AccessStateReason = stateOf(r.AccessLevel), exmgmt.ReasonDeviceRule
				return
			}
		}
	}
	d.AccessState, d.AccessStateReason = stateOf(g.org.DefaultAccessLevel), exmgmt.ReasonGlobal
}

func stateOf(l exmgmt.AccessLevel) exmgmt.AccessState {
	switch l {
	case exmgmt.LevelBlock:
		return exmgmt.StateBlocked
	case exmgmt.LevelQuarantine:
		return exmgmt.StateQuarantined
	}
	return exmgmt.StateAllowed
}

// setAccess applies a Set-CASMailbox change; every device id it names
// gets a new WhenChanged.
func (g *Management) setAccess(user string, ch exmgmt.AccessChange) (exmgmt.Mailbox, bool) {
	now := g.s.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	mb := g.mailboxes[strings.ToLower(user)]
	if mb == nil {
		return exmgmt.Mailbox{}, false
	}
	drop := func(list []string, ids []string) []string {
		return slices.DeleteFunc(list, func(x string) bool { return slices.Contains(ids, x) })
	}
	touched := slices.Concat(ch.Allow, ch.Block, ch.Forget)
	mb.m.AllowedDeviceIDs = drop(mb.m.AllowedDeviceIDs, touched)
	mb.m.BlockedDeviceIDs = drop(mb.m.BlockedDeviceIDs, touched)
	mb.m.AllowedDeviceIDs = append(mb.m.AllowedDeviceIDs, ch.Allow...)
	mb.m.BlockedDeviceIDs = append(mb.m.BlockedDeviceIDs, ch.Block...)
	if ch.Policy != nil {
		mb.m.ActiveSyncMailboxPolicy = *ch.Policy
	}
	mb.m.WhenChanged = now
	for _, id := range touched {
		if r := g.devices[devKey{strings.ToLower(user), id}]; r != nil {
			r.d.WhenChanged = now
		}
	}
	return cloneMailbox(mb.m), true
}

func cloneMailbox(m exmgmt.Mailbox) exmgmt.Mailbox {
	m.Groups = slices.Clone(m.Groups)
	m.AllowedDeviceIDs = slices.Clone(m.AllowedDeviceIDs)
	m.BlockedDeviceIDs = slices.Clone(m.BlockedDeviceIDs)
	return m
}

// recalculate sets every mailbox's HasActiveSyncDevicePartnership from the
// partnerships that exist now (INT-12).
func (g *Management) recalculate() exmgmt.Recalculated {
	g.mu.Lock()
	defer g.mu.Unlock()
	has := make(map[string]bool, len(g.devices))
	for k := range g.devices {
		has[k.user] = true
	}
	out := exmgmt.Recalculated{Mailboxes: len(g.mailboxes)}
	for name, mb := range g.mailboxes {
		if mb.m.HasActiveSyncDevicePartnership != has[name] {
			mb.m.HasActiveSyncDevicePartnership = has[name]
			out.Changed++
		}
	}
	return out
}

// setRules replaces the rules or the default level and marks the change
// (what makes a connector escalate to a full sync, INT-10).
func (g *Management) changeRules(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn()
	g.org.RulesChanged = g.s.now()
}
