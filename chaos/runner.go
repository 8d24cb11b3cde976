package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ScheduleResult is what one schedule did and found.
type ScheduleResult struct {
	Seed     int64     `json:"seed"`
	Steps    int       `json:"steps"`
	Faults   int       `json:"faults"`
	Skipped  int       `json:"skipped"` // steps this mode cannot do
	Findings []Finding `json:"findings,omitempty"`
	Error    string    `json:"error,omitempty"` // the world failed (not a finding)
	Millis   int64     `json:"millis"`
}

// Failed reports whether the schedule found something.
func (r ScheduleResult) Failed() bool { return len(r.Findings) > 0 }

// runner plays one schedule in one world.
type runner struct {
	w    *world
	o    *oracle
	gwUp bool
	// waitStart: the gateway did not start on a read-only data directory
	// and is down until it is writable again (diskstep.go).
	waitStart bool
}

// RunSchedule plays s against a new world and returns its findings.
func RunSchedule(ctx context.Context, cfg WorldConfig, s *Schedule) ScheduleResult {
	cfg.setDefaults()
	start := time.Now()
	res := ScheduleResult{Seed: s.Seed, Steps: len(s.Steps)}
	w, err := startWorld(ctx, cfg, s)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer w.close()
	r := &runner{w: w, o: newOracle(s.Seed, s.Devices, cfg.staleness(), time.Now()), gwUp: true}
	r.o.diskW, r.o.writeFailed = cfg.CheckInterval+cfg.Grace, w.writeFailedLogged
	for i, st := range s.Steps {
		if ctx.Err() != nil {
			res.Error = ctx.Err().Error()
			break
		}
		if isFault(st) {
			res.Faults++
		}
		if err := r.step(ctx, i, st); err != nil {
			if errors.Is(err, errSkip) {
				res.Skipped++
				continue
			}
			res.Error = fmt.Sprintf("step %d (%s): %v", i, st, err)
			break
		}
	}
	res.Findings = r.o.findings
	res.Millis = time.Since(start).Milliseconds()
	return res
}

func (r *runner) step(ctx context.Context, i int, st Step) error {
	switch kindOf(st.Op) {
	case kindDevice:
		return r.deviceStep(ctx, i, st)
	case kindAdmin:
		return r.adminStep(i, st)
	case kindFault:
		err := r.faultStep(ctx, st)
		r.updateHealth()
		return err
	case kindGateway:
		return r.gatewayStep(ctx, st)
	case kindWait:
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(st.Arg) * time.Millisecond):
		}
		r.observeAll(time.Time{})
		return nil
	}
	return fmt.Errorf("unknown op %q", st.Op)
}

// updateHealth records whether the gateway can learn from the UEM now.
func (r *runner) updateHealth() {
	f := r.w.uemFaults()
	r.o.health.set(time.Now(), r.gwUp && !uemUnreachable(f) && f.AuthStatus == 0)
}

func stateOf(a uem.Association, ok bool) string {
	if !ok {
		return stAbsent
	}
	switch a.State {
	case uemapi.StateAllowed:
		return stAllowed
	case uemapi.StateWiped:
		return stWiped
	}
	return stBlocked
}

// observeAll records every device's UEM state.
func (r *runner) observeAll(time.Time) { r.observe(time.Time{}, nil) }

// observe records every device's UEM state; known, when set, is when the
// gateway acknowledged the notifications of the step, which were about
// the devices knows accepts (and only those: a configuration or
// preference notification tells nothing about a device).
func (r *runner) observe(known time.Time, knows func(i int) bool) {
	now := time.Now()
	for i := range r.w.devices {
		a, ok := r.w.association(i)
		r.o.record(i, stateOf(a, ok), now, time.Time{})
		r.o.recordPolicy(i, r.w.policyMark(a, ok), now)
		if !known.IsZero() && knows != nil && knows(i) {
			r.o.knownAt(i, known)
		}
	}
}

