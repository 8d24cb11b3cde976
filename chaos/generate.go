package chaos

import "math/rand/v2"

// GenOptions shape generated schedules.
type GenOptions struct {
	Steps       int  // steps per schedule, default 25
	MinDevices  int  // default 5
	MaxDevices  int  // default 12 (at most 50)
	Kill        bool // the gateway can be killed (subprocess, external with hooks)
	Restart     bool // the gateway can be restarted
	FailedStart bool // a start can be made to fail (in-process and subprocess)
	Disk        bool // the data directory can be made full or read-only (subprocess with disk faults)
	Clock       bool // the gateway's wall clock can jump (in-process)
}

func (o *GenOptions) setDefaults() {
	if o.Steps <= 0 {
		o.Steps = 25
	}
	if o.MinDevices <= 0 {
		o.MinDevices = 5
	}
	if o.MaxDevices < o.MinDevices {
		o.MaxDevices = max(o.MinDevices, 12)
	}
	o.MaxDevices = min(o.MaxDevices, 50)
	o.MinDevices = min(o.MinDevices, o.MaxDevices)
}

// Generate makes the schedule of seed: the same seed and options always
// give the same steps.
func Generate(seed int64, o GenOptions) *Schedule {
	o.setDefaults()
	r := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	s := &Schedule{Seed: seed, Users: 2 + r.IntN(3)}
	s.Devices = o.MinDevices + r.IntN(o.MaxDevices-o.MinDevices+1)
	// A few devices are the focus of a schedule, so that actions and
	// requests meet on the same device often enough to matter.
	hot := make([]int, min(s.Devices, 3+r.IntN(3)))
	for i := range hot {
		hot[i] = r.IntN(s.Devices)
	}
	dev := func() int {
		if r.IntN(4) > 0 {
			return hot[r.IntN(len(hot))]
		}
		return r.IntN(s.Devices)
	}
	for i := 0; i < min(len(hot), o.Steps/4); i++ { // most schedules start from known devices
		s.Steps = append(s.Steps, Step{Op: OpConnect, Device: hot[i]})
	}
	for len(s.Steps) < o.Steps {
		s.Steps = append(s.Steps, genStep(r, o, dev))
	}
	return s
}

func genStep(r *rand.Rand, o GenOptions, dev func() int) Step {
	n := r.IntN(100)
	switch {
	case n < 40: // device operations
		ops := []string{OpConnect, OpSync, OpSync, OpSync, OpPing, OpProvision, OpSendMail, OpFetch}
		return Step{Op: ops[r.IntN(len(ops))], Device: dev()}
	case n < 62: // admin actions
		switch m := r.IntN(20); {
		case m < 5:
			return Step{Op: OpBlock, Device: dev()}
		case m < 9:
			return Step{Op: OpAllow, Device: dev()}
		case m < 12:
			return Step{Op: OpWipe, Device: dev()}
		case m < 15:
			return Step{Op: OpRemove, Device: dev()}
		case m < 16:
			return Step{Op: OpAssignPolicy, Device: dev(), Arg: r.IntN(3)}
		case m < 17:
			return Step{Op: OpChangePolicy, Arg: 1 + r.IntN(2)}
		case m < 18:
			return Step{Op: OpAutoBlock, On: r.IntN(2) == 0}
		case m < 19:
			return Step{Op: OpMailboxLimit, Arg: r.IntN(4)}
		default:
			return Step{Op: OpAttachments, Arg: r.IntN(4)}
		}
	case n < 85: // faults
		// Faults some modes only have come after the others, so the
		// schedules of a seed without them are unchanged.
		var extra []func() Step
		if o.Disk {
			full := func() Step { return Step{Op: OpDiskFull, On: r.IntN(2) == 0} }
			extra = append(extra, full, full, func() Step { return Step{Op: OpDiskReadOnly, On: r.IntN(3) == 0} })
		}
		if o.Clock {
			jump := func() Step { return Step{Op: OpClockJump, Arg: []int{-3600, -600, -30, 30, 600, 3600}[r.IntN(6)]} }
			extra = append(extra, jump, jump)
		}
		switch m := r.IntN(22 + len(extra)); {
		case m < 3:
			return Step{Op: OpUEMDown, On: r.IntN(3) > 0}
		case m < 5:
			return Step{Op: OpUEMLatency, Arg: []int{0, 50, 200, 600}[r.IntN(4)]}
		case m < 6:
			return Step{Op: OpUEMHang, On: r.IntN(3) == 0}
		case m < 8:
			return Step{Op: OpUEMPartition, On: r.IntN(2) == 0}
		case m < 11:
			return Step{Op: OpUEMStatus, Arg: []int{0, 401, 403, 429, 500, 503}[r.IntN(6)]}
		case m < 13:
			return Step{Op: OpNotifyDrop, On: r.IntN(2) == 0}
		case m < 15:
			return Step{Op: OpNotifyDelay, On: r.IntN(2) == 0}
		case m < 16:
			return Step{Op: OpExchangeDown, On: r.IntN(2) == 0}
		case m < 17:
			return Step{Op: OpExchangeSlow, Arg: []int{0, 100, 400}[r.IntN(3)]}
		case m < 22:
			return Step{Op: OpHeal}
		default:
			return extra[m-22]()
		}
	case n < 93: // the gateway's life
		var ops []string
		if o.Restart {
			ops = append(ops, OpRestart, OpRestartUEMDown, OpRestartUEMDown)
		}
		if o.FailedStart {
			ops = append(ops, OpRestartPortTaken)
		}
		if o.Kill {
			ops = append(ops, OpKill, OpKill)
		}
		if len(ops) == 0 {
			return Step{Op: OpWait, Arg: 200}
		}
		return Step{Op: ops[r.IntN(len(ops))]}
	default:
		return Step{Op: OpWait, Arg: []int{100, 300, 1000, 2500}[r.IntN(4)]}
	}
}
