package integrated

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// Phases of a full sync.
const (
	phaseMailboxes = "mailboxes"
	phaseDevices   = "devices"
	phaseDecide    = "decide"
)

// fullProgress is a full sync in progress; kept when it fails, so the
// next attempt resumes at the failed batch (INT-05). Batches are applied
// whole or not at all: a failed page leaves nothing behind.
type fullProgress struct {
	start     time.Time // Exchange's clock on the first page: the next differential's baseline
	org       exmgmt.Organization
	phase     string
	cursor    string
	batch     int
	cursors   map[string]bool // visited in this phase: a server that loops is an error
	seenMb    map[string]bool
	mailboxes map[string]exmgmt.Mailbox // in scope
	seenDev   map[devKey]bool
	devices   map[devKey]exmgmt.Device // in scope
	decided   map[devKey]decision      // the decide phase's results so far
}

func newProgress() *fullProgress {
	return &fullProgress{phase: phaseMailboxes, cursors: map[string]bool{}, seenMb: map[string]bool{},
		mailboxes: map[string]exmgmt.Mailbox{}, seenDev: map[devKey]bool{}, devices: map[devKey]exmgmt.Device{},
		decided: map[devKey]decision{}}
}

// advance moves past a good page.
func (p *fullProgress) advance(next string, then string) {
	p.batch++
	p.cursors[p.cursor] = true
	p.cursor = next
	if next == "" {
		p.phase, p.cursors = then, map[string]bool{}
	}
}

// checkCursor refuses a next cursor that does not move on.
func (p *fullProgress) checkCursor(next string) error {
	if next != "" && (next == p.cursor || p.cursors[next]) {
		return fmt.Errorf("the next cursor %q was already visited: Exchange is paging in a loop", next)
	}
	return nil
}

// full runs or resumes the full batched sync (INT-05).
func (c *Connector) full(ctx context.Context) error {
	c.mu.Lock()
	p, settings, ex := c.pending, c.settings, c.ex
	c.pending = nil
	c.mu.Unlock()
	if ex == nil {
		return errors.New("full sync: not started (no configuration from the UEM)")
	}
	if p == nil {
		p = newProgress()
		if settings.Hosted != nil && !settings.SkipRecalculate { // INT-12
			if err := ex.call(ctx, func(cl *exmgmt.Client) error {
				cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
				defer cancel()
				_, err := cl.Recalculate(cctx)
				return err
			}); err != nil {
				return fmt.Errorf("full sync: recalculating HasActiveSyncDevicePartnership: %w", err)
			}
		}
		if err := c.organization(ctx, ex, &p.org); err != nil {
			return fmt.Errorf("full sync: %w", err)
		}
	}
	err := c.runFull(ctx, p, groupsOf(&settings), settings.Hosted != nil)
	if err != nil {
		c.mu.Lock()
		c.pending = p
		c.progressLocked(p)
		c.mu.Unlock()
		return fmt.Errorf("full sync: %w (resumes at %s batch %d)", err, p.phase, p.batch+1)
	}
	c.commitFull(p)
	return nil
}

func (c *Connector) organization(ctx context.Context, ex *exchange, out *exmgmt.Organization) error {
	return ex.call(ctx, func(cl *exmgmt.Client) error {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		o, err := cl.Organization(cctx)
		if err != nil {
			return fmt.Errorf("reading the organisation settings: %w", err)
		}
		*out = *o
		return nil
	})
}

func (c *Connector) runFull(ctx context.Context, p *fullProgress, groups []string, hosted bool) error {
	for p.phase == phaseMailboxes {
		if err := c.mailboxBatch(ctx, p, groups, hosted); err != nil {
			return err
		}
	}
	for p.phase == phaseDevices {
		if err := c.deviceBatch(ctx, p); err != nil {
			return err
		}
	}
	return c.decideAll(ctx, p)
}

func (c *Connector) progressLocked(p *fullProgress) {
	c.st.Phase, c.st.Batch, c.st.Cursor = p.phase, p.batch, p.cursor
}

