package integrated

import (
	"context"
	"fmt"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// differential syncs what changed in Exchange since the last successful
// sync (INT-07): mailboxes (lists, groups) and partnerships. It fails on
// clock skew (INT-08) and asks for a full sync when Exchange's access
// rules or default level changed (INT-10). A device whose only change is
// its last sync time is not listed (INT-15).
func (c *Connector) differential(ctx context.Context) error {
	c.mu.Lock()
	since, rulesSeen, settings := c.baseline, c.rulesSeen, c.settings
	c.mu.Unlock()
	ex := c.exch()
	var org exmgmt.Organization
	if err := c.organization(ctx, ex, &org); err != nil {
		return fmt.Errorf("differential sync: %w", err)
	}
	if org.RulesChanged.After(rulesSeen) {
		return &escalation{why: "Exchange's device access rules or default access level changed"}
	}
	groups := groupsOf(&settings)
	mailboxes, start, err := c.changedMailboxes(ctx, ex, since)
	if err != nil {
		return fmt.Errorf("differential sync: %w", err)
	}
	devices, err := c.changedDevices(ctx, ex, since)
	if err != nil {
		return fmt.Errorf("differential sync: %w", err)
	}
	c.mu.Lock()
	for _, m := range mailboxes {
		k := keyOf(m.Name, "").user
		if inScope(&m, groups) {
			c.mailboxes[k] = m
		} else {
			delete(c.mailboxes, k)
		}
	}
	mbs, devs, decided := map[string]exmgmt.Mailbox{}, map[devKey]exmgmt.Device{}, map[devKey]decision{}
	for _, d := range devices {
		k := keyOf(d.User, d.DeviceID)
		m, ok := c.mailboxes[k.user]
		if !ok {
			continue
		}
		mbs[k.user], devs[k] = m, d
		n, noted := c.notes[k]
		kn := c.known[k]
		switch { // a notification's decision, else the one known; new partnerships are reported
		case noted && (kn == nil || n.at.After(kn.dec.at)):
			decided[k] = n
		case kn != nil && kn.dec.state != "":
			decided[k] = kn.dec
		}
	}
	c.mu.Unlock()
	if err := c.decideAndPush(ctx, mbs, devs, decided); err != nil {
		return fmt.Errorf("differential sync: %w", err)
	}
	c.mu.Lock()
	for k, d := range devs {
		c.known[k] = &known{dev: d, dec: decided[k]}
	}
	for u, m := range mbs {
		c.mailboxes[u] = m
	}
	c.baseline = start
	c.st.Mailboxes, c.st.Devices = len(c.mailboxes), len(c.known)
	c.mu.Unlock()
	return nil
}
