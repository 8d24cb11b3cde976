package chaos

import (
	"fmt"
	"time"
)

// Finding kinds.
const (
	WrongAllow = "wrong_allow" // a blocked, wiped, refused or over-limit device reached Exchange
	WrongBlock = "wrong_block" // an allowed, known device refused outside the allowed staleness
	LostState  = "lost_state"  // a block, wipe or wipe acknowledgement forgotten across a restart
	DoubleWipe = "double_wipe" // a wipe delivered again after the device acknowledged it
	WrongWipe  = "wrong_wipe"  // a RemoteWipe for a device the UEM never wiped
	// StalePolicy: a device provisioned a policy other than the one the
	// UEM assigned it, outside the allowed staleness.
	StalePolicy = "stale_policy"
)

// markDefault is the policy mark of a device without an assigned policy
// (the server's or the UEM's default behaviour: not checked).
const markDefault = "default"

// Finding is one oracle violation; Seed and Step name where to replay it.
type Finding struct {
	Kind   string `json:"kind"`
	Seed   int64  `json:"seed"`
	Step   int    `json:"step"`
	Op     string `json:"op"`
	Device string `json:"device,omitempty"`
	Detail string `json:"detail"`
}

func (f Finding) String() string {
	return fmt.Sprintf("%s seed=%d step=%d (%s %s): %s", f.Kind, f.Seed, f.Step, f.Op, f.Device, f.Detail)
}

// Model states of one device: what the UEM decided, plus failopen, the
// gateway's own "let in unvalidated" while the UEM could not be asked.
const (
	stAbsent   = "absent"
	stAllowed  = "allowed"
	stBlocked  = "blocked"
	stWiped    = "wiped"
	stFailOpen = "failopen"
)

// fact is one state the UEM (or fail-open) gave a device, from At; the
// gateway must know it from Deadline on (zero: by the resync bound).
type fact struct {
	State    string
	At       time.Time
	Deadline time.Time
}

// deviceModel is the oracle's record of one device.
type deviceModel struct {
	facts     []fact
	policies  []fact    // State is the policy mark (world.policyMark)
	wipeEpoch int       // wipes the UEM ordered (a new one after Remove)
	ackEpoch  int       // the epoch whose wipe the device acknowledged to the gateway
	ackAt     time.Time // when
	lastSeen  time.Time // the end of its last step that reached Exchange
}

func (d *deviceModel) last() fact { return d.facts[len(d.facts)-1] }

// health is the timeline of "the gateway can learn from the UEM": the
// gateway runs and the UEM answers its calls.
type health struct {
	changes []healthChange
}

type healthChange struct {
	at time.Time
	ok bool
}

func (h *health) set(at time.Time, ok bool) {
	if n := len(h.changes); n > 0 && h.changes[n-1].ok == ok {
		return
	}
	h.changes = append(h.changes, healthChange{at, ok})
}

// learnBy is the earliest time by which a change made at t must be known
// through the resync: the end of the first stretch of W healthy time
// starting at or after t. ok false: no such stretch began yet.
func (h *health) learnBy(t time.Time, w time.Duration) (time.Time, bool) {
	for i, c := range h.changes {
		if !c.ok {
			continue
		}
		start := c.at
		if start.Before(t) {
			start = t
		}
		if i+1 < len(h.changes) {
			end := h.changes[i+1].at
			if !end.After(start) || end.Sub(start) < w {
				continue
			}
		}
		return start.Add(w), true
	}
	return time.Time{}, false
}

// oracle holds the model of every device and the world's history.
type oracle struct {
	seed    int64
	w       time.Duration // the resync staleness bound
	devices []*deviceModel
	health  health
	disk    health // the gateway can write its data directory
	diskW   time.Duration
	// writeFailed reports whether the gateway logged a failed write of a
	// device's state (nil: never).
	writeFailed func(id string) bool
	restarts    []time.Time // gateway restarts and kills
	// upStarts are the gateway starts with the UEM answering: the
	// gateway starts from the UEM's registered allowed devices (FLOW-10)
	// and forgets the others (the chaos devices are all unregistered).
	upStarts []time.Time
	findings []Finding
}