func (c *Connector) mailboxBatch(ctx context.Context, p *fullProgress, groups []string, hosted bool) error {
	var page *exmgmt.MailboxPage
	err := c.exch().call(ctx, func(cl *exmgmt.Client) error {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		var err error
		page, err = cl.Mailboxes(cctx, exmgmt.ListOptions{Cursor: p.cursor, Limit: c.cfg.BatchSize, WithPartnership: hosted})
		return err
	})
	if err == nil {
		err = p.checkMailboxes(page, c.cfg.BatchSize)
	}
	if err != nil {
		return fmt.Errorf("mailbox batch %d at cursor %q: %w", p.batch+1, p.cursor, err)
	}
	if p.start.IsZero() {
		p.start = page.ServerTime
	}
	for i := range page.Items {
		m := &page.Items[i]
		p.seenMb[keyOf(m.Name, "").user] = true
		if inScope(m, groups) {
			p.mailboxes[keyOf(m.Name, "").user] = *m
		}
	}
	p.advance(page.NextCursor, phaseDevices)
	c.mu.Lock()
	c.progressLocked(p)
	c.mu.Unlock()
	return nil
}

// checkMailboxes refuses a page that would drop or duplicate a mailbox:
// no server time, too many items, an item without a name, a name seen
// before in this sync (a duplicate page), a cursor that loops.
func (p *fullProgress) checkMailboxes(page *exmgmt.MailboxPage, limit int) error {
	if page.ServerTime.IsZero() {
		return errors.New("the page has no server_time: not an answer of the management API")
	}
	if len(page.Items) > limit {
		return fmt.Errorf("the page holds %d mailboxes, more than the %d asked for", len(page.Items), limit)
	}
	in := make(map[string]bool, len(page.Items))
	for i, m := range page.Items {
		k := keyOf(m.Name, "").user
		switch {
		case m.Name == "":
			return fmt.Errorf("mailbox %d of the page has no name", i)
		case p.seenMb[k] || in[k]:
			return fmt.Errorf("mailbox %q was already listed in this sync: duplicate page, batch retried", m.Name)
		}
		in[k] = true
	}
	return p.checkCursor(page.NextCursor)
}

func (c *Connector) deviceBatch(ctx context.Context, p *fullProgress) error {
	var page *exmgmt.DevicePage
	err := c.exch().call(ctx, func(cl *exmgmt.Client) error {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		var err error
		page, err = cl.Devices(cctx, exmgmt.ListOptions{Cursor: p.cursor, Limit: c.cfg.BatchSize})
		return err
	})
	if err == nil {
		err = checkDevices(page, c.cfg.BatchSize, p.seenDev)
		if err == nil {
			err = p.checkCursor(page.NextCursor)
		}
	}
	if err != nil {
		return fmt.Errorf("device batch %d at cursor %q: %w", p.batch+1, p.cursor, err)
	}
	for _, d := range page.Items {
		k := keyOf(d.User, d.DeviceID)
		p.seenDev[k] = true
		if _, ok := p.mailboxes[k.user]; ok {
			p.devices[k] = d
		}
	}
	p.advance(page.NextCursor, phaseDecide)
	c.mu.Lock()
	c.progressLocked(p)
	c.mu.Unlock()
	return nil
}

// checkDevices refuses a device page that would drop or duplicate one.
func checkDevices(page *exmgmt.DevicePage, limit int, seen map[devKey]bool) error {
	if page.ServerTime.IsZero() {
		return errors.New("the page has no server_time: not an answer of the management API")
	}
	if len(page.Items) > limit {
		return fmt.Errorf("the page holds %d devices, more than the %d asked for", len(page.Items), limit)
	}
	in := make(map[devKey]bool, len(page.Items))
	for i, d := range page.Items {
		k := keyOf(d.User, d.DeviceID)
		switch {
		case d.User == "" || d.DeviceID == "":
			return fmt.Errorf("device %d of the page has no user or device id", i)
		case seen[k] || in[k]:
			return fmt.Errorf("device %s of %s was already listed in this sync: duplicate page, batch retried", d.DeviceID, d.User)
		}
		in[k] = true
	}
	return nil
}

// commitFull replaces what the connector knows with the full sync's view.
func (c *Connector) commitFull(p *fullProgress) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mailboxes = p.mailboxes
	c.known = make(map[devKey]*known, len(p.devices))
	for k, d := range p.devices {
		c.known[k] = &known{dev: d, dec: p.decided[k]}
	}
	c.baseline, c.rulesSeen = p.start, p.org.RulesChanged
	c.st.Mailboxes, c.st.Devices = len(c.mailboxes), len(c.known)
	c.st.Phase, c.st.Batch, c.st.Cursor = "", 0, ""
}
