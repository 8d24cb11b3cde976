package integrated

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// checkSkew refuses a differential when Exchange's clock is off by more
// than ClockSkew (INT-08): changes "since" a time on one clock would be
// missed, or counted twice, on the other.
func (c *Connector) checkSkew(server time.Time) error {
	d := server.Sub(c.cfg.Now())
	if d > c.cfg.ClockSkew || -d > c.cfg.ClockSkew {
		return fmt.Errorf("clock skew: Exchange's clock is %s off ours (tolerance %s); fix the clocks, a full sync runs meanwhile", d.Round(time.Second), c.cfg.ClockSkew)
	}
	return nil
}

// changedMailboxes lists the mailboxes changed after since and returns
// Exchange's time of the first page (the next baseline).
func (c *Connector) changedMailboxes(ctx context.Context, ex *exchange, since time.Time) ([]exmgmt.Mailbox, time.Time, error) {
	p := newProgress()
	var out []exmgmt.Mailbox
	var start time.Time
	for i := 0; ; i++ {
		var page *exmgmt.MailboxPage
		err := ex.call(ctx, func(cl *exmgmt.Client) error {
			cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
			defer cancel()
			var err error
			page, err = cl.Mailboxes(cctx, exmgmt.ListOptions{Cursor: p.cursor, Limit: c.cfg.BatchSize, Since: since})
			return err
		})
		if err == nil {
			err = p.checkMailboxes(page, c.cfg.BatchSize)
		}
		if err == nil && i == 0 {
			start, err = page.ServerTime, c.checkSkew(page.ServerTime)
		}
		if err != nil {
			return nil, start, fmt.Errorf("changed mailboxes, batch %d at cursor %q: %w", i+1, p.cursor, err)
		}
		for _, m := range page.Items {
			p.seenMb[keyOf(m.Name, "").user] = true
		}
		out = append(out, page.Items...)
		if p.advance(page.NextCursor, phaseDevices); p.phase != phaseMailboxes {
			return out, start, nil
		}
	}
}

// changedDevices lists the partnerships changed after since.
func (c *Connector) changedDevices(ctx context.Context, ex *exchange, since time.Time) ([]exmgmt.Device, error) {
	p := newProgress()
	p.phase = phaseDevices
	var out []exmgmt.Device
	for i := 0; ; i++ {
		var page *exmgmt.DevicePage
		err := ex.call(ctx, func(cl *exmgmt.Client) error {
			cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
			defer cancel()
			var err error
			page, err = cl.Devices(cctx, exmgmt.ListOptions{Cursor: p.cursor, Limit: c.cfg.BatchSize, Since: since})
			return err
		})
		if err == nil {
			if err = checkDevices(page, c.cfg.BatchSize, p.seenDev); err == nil {
				err = p.checkCursor(page.NextCursor)
			}
		}
		if err == nil {
			err = c.checkSkew(page.ServerTime)
		}
		if err != nil {
			return nil, fmt.Errorf("changed devices, batch %d at cursor %q: %w", i+1, p.cursor, err)
		}
		for _, d := range page.Items {
			p.seenDev[keyOf(d.User, d.DeviceID)] = true
		}
		out = append(out, page.Items...)
		if p.advance(page.NextCursor, phaseDecide); p.phase != phaseDevices {
			return out, nil
		}
	}
}