func newOracle(seed int64, n int, w time.Duration, start time.Time) *oracle {
	o := &oracle{seed: seed, w: w}
	for range n {
		o.devices = append(o.devices, &deviceModel{facts: []fact{{State: stAbsent, At: start, Deadline: start}},
			policies: []fact{{State: markDefault, At: start, Deadline: start}}})
	}
	o.health.set(start, true)
	o.disk.set(start, true)
	return o
}

func (o *oracle) deadline(f fact) (time.Time, bool) {
	if !f.Deadline.IsZero() {
		return f.Deadline, true
	}
	return o.health.learnBy(f.At, o.w)
}

// admissible are the facts the gateway may act on at time r: the latest
// one it must know by then, and every later one.
func (o *oracle) admissible(d *deviceModel, r time.Time) []fact { return o.since(d.facts, r) }

func (o *oracle) since(facts []fact, r time.Time) []fact {
	i := 0
	for j := len(facts) - 1; j >= 0; j-- {
		if dl, ok := o.deadline(facts[j]); ok && !dl.After(r) {
			i = j
			break
		}
	}
	return facts[i:]
}

// recordPolicy appends the policy mark the UEM now gives device i.
func (o *oracle) recordPolicy(i int, mark string, at time.Time) {
	d := o.devices[i]
	if d.policies[len(d.policies)-1].State != mark {
		d.policies = append(d.policies, fact{State: mark, At: at})
	}
}

// record appends a state the UEM now holds for device i (no-op when
// unchanged); deadline zero means "by the resync bound".
func (o *oracle) record(i int, state string, at, deadline time.Time) {
	d := o.devices[i]
	if l := d.last(); l.State == state {
		if !deadline.IsZero() && (l.Deadline.IsZero() || deadline.Before(l.Deadline)) {
			d.facts[len(d.facts)-1].Deadline = deadline
		}
		return
	}
	if state == stWiped {
		d.wipeEpoch++
	}
	d.facts = append(d.facts, fact{State: state, At: at, Deadline: deadline})
}

// knownAt marks device i's last fact known from t (a notification the
// gateway acknowledged, an answer it got).
func (o *oracle) knownAt(i int, t time.Time) {
	d := o.devices[i]
	for _, f := range []*fact{&d.facts[len(d.facts)-1], &d.policies[len(d.policies)-1]} {
		if f.Deadline.IsZero() || t.Before(f.Deadline) {
			f.Deadline = t
		}
	}
}

// observation is what one device step showed.
type observation struct {
	step        int
	op          string
	device      string
	start       time.Time
	relayed     bool   // Exchange saw the device during the step
	blocked     bool   // the device was refused (403 or Status 129)
	wiped       bool   // the device received RemoteWipe
	acked       bool   // and its acknowledgement was answered 200
	after       string // the UEM's state after the step
	created     bool   // the UEM association was created during the step
	unreachable bool   // the UEM could not be asked during the step
	refusing    bool   // the UEM refused the gateway during the step
	policy      string // the mark of the policy provisioned during the step ("" none)
}

