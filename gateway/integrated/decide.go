package integrated

import (
	"context"
	"fmt"
	"slices"
	"sync"

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

// report tells the UEM about a partnership found in Exchange: the UEM
// learns the association and answers its decision.
func (c *Connector) report(ctx context.Context, m exmgmt.Mailbox, d exmgmt.Device) (decision, error) {
	cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
	defer cancel()
	dec, err := c.cfg.UEM.ReportDevice(cctx, uemapi.DeviceReport{EASDeviceID: d.DeviceID, User: d.User, Email: m.Email,
		DeviceType: d.DeviceType, Model: d.Model, UserAgent: d.UserAgent, AccessTime: d.LastSync})
	if err != nil {
		return decision{}, fmt.Errorf("reporting device %s of %s to the UEM: %w", d.DeviceID, d.User, err)
	}
	out := decision{state: dec.State, at: c.cfg.Now()}
	if dec.Behavior == uemapi.PolicyAssigned && dec.Policy != nil {
		out.policy = dec.Policy.Name
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
	var todo []devKey
	for k := range p.devices {
		if _, ok := p.decided[k]; ok {
			continue
		}
		if d, ok := listed[k]; ok {
			p.decided[k] = d
			continue
		}
		todo = append(todo, k)
	}
	var mu sync.Mutex
	err = c.parallel(ctx, len(todo), func(i int) error {
		k := todo[i]
		d, err := c.report(ctx, p.mailboxes[k.user], p.devices[k])
		if err != nil {
			return err
		}
		mu.Lock()
		p.decided[k] = d
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	c.mu.Lock()
	for k, n := range c.notes { // a notification newer than the list wins
		if _, ok := p.devices[k]; ok && n.at.After(p.decided[k].at) {
			p.decided[k] = n
		}
	}
	c.mu.Unlock()
	byUser := map[string][]devKey{}
	for k := range p.devices {
		byUser[k.user] = append(byUser[k.user], k)
	}
	users := make([]string, 0, len(byUser))
	for u := range byUser {
		users = append(users, u)
	}
	return c.parallel(ctx, len(users), func(i int) error {
		u := users[i]
		mu.Lock()
		m := p.mailboxes[u]
		devs := make([]exmgmt.Device, 0, len(byUser[u]))
		decs := make([]decision, 0, len(byUser[u]))
		for _, k := range byUser[u] {
			devs, decs = append(devs, p.devices[k]), append(decs, p.decided[k])
		}
		mu.Unlock()
		nm, err := c.push(ctx, m, devs, decs)
		if err != nil {
			return err
		}
		mu.Lock()
		p.mailboxes[u] = nm
		mu.Unlock()
		return nil
	})
}

// push brings one mailbox's device lists, policy and wipes in line with
// the UEM's decisions on its devices and returns the mailbox as Exchange
// now has it.
func (c *Connector) push(ctx context.Context, m exmgmt.Mailbox, devs []exmgmt.Device, decs []decision) (exmgmt.Mailbox, error) {
	var ch exmgmt.AccessChange
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
				if err := c.wipe(ctx, d); err != nil {
					return m, err
				}
			}
		}
		if p := decs[i].policy; p != "" && p != m.ActiveSyncMailboxPolicy && ch.Policy == nil {
			ch.Policy = &p // one policy per mailbox; with several, the first device's (MMB-04)
		}
	}
	if len(ch.Allow) == 0 && len(ch.Block) == 0 && ch.Policy == nil {
		return m, nil
	}
	var out *exmgmt.Mailbox
	err := c.exch().call(ctx, func(cl *exmgmt.Client) error {
		cctx, cancel := context.WithTimeout(ctx, c.cfg.CallTimeout)
		defer cancel()
		var err error
		out, err = cl.SetAccess(cctx, m.Name, ch)
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
