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
	type item struct {
		m exmgmt.Mailbox
		d exmgmt.Device
		k devKey
	}
	var todo []item
	for _, d := range devices {
		k := keyOf(d.User, d.DeviceID)
		if m, ok := c.mailboxes[k.user]; ok {
			todo = append(todo, item{m, d, k})
		}
	}
	c.mu.Unlock()
	err = c.parallel(ctx, len(todo), func(i int) error {
		it := todo[i]
		dec, err := c.decisionFor(ctx, it.k, it.m, it.d)
		if err != nil {
			return err
		}
		nm, err := c.push(ctx, it.m, []exmgmt.Device{it.d}, []decision{dec})
		if err != nil {
			return err
		}
		c.mu.Lock()
		c.known[it.k] = &known{dev: it.d, dec: dec}
		if m, ok := c.mailboxes[it.k.user]; ok && nm.Name != "" {
			m.AllowedDeviceIDs, m.BlockedDeviceIDs, m.ActiveSyncMailboxPolicy = nm.AllowedDeviceIDs, nm.BlockedDeviceIDs, nm.ActiveSyncMailboxPolicy
			c.mailboxes[it.k.user] = m
		}
		c.mu.Unlock()
		return nil
	})
	if err != nil {
		return fmt.Errorf("differential sync: %w", err)
	}
	c.mu.Lock()
	c.baseline = start
	c.st.Mailboxes, c.st.Devices = len(c.mailboxes), len(c.known)
	c.mu.Unlock()
	return nil
}

// decisionFor is the UEM's decision on a changed partnership: a
// notification's, else the one known, else the UEM's answer to a report
// (a new partnership: the association is learnt now).
func (c *Connector) decisionFor(ctx context.Context, k devKey, m exmgmt.Mailbox, d exmgmt.Device) (decision, error) {
	c.mu.Lock()
	n, noted := c.notes[k]
	kn := c.known[k]
	c.mu.Unlock()
	switch {
	case noted && (kn == nil || n.at.After(kn.dec.at)):
		return n, nil
	case kn != nil && kn.dec.state != "":
		return kn.dec, nil
	}
	return c.report(ctx, m, d)
}
