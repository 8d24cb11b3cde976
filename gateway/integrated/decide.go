package integrated

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// uemDecisions loads the UEM's decision on every association it has.
func (c *Connector) uemDecisions(ctx context.Context) (map[devKey]decision, error) {
	out := map[devKey]decision{}
	now := c.cfg.Now()
	err := c.cfg.UEM.EachDevicePage(ctx, uemapi.FilterAll, 1000, func(p *uemapi.DevicePage) error {
		for _, e := range p.Items {
			d := decision{state: e.State, at: now}
			if pol := p.Policies[e.PolicyID]; e.Behavior == uemapi.PolicyAssigned && pol != nil {
				d.policy = pol.Name
			}
			out[keyOf(e.User, e.EASDeviceID)] = d
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading the UEM's device list: %w", err)
	}
	return out, nil
}

// decideAll gets a decision for every partnership in scope (from the
// UEM's list, or by reporting the device) and pushes to Exchange what
// differs (INT-14). Decisions already taken survive a failed attempt.
func (c *Connector) decideAll(ctx context.Context, p *fullProgress) error {
	listed, err := c.uemDecisions(ctx)
	if err != nil {
		return err
	}
	for k := range p.devices {
		if _, ok := p.decided[k]; ok {
			continue
		}
		if d, ok := listed[k]; ok {
			p.decided[k] = d
		}
	}
	c.mu.Lock()
	for k, n := range c.notes { // a notification newer than the list wins
		if _, ok := p.devices[k]; ok && n.at.After(p.decided[k].at) {
			p.decided[k] = n
		}
	}
	c.mu.Unlock()
	return c.decideAndPush(ctx, p.mailboxes, p.devices, p.decided)
}

// reportBatch is how many devices one batch report carries.
const reportBatch = 500

// decideAndPush reports the devices without a decision to the UEM in
// batches (it learns the associations), then brings every mailbox's
// device lists, policy and wipes in line with the decisions, in batches
// of Set-CASMailbox. It updates mailboxes and decided as it goes, so a
// failed attempt keeps what was done.
func (c *Connector) decideAndPush(ctx context.Context, mailboxes map[string]exmgmt.Mailbox, devices map[devKey]exmgmt.Device, decided map[devKey]decision) error {
	var todo []devKey
	for k := range devices {
		if _, ok := decided[k]; !ok {
			todo = append(todo, k)
		}
	}
	var mu sync.Mutex
	err := c.parallel(ctx, (len(todo)+reportBatch-1)/reportBatch, func(i int) error {
		part := todo[i*reportBatch : min((i+1)*reportBatch, len(todo))]
		reps := make([]uemapi.DeviceReport, len(part))
		mu.Lock()
		for j, k := range part {
			reps[j] = reportOf(mailboxes[k.user], devices[k])
		}
		mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		decs, err := c.cfg.UEM.ReportDevices(cctx, reps)
		if err != nil {
			return fmt.Errorf("reporting %d devices to the UEM: %w", len(part), err)
		}
		mu.Lock()
		for j, k := range part {
			decided[k] = decisionOf(&decs[j], c.cfg.Now())
		}
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	byUser := map[string][]devKey{}
	for k := range devices {
		byUser[k.user] = append(byUser[k.user], k)
	}
	var items []exmgmt.AccessItem
	var wipes []exmgmt.Device
	for u, keys := range byUser {
		devs, decs := make([]exmgmt.Device, len(keys)), make([]decision, len(keys))
		for i, k := range keys {
			devs[i], decs[i] = devices[k], decided[k]
		}
		ch, wipe := changeFor(mailboxes[u], devs, decs)
		wipes = append(wipes, wipe...)
		if !ch.empty() {
			items = append(items, exmgmt.AccessItem{User: mailboxes[u].Name, Change: ch.AccessChange})
		}
	}
	if err := c.parallel(ctx, len(wipes), func(i int) error { return c.wipe(ctx, wipes[i]) }); err != nil {
		return err
	}
	if err := c.ackWipes(ctx, devices, decided); err != nil {
		return err
	}
	return c.parallel(ctx, (len(items)+reportBatch-1)/reportBatch, func(i int) error {
		part := items[i*reportBatch : min((i+1)*reportBatch, len(items))]
		var out []exmgmt.Mailbox
		err := c.exch().call(ctx, func(cl *exmgmt.Client) error {
			cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
			defer cancel()
			var err error
			out, err = cl.SetAccessBatch(cctx, part)
			return err
		})
		if err != nil {
			return fmt.Errorf("Set-CASMailbox for %d mailboxes: %w", len(part), err)
		}
		mu.Lock()
		for _, m := range out {
			mailboxes[keyOf(m.Name, "").user] = m
		}
		mu.Unlock()
		for _, it := range part {
			c.pushed.Add(int64(len(it.Change.Allow) + len(it.Change.Block)))
		}
		return nil
	})
}

// ackWipes tells the UEM about wipes Exchange delivered (the device
// acknowledged it there), once each, as a gateway does after delivering
// one (ACT-07).
func (c *Connector) ackWipes(ctx context.Context, devices map[devKey]exmgmt.Device, decided map[devKey]decision) error {
	var done []devKey
	c.mu.Lock()
	for k, d := range devices {
		if decided[k].state == uemapi.StateWiped && (d.WipeState == exmgmt.WipeDone || d.WipeState == exmgmt.WipeAccountOnlyDone) && !c.acked[k] {
			done = append(done, k)
		}
	}
	c.mu.Unlock()
	return c.parallel(ctx, len(done), func(i int) error {
		d := devices[done[i]]
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		if err := c.cfg.UEM.AckWipe(cctx, uemapi.WipeAck{EASDeviceID: d.DeviceID, User: d.User, Time: d.WhenChanged}); err != nil {
			return fmt.Errorf("acknowledging the wipe of %s of %s to the UEM: %w", d.DeviceID, d.User, err)
		}
		c.mu.Lock()
		c.acked[done[i]] = true
		c.mu.Unlock()
		return nil
	})
}

func reportOf(m exmgmt.Mailbox, d exmgmt.Device) uemapi.DeviceReport {
	return uemapi.DeviceReport{EASDeviceID: d.DeviceID, User: d.User, Email: m.Email,
		DeviceType: d.DeviceType, Model: d.Model, UserAgent: d.UserAgent, AccessTime: d.LastSync}
}

func decisionOf(dec *uemapi.Decision, now time.Time) decision {
	out := decision{state: dec.State, at: now}
	if dec.Behavior == uemapi.PolicyAssigned && dec.Policy != nil {
		out.policy = dec.Policy.Name
	}
	return out
}

// change is a mailbox's change to push.
type change struct{ exmgmt.AccessChange }

func (ch *change) empty() bool { return len(ch.Allow) == 0 && len(ch.Block) == 0 && ch.Policy == nil }

// changeFor compares a mailbox's lists and policy with the decisions on
// its devices: what Set-CASMailbox must change, and which devices to wipe.
func changeFor(m exmgmt.Mailbox, devs []exmgmt.Device, decs []decision) (change, []exmgmt.Device) {
	var ch change
	var wipes []exmgmt.Device
	for i, d := range devs {
		switch decs[i].state {
		case uemapi.StateAllowed:
			if !slices.Contains(m.AllowedDeviceIDs, d.DeviceID) || slices.Contains(m.BlockedDeviceIDs, d.DeviceID) {
				ch.Allow = append(ch.Allow, d.DeviceID)
			}
		case uemapi.StateBlocked:
			if !slices.Contains(m.BlockedDeviceIDs, d.DeviceID) {
				ch.Block = append(ch.Block, d.DeviceID)
			}
		case uemapi.StateWiped:
			if d.WipeState == exmgmt.WipeNone {
				wipes = append(wipes, d)
			}
		}
		if p := decs[i].policy; p != "" && p != m.ActiveSyncMailboxPolicy && ch.Policy == nil {
			ch.Policy = &p // one policy per mailbox; with several, the first device's (MMB-04)
		}
	}
	return ch, wipes
}

// push brings one mailbox's device lists, policy and wipes in line with
// the UEM's decisions on its devices and returns the mailbox as Exchange
// now has it.
func (c *Connector) push(ctx context.Context, m exmgmt.Mailbox, devs []exmgmt.Device, decs []decision) (exmgmt.Mailbox, error) {
	ch, wipes := changeFor(m, devs, decs)
	for _, d := range wipes {
		if err := c.wipe(ctx, d); err != nil {
			return m, err
		}
	}
	if ch.empty() {
		return m, nil
	}
	var out *exmgmt.Mailbox
	err := c.exch().call(ctx, func(cl *exmgmt.Client) error {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		var err error
		out, err = cl.SetAccess(cctx, m.Name, ch.AccessChange)
		return err
	})
	if err != nil {
		return m, fmt.Errorf("Set-CASMailbox %s: %w", m.Name, err)
	}
	c.pushed.Add(int64(len(ch.Allow) + len(ch.Block)))
	return *out, nil
}

func (c *Connector) wipe(ctx context.Context, d exmgmt.Device) error {
	err := c.exch().call(ctx, func(cl *exmgmt.Client) error {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		_, err := cl.Wipe(cctx, d.User, d.DeviceID, false)
		return err
	})
	if err != nil {
		return fmt.Errorf("Clear-MobileDevice %s of %s: %w", d.DeviceID, d.User, err)
	}
	c.pushed.Add(1)
	return nil
}

// parallel runs fn(0..n-1) on Workers goroutines and returns the first
// error; after one, no new index starts.
func (c *Connector) parallel(ctx context.Context, n int, fn func(i int) error) error {
	if n == 0 {
		return nil
	}
	next := make(chan int)
	var (
		wg   sync.WaitGroup
		once sync.Once
		ferr error
	)
	stop := make(chan struct{})
	for range min(c.cfg.Workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { ferr = err; close(stop) })
				}
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-stop:
			break feed
		case <-ctx.Done():
			once.Do(func() { ferr = ctx.Err(); close(stop) })
			break feed
		}
	}
	close(next)
	wg.Wait()
	return ferr
}

func (c *Connector) exch() *exchange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ex
}