func (r *runner) deviceStep(ctx context.Context, i int, st Step) error {
	d := r.w.devices[st.Device]
	before := r.w.exchangeSeen()[r.w.exchangeKey(st.Device)]
	_, existed := r.w.association(st.Device)
	f0 := r.w.uemFaults()
	ob := observation{step: i, op: st.Op, device: d.ID(), start: time.Now()}
	provs := d.Provisionings()
	timeout := r.w.cfg.RequestTimeout
	if st.Op == OpPing {
		timeout = 400 * time.Millisecond // it reached Exchange or not by then; the hanging part proves nothing
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	err := r.deviceOp(cctx, st)
	cancel()
	f1 := r.w.uemFaults()
	ob.unreachable = uemUnreachable(f0) || uemUnreachable(f1) || !r.gwUp
	ob.refusing = uemRefusing(f0) || uemRefusing(f1)
	after := r.w.exchangeSeen()[r.w.exchangeKey(st.Device)]
	ob.relayed = after.After(before)
	ob.blocked = errors.Is(err, device.ErrBlocked)
	if errors.Is(err, device.ErrWiped) {
		ob.wiped = true
		last := d.Last()
		ob.acked = last.Cmd == eas.CmdProvision && last.HTTPStatus == 200
	}
	a, ok := r.w.association(st.Device)
	ob.after, ob.created = stateOf(a, ok), ok && !existed
	if d.Provisionings() > provs {
		if p := d.Policy(); p != nil && p.MinDevicePasswordLength != nil {
			ob.policy = "len" + *p.MinDevicePasswordLength
		} else {
			ob.policy = "none"
		}
	}
	r.o.checkDevice(st.Device, ob)
	now := time.Now()
	if ob.created && !ob.unreachable {
		// The gateway asked and got this answer during the step.
		r.o.record(st.Device, ob.after, now, now)
	} else if ob.unreachable && r.o.devices[st.Device].last().State == stAbsent && !ok {
		// Fail-open may have let it in; the gateway reports it later.
		r.o.record(st.Device, stFailOpen, now, now)
	}
	r.observeAll(time.Time{})
	return nil
}

// deviceOp runs one device operation; errors are what the device saw.
func (r *runner) deviceOp(ctx context.Context, st Step) error {
	d := r.w.devices[st.Device]
	switch st.Op {
	case OpConnect:
		return d.Connect(ctx)
	case OpSync, OpFetch:
		if d.Inbox() == "" {
			if err := d.FolderSync(ctx); err != nil {
				return err
			}
		}
		if st.Op == OpFetch {
			for _, m := range d.Messages() {
				for _, a := range m.Attachments {
					_, _, err := d.FetchAttachment(ctx, a.FileReference)
					return err
				}
			}
		}
		_, err := d.Sync(ctx)
		return err
	case OpPing:
		_, _, err := d.Ping(ctx, 1)
		return err
	case OpProvision:
		return d.Provision(ctx)
	case OpSendMail:
		to := r.w.users[(st.Device+1)%len(r.w.users)].Email
		return d.SendMail(ctx, []string{to}, "chaos", "a chaos schedule's mail")
	}
	return fmt.Errorf("unknown device op %q", st.Op)
}

func (r *runner) adminStep(i int, st Step) error {
	u := r.w.lab.UEM
	f := r.w.uemFaults()
	before := len(u.Deliveries())
	var err error
	switch st.Op {
	case OpAllow, OpBlock, OpWipe, OpRemove, OpAssignPolicy:
		a, ok := r.w.association(st.Device)
		if !ok {
			return nil // nothing to act on
		}
		act := uem.Action{Action: st.Op, Note: fmt.Sprintf("chaos step %d", i)}
		if st.Op == OpAssignPolicy {
			act.Action = uem.ActRevertPolicy
			if st.Arg > 0 {
				act.Action, act.PolicyID = uem.ActAssignPolicy, r.w.policy[1+(st.Arg-1)%2]
			}
		}
		_, err = u.Act(a.ID, act)
	case OpChangePolicy:
		id := r.w.policy[1+(st.Arg+1)%2]
		var p uemapi.ActiveSyncPolicy
		if p, err = u.Policy(id); err == nil {
			p.MinPasswordLength += 2 // 7, 9, 11, 13 and 8, 10, 12, 14
			if p.MinPasswordLength > 14 {
				p.MinPasswordLength -= 8
			}
			if _, err = u.UpdatePolicy(id, p); err == nil {
				r.w.policyLen[id] = p.MinPasswordLength
			}
		}
	case OpAutoBlock:
		p := u.Preferences()
		p.AutoBlockUnregistered = st.On
		_, err = u.SetPreferences(p)
	case OpMailboxLimit:
		var p uemapi.ActiveSyncPolicy
		if p, err = u.Policy(uemapi.DefaultPolicyID); err == nil {
			p.MaxDevicesPerMailbox = st.Arg
			_, err = u.UpdatePolicy(uemapi.DefaultPolicyID, p)
		}
	case OpAttachments:
		var g uem.GatewayEntry
		if g, err = u.Gateway(r.w.lab.GatewayID()); err == nil {
			ac := &g.Config.AttachmentControl
			opts := []uemapi.AttachmentOption{uemapi.AttachRemove, uemapi.AttachRemove, uemapi.AttachEncrypt, uemapi.AttachDeliverAsIs}
			ac.Enabled = st.Arg > 0
			ac.IOSNative, ac.SecureApps, ac.OtherPlatforms = opts[st.Arg%4], opts[st.Arg%4], opts[st.Arg%4]
			_, err = u.SetGatewayConfig(r.w.lab.GatewayID(), g.Config)
		}
	}
	if err != nil {
		var ue *uemapi.Error
		if errors.As(err, &ue) {
			return nil // an action the UEM refuses (e.g. allow after wipe) changes nothing
		}
		return err
	}
	// With the notification path healthy, wait for the push: once the
	// gateway acknowledged it, it must know the change.
	var known time.Time
	if r.gwUp && !notifyBroken(f) {
		known = r.waitDelivered(before)
	}
	var knows func(int) bool
	switch st.Op {
	case OpAllow, OpBlock, OpWipe, OpRemove, OpAssignPolicy:
		// The notification is about the device (and the other users'
		// associations of its EAS id, which chaos devices do not share).
		knows = func(i int) bool { return i == st.Device }
	}
	r.observe(known, knows)
	return nil
}

// waitDelivered waits (at most 2 s) for the notifications after before
// to settle and returns now when they were all delivered, else zero.
func (r *runner) waitDelivered(before int) time.Time {
	u := r.w.lab.UEM
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		ds := u.Deliveries()
		if len(ds) > before {
			for _, d := range ds[before:] {
				if d.Status != uem.DeliveryDelivered {
					return time.Time{}
				}
			}
			return time.Now()
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Time{}
}

func (r *runner) faultStep(ctx context.Context, st Step) error {
	switch st.Op {
	case OpUEMDown:
		return r.w.setUEMFaults(func(f *uem.Faults) { f.Down = st.On })
	case OpUEMLatency:
		return r.w.setUEMFaults(func(f *uem.Faults) { f.LatencyMs = st.Arg })
	case OpUEMHang:
		return r.w.setUEMFaults(func(f *uem.Faults) { f.Hang = st.On })
	case OpUEMPartition:
		return r.w.setUEMFaults(func(f *uem.Faults) { f.PartitionGatewayToUEM = st.On })
	case OpUEMStatus:
		return r.w.setUEMFaults(func(f *uem.Faults) {
			f.AuthStatus, f.ErrorRate, f.ErrorStatus = 0, 0, 0
			switch {
			case st.Arg >= 500:
				f.ErrorRate, f.ErrorStatus = 1, st.Arg
			case st.Arg != 0:
				f.AuthStatus = st.Arg
			}
		})
	case OpNotifyDrop:
		return r.w.setUEMFaults(func(f *uem.Faults) { f.DropNotifications = st.On })
	case OpNotifyDelay:
		return r.w.setUEMFaults(func(f *uem.Faults) { f.PartitionUEMToGateway = st.On })
	case OpExchangeDown:
		return r.w.setExchangeFaults(func(f *exchange.Faults) { f.Down = st.On })
	case OpExchangeSlow:
		return r.w.setExchangeFaults(func(f *exchange.Faults) { f.LatencyMs = st.Arg })
	case OpDiskFull, OpDiskReadOnly:
		return r.diskStep(ctx, st)
	case OpClockJump:
		if r.w.clock == nil {
			return errSkip
		}
		r.w.clock.Jump(time.Duration(st.Arg) * time.Second)
		return nil
	case OpHeal:
		if r.w.clock != nil {
			r.w.clock.Jump(-r.w.clock.Offset())
		}
		if err := r.w.setUEMFaults(func(f *uem.Faults) { *f = uem.Faults{} }); err != nil {
			return err
		}
		if r.w.disk != nil {
			if err := r.diskHeal(ctx); err != nil {
				return err
			}
		}
		return r.w.setExchangeFaults(func(f *exchange.Faults) { *f = exchange.Faults{} })
	}
	return fmt.Errorf("unknown fault %q", st.Op)
}

func (r *runner) gatewayStep(ctx context.Context, st Step) error {
	l := r.w.lab
	if r.waitStart {
		return errSkip // down: it does not start on its read-only data directory
	}
	switch st.Op {
	case OpKill:
		if !l.CanKill() {
			return errSkip
		}
	case OpRestartPortTaken:
		if l.Mode() == lab.External {
			return errSkip
		}
	default:
		if !l.CanRestart() {
			return errSkip
		}
	}
	r.down()
	defer r.up()
	switch st.Op {
	case OpRestart:
		return l.RestartGateway(ctx)
	case OpRestartUEMDown:
		if err := r.w.setUEMFaults(func(f *uem.Faults) { f.Down = true }); err != nil {
			return err
		}
		r.updateHealth()
		return l.RestartGateway(ctx)
	case OpKill:
		if err := l.KillGateway(); err != nil {
			return err
		}
		return l.StartGateway(ctx)
	case OpRestartPortTaken:
		if err := l.StopGateway(ctx); err != nil {
			return err
		}
		ln, err := r.w.takePort()
		if err != nil {
			return err
		}
		if err := l.StartGateway(ctx); err == nil {
			ln.Close()
			return errors.New("the gateway started on a port in use")
		}
		ln.Close()
		return l.StartGateway(ctx)
	}
	return fmt.Errorf("unknown gateway op %q", st.Op)
}

func (r *runner) down() {
	r.gwUp = false
	r.o.restarts = append(r.o.restarts, time.Now())
	r.updateHealth()
}

func (r *runner) up() {
	if f := r.w.uemFaults(); !uemUnreachable(f) && f.AuthStatus == 0 {
		r.o.upStarts = append(r.o.upStarts, time.Now())
	}
	r.gwUp = true
	r.updateHealth()
	r.observeAll(time.Time{})
}