// checkDevice judges one device step of device i.
func (o *oracle) checkDevice(i int, ob observation) {
	d := o.devices[i]
	adm := o.admissible(d, ob.start)
	relayOK, refuseOK, wipeOK := false, false, false
	for _, f := range adm {
		switch f.State {
		case stAllowed, stFailOpen:
			relayOK = true
		case stBlocked:
			refuseOK = true
		case stWiped:
			refuseOK, wipeOK = true, true
		case stAbsent:
			// A new device to the gateway: it asks the UEM, which
			// decides now; or fail-open lets it in when the UEM cannot
			// be asked; a UEM refusing the gateway keeps it out.
			if ob.unreachable {
				relayOK = true
			}
			if ob.refusing || ob.unreachable {
				refuseOK = true
			}
			switch {
			case ob.created && ob.after == stAllowed:
				relayOK = true
			case ob.created && ob.after == stBlocked, ob.created && ob.after == stWiped:
				refuseOK = true
			case !ob.created && ob.after != stAbsent:
				// An association the gateway asked about while the
				// UEM looked unreachable (it answered too late).
				relayOK, refuseOK = true, true
			}
		}
	}
	must := adm[0]
	restarted := o.restartBetween(must, ob.start)
	forgotten := o.forgotten(d, ob.start)
	if forgotten && ob.refusing {
		// A gateway started from the UEM has its registered allowed
		// devices only (FLOW-10); an unregistered one is new to it again,
		// and a UEM refusing the gateway keeps new devices out.
		refuseOK = true
	}
	switch {
	case ob.relayed && !relayOK:
		kind := WrongAllow
		if restarted && (must.State == stBlocked || must.State == stWiped) {
			kind = LostState
			if o.diskExcused(must, ob.device, ob.start) {
				break // it could not write it and said so
			}
		}
		o.find(kind, ob, fmt.Sprintf("reached Exchange while %s (since %s)", states(adm), must.At.Format("15:04:05.000")))
	case ob.blocked && !refuseOK:
		o.find(WrongBlock, ob, fmt.Sprintf("refused while %s", states(adm)))
	}
	if ob.policy != "" && !(forgotten && ob.unreachable) { // a forgotten device is let in by fail-open, with the server's policy (INC-01)
		o.checkPolicy(d, ob)
	}
	if ob.relayed {
		d.lastSeen = time.Now()
	}
	if ob.wiped {
		switch {
		case !wipeOK:
			o.find(WrongWipe, ob, fmt.Sprintf("RemoteWipe while %s", states(adm)))
		case d.ackEpoch == d.wipeEpoch && d.ackEpoch > 0:
			kind := DoubleWipe
			for _, t := range o.restarts {
				if t.After(d.ackAt) && t.Before(ob.start) {
					kind = LostState
				}
			}
			if kind == LostState && o.diskExcused(fact{At: d.ackAt, Deadline: d.ackAt}, ob.device, ob.start) {
				break
			}
			o.find(kind, ob, fmt.Sprintf("RemoteWipe again after the acknowledgement at %s", d.ackAt.Format("15:04:05.000")))
		}
		if ob.acked && d.wipeEpoch > 0 {
			d.ackEpoch, d.ackAt = d.wipeEpoch, time.Now()
		}
	}
}

// forgotten reports whether the gateway may have forgotten device d by
// time t: it started from the UEM since the device last reached Exchange.
func (o *oracle) forgotten(d *deviceModel, t time.Time) bool {
	for _, s := range o.upStarts {
		if s.After(d.lastSeen) && s.Before(t) {
			return true
		}
	}
	return false
}

func (o *oracle) restartBetween(f fact, t time.Time) bool {
	dl, ok := o.deadline(f)
	if !ok {
		return false
	}
	for _, r := range o.restarts {
		if r.After(dl) && r.Before(t) {
			return true
		}
	}
	return false
}

func states(fs []fact) string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += " or "
		}
		s += f.State
	}
	return s
}

func (o *oracle) find(kind string, ob observation, detail string) {
	o.findings = append(o.findings, Finding{Kind: kind, Seed: o.seed, Step: ob.step, Op: ob.op, Device: ob.device, Detail: detail})
}

// checkPolicy judges a completed Provision: the policy must be one the
// UEM assigned within the staleness. A default mark (the server's policy,
// the UEM's default behaviour, fail-open) accepts anything.
func (o *oracle) checkPolicy(d *deviceModel, ob observation) {
	adm := o.since(d.policies, ob.start)
	for _, f := range adm {
		if f.State == markDefault || f.State == ob.policy {
			return
		}
	}
	o.find(StalePolicy, ob, fmt.Sprintf("provisioned %s while the UEM assigned %s", ob.policy, states(adm)))
}
