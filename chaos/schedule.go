package chaos

import (
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// Step is one action of a schedule. Op names it (the Op* constants);
// Device indexes the world's devices for device and admin operations;
// Arg is a number whose meaning depends on Op (milliseconds, a status,
// a limit, a policy); On switches a fault or a preference.
type Step struct {
	Op     string `yaml:"op" json:"op"`
	Device int    `yaml:"device,omitempty" json:"device,omitempty"`
	Arg    int    `yaml:"arg,omitempty" json:"arg,omitempty"`
	On     bool   `yaml:"on,omitempty" json:"on,omitempty"`
}

func (s Step) String() string {
	switch kindOf(s.Op) {
	case kindDevice, kindAdmin:
		if s.Arg != 0 {
			return fmt.Sprintf("%s d%d %d", s.Op, s.Device, s.Arg)
		}
		return fmt.Sprintf("%s d%d", s.Op, s.Device)
	}
	switch {
	case s.Arg != 0:
		return fmt.Sprintf("%s %d", s.Op, s.Arg)
	case s.On:
		return s.Op + " on"
	case opSwitch[s.Op]:
		return s.Op + " off"
	}
	return s.Op
}

// Schedule is a seeded list of steps over a world of Users users and
// Devices devices (device i belongs to user i mod Users).
type Schedule struct {
	Seed    int64  `yaml:"seed" json:"seed"`
	Users   int    `yaml:"users" json:"users"`
	Devices int    `yaml:"devices" json:"devices"`
	Steps   []Step `yaml:"steps" json:"steps"`
	// Note says what a committed regression schedule is about.
	Note string `yaml:"note,omitempty" json:"note,omitempty"`
	// Mode, when set, is the gateway mode a regression needs:
	// "subprocess" for the disk faults (TestRegressions).
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
}

// Validate checks a schedule read from a file: known operations, device
// indexes in range.
func (s *Schedule) Validate() error {
	if s.Users < 1 || s.Users > 8 {
		return fmt.Errorf("chaos: schedule users %d must be 1-8", s.Users)
	}
	if s.Devices < 1 || s.Devices > 50 {
		return fmt.Errorf("chaos: schedule devices %d must be 1-50", s.Devices)
	}
	for i, st := range s.Steps {
		if kindOf(st.Op) == kindUnknown {
			return fmt.Errorf("chaos: step %d: unknown op %q", i, st.Op)
		}
		if st.Device < 0 || st.Device >= s.Devices {
			return fmt.Errorf("chaos: step %d: device %d out of range 0-%d", i, st.Device, s.Devices-1)
		}
	}
	return nil
}

// LoadSchedule reads a YAML schedule, rejecting unknown fields.
func LoadSchedule(path string) (*Schedule, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("chaos: schedule: %w", err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	var s Schedule
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("chaos: schedule %s: %w", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// WriteSchedule writes s as YAML.
func WriteSchedule(path string, s *Schedule) error {
	b, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Errorf("chaos: schedule: %w", err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("chaos: schedule: %w", err)
	}
	return nil
}
