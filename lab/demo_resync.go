package lab

import (
	"errors"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// resync is the demo's resync step (FLOW-13): the UEM's notifications are
// lost, the admin blocks alice's phone, the gateway's cache disagrees with
// the UEM until the periodic resync brings it to B; then the notifications
// heal and the phone is allowed again.
func (d *demo) resync() error {
	l, ctx, phone := d.l, d.ctx, d.phone
	d.begin("the UEM's notifications to the gateway are lost, and the admin blocks the phone in the UEM")
	if err := l.UEM.SetFaults(uem.Faults{DropNotifications: true}); err != nil {
		return err
	}
	// Heal whatever happens, so that the later steps see notifications.
	defer func() { _ = l.UEM.SetFaults(uem.Faults{}) }()
	if _, err := l.UEM.Act(d.assoc.ID, uem.Action{Action: uem.ActBlock, Note: "demo: lost phone, notification lost"}); err != nil {
		return err
	}
	// The wait is bounded by a few resync periods, whatever the lab's.
	within := max(30*time.Second, 3*l.cfg.ResyncInterval)
	adm := l.GatewayAdmin()
	if adm != nil {
		if st := d.cacheState(); st == "B" { // a resync fell between the block and this read
			d.say("   the UEM says B; a periodic resync (every %s) ran just after the block", l.cfg.ResyncInterval)
		} else {
			d.say("   the UEM says B, the gateway's cache still says %s: the two disagree until the periodic resync (every %s)", st, l.cfg.ResyncInterval)
		}
		// The phone stays quiet meanwhile: its own request could make the
		// gateway ask the UEM, and the demo shows the resync doing it.
		if err := d.waitWithin("the resync to bring the cache to B", within, func() bool { return d.cacheState() == "B" }); err != nil {
			return err
		}
		d.say("   the periodic resync brought the gateway's cache to B")
	}
	if err := d.waitWithin("the block", within, func() bool { _, err := phone.Sync(ctx); return errors.Is(err, device.ErrBlocked) }); err != nil {
		return err
	}
	d.say("   the phone's next Sync got HTTP %d, Status %d (blocked)", phone.Last().HTTPStatus, phone.Last().Status)
	if err := l.UEM.SetFaults(uem.Faults{}); err != nil {
		return err
	}
	if _, err := l.UEM.Act(d.assoc.ID, uem.Action{Action: uem.ActAllow, Note: "demo: found"}); err != nil {
		return err
	}
	if err := d.waitFor("the allow", func() bool { _, err := phone.Sync(ctx); return err == nil }); err != nil {
		return err
	}
	d.say("   notifications heal and the admin allows it again: the gateway is told at once and the phone syncs")
	return nil
}

// cacheState is the gateway's cache state (A, B, P, W) of alice's phone,
// "?" when the admin API does not say.
func (d *demo) cacheState() string {
	adm := d.l.GatewayAdmin()
	if adm == nil {
		return "?"
	}
	entries, err := adm.ByDevice(d.ctx, d.phone.ID())
	if err != nil {
		return "?"
	}
	for _, e := range entries {
		if e.DeviceID == d.phone.ID() {
			return e.State
		}
	}
	return "?"
}
