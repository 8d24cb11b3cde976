// Package loadgen drives fleets of simulated ActiveSync devices
// (loadgen/device) against a gateway and measures what they see.
//
// A fleet is described by a Spec (YAML, see ParseSpec): how many
// devices, their platform / client / protocol-version mix, a behaviour
// profile per client class, an arrival schedule, a duration and
// thresholds. Ping is a closed loop per device (a hanging request, as
// EAS Direct Push is); every other command is open-model: the scheduler
// computes when each operation should start and measures its latency
// from that intended time, so a slow target cannot hide queueing
// (coordinated omission). Late and dropped operations are counted.
//
// Latencies go into HDR histograms per (command, status), which merge
// losslessly across shards and runs (Results, Merge).
package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Spec is a fleet description.
type Spec struct {
	Name string `yaml:"name"`
	// Seed makes the device mix and ids reproducible; default 1.
	Seed uint64 `yaml:"seed"`
	// Devices is the number of distinct simulated devices.
	Devices int `yaml:"devices"`
	// Users the devices are spread over (round robin): lab users
	// alice, bob, ... user09 ... with password <name>-pw; default 8.
	Users int `yaml:"users"`
	// Duration of the run (arrivals plus steady load).
	Duration Duration `yaml:"duration"`
	// NewShare is the share (0-1) of devices arriving as new (first
	// access: Provision, FolderSync, Sync, with an id never used
	// before); the others are known (a stable id reused across runs
	// with the same seed: FolderSync, Sync, provisioning only if told).
	NewShare float64 `yaml:"new_share"`
	Mix      Mix     `yaml:"mix"`
	// Profiles holds the behaviour per client class (native,
	// secure_app, unsecured_app) and "default" for the others.
	Profiles map[string]Profile `yaml:"profiles"`
	Arrival  Arrival            `yaml:"arrival"`
	// MaxInFlight bounds the open-model operations in flight; an
	// operation due when the bound is reached is dropped and counted.
	// Default 10000.
	MaxInFlight int `yaml:"max_in_flight"`
	// LateAfter: an operation starting this long after its intended
	// time counts as late (it is still measured from the intended
	// time). Default 10ms.
	LateAfter  Duration   `yaml:"late_after"`
	Thresholds Thresholds `yaml:"thresholds"`
	// Apps makes a share of the devices AppTunnel app devices (apps.go).
	Apps *Apps `yaml:"apps,omitempty"`
}

// Mix gives the weights of platforms, client classes and protocol
// versions; weights need not sum to 100.
type Mix struct {
	Platforms map[string]float64 `yaml:"platforms"`
	Clients   map[string]float64 `yaml:"clients"`
	Versions  map[string]float64 `yaml:"versions"`
	// Auth mixes Basic and OAuth devices ("basic", "oauth"); empty: all
	// Basic. OAuth devices sign in through the target gateway's
	// /proxyservice/oauth2 endpoints (OAU-04/05).
	Auth map[string]float64 `yaml:"auth,omitempty"`
}

// Profile is how one class of device behaves once it arrived.
type Profile struct {
	// PingHeartbeat is the Ping HeartbeatInterval; 0 disables Ping.
	PingHeartbeat Duration `yaml:"ping_heartbeat"`
	// SyncRate and SendMailRate are per device: "12/h", "1/min", "2/s".
	SyncRate     Rate `yaml:"sync_rate"`
	SendMailRate Rate `yaml:"sendmail_rate"`
	// AttachmentShare is the share (0-1) of Syncs followed by an
	// attachment fetch (when the device holds a message with one).
	AttachmentShare float64 `yaml:"attachment_share"`
}

// Arrival is when devices come online, in devices per second.
type Arrival struct {
	// Shape: ramp (all devices evenly over Over, default the whole
	// duration), constant (Rate), linear (From to To over Over), sine
	// (Rate + Amplitude*sin(2πt/Period)), steps (Steps).
	Shape     string   `yaml:"shape"`
	Rate      float64  `yaml:"rate"`
	From      float64  `yaml:"from"`
	To        float64  `yaml:"to"`
	Over      Duration `yaml:"over"`
	Amplitude float64  `yaml:"amplitude"`
	Period    Duration `yaml:"period"`
	Steps     []Step   `yaml:"steps"`
}

// Step is one level of a steps arrival: Rate devices/s from At.
type Step struct {
	At   Duration `yaml:"at"`
	Rate float64  `yaml:"rate"`
}

// Thresholds turn the exit code non-zero (ExitThresholds) when broken.
type Thresholds struct {
	// P99 per command (Sync, Ping, SendMail, ItemOperations,
	// Provision, FolderSync, or "all" for every non-Ping command).
	P99 map[string]Duration `yaml:"p99"`
	// ErrorRate is the largest allowed share of failed operations.
	ErrorRate *float64 `yaml:"error_rate"`
}

// Duration is a time.Duration written as "30s", "5m" in YAML.
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return nodeError(n, fmt.Sprintf("%q is not a duration like 30s or 5m", s))
	}
	if v < 0 {
		return nodeError(n, fmt.Sprintf("%q is negative", s))
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML writes the Go duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// Rate is events per second, written "12/h", "3/min", "2/s" or a plain
// number (per second).
type Rate float64

// UnmarshalYAML reads a rate.
func (r *Rate) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	v, err := ParseRate(s)
	if err != nil {
		return nodeError(n, err.Error())
	}
	*r = Rate(v)
	return nil
}

// ParseRate reads "12/h", "3/min", "2/s" or "0.5" (per second).
func ParseRate(s string) (float64, error) {
	num, unit, ok := strings.Cut(strings.TrimSpace(s), "/")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a rate like 12/h, 3/min or 2/s", s)
	}
	if !ok {
		return v, nil
	}
	switch strings.TrimSpace(unit) {
	case "s", "sec":
		return v, nil
	case "m", "min":
		return v / 60, nil
	case "h", "hour":
		return v / 3600, nil
	}
	return 0, fmt.Errorf("%q: unit must be s, min or h", s)
}

// nodeError is a value error at a YAML node; ParseSpec names its field.
func nodeError(n *yaml.Node, msg string) error {
	return &FieldError{Line: n.Line, col: n.Column, Msg: msg}
}

// FieldError is a spec error naming the field at fault.
type FieldError struct {
	Field string // e.g. arrival.shape
	Line  int    // YAML line, 0 when unknown
	Msg   string
	col   int
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("spec: %s (line %d): %s", e.Field, e.Line, e.Msg)
	}
	return fmt.Sprintf("spec: %s: %s", e.Field, e.Msg)
}

// Commands the load generator measures.
var commands = []string{"Provision", "FolderSync", "Sync", "Ping", "SendMail", "ItemOperations", CmdAppHTTP, CmdAppTCP}

var (
	platforms = []string{"iOS", "Android", "Windows", "Other"}
	clients   = []string{"native", "secure_app", "unsecured_app"}
	versions  = []string{"12.1", "14.0", "14.1", "16.0", "16.1"}
)

// ParseSpec reads a YAML spec, applies defaults and validates it. Errors
// are *FieldError naming the field (and its line when the YAML is at
// fault); unknown fields are errors.
func ParseSpec(data []byte) (*Spec, error) {
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, yamlFieldError(data, err)
	}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// yamlFieldError turns a yaml.v3 error into a FieldError, recovering the
// field name from the YAML path at the line it reports.
func yamlFieldError(data []byte, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		fe.Field = fieldAt(data, fe.Line, fe.col)
		return fe
	}
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return &FieldError{Field: "(document)", Msg: err.Error()}
	}
	msg := te.Errors[0]
	line := 0
	if _, rest, ok := strings.Cut(msg, "line "); ok {
		n, _, _ := strings.Cut(rest, ":")
		line, _ = strconv.Atoi(n)
	}
	field := fieldAt(data, line, 0)
	if i := strings.Index(msg, ": "); i >= 0 && strings.HasPrefix(msg, "line ") {
		msg = msg[i+2:]
	}
	return &FieldError{Field: field, Line: line, Msg: msg}
}

// fieldAt returns the dotted path of the mapping entry whose value is at
// line and col (1-based), or, with col 0, of the last entry on line.
func fieldAt(data []byte, line, col int) string {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || line == 0 {
		return "(document)"
	}
	var best string
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := k.Value
				if path != "" {
					p = path + "." + k.Value
				}
				if col == 0 && (k.Line == line || v.Line == line) || v.Line == line && v.Column == col {
					best = p
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				if c.Line == line && best == "" {
					best = p
				}
				walk(c, p)
			}
		}
	}
	walk(&root, "")
	if best == "" {
		return "(document)"
	}
	return best
}

// SetDefaults fills the zero fields.
func (s *Spec) SetDefaults() {
	if s.Seed == 0 {
		s.Seed = 1
	}
	if s.Users == 0 {
		s.Users = 8
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = 10000
	}
	if s.LateAfter == 0 {
		s.LateAfter = Duration(10 * time.Millisecond)
	}
	if s.Arrival.Shape == "" {
		s.Arrival.Shape = "ramp"
	}
	if s.Arrival.Shape == "ramp" && s.Arrival.Over == 0 {
		s.Arrival.Over = s.Duration
	}
	if len(s.Mix.Platforms) == 0 {
		s.Mix.Platforms = map[string]float64{"iOS": 1}
	}
	if len(s.Mix.Clients) == 0 {
		s.Mix.Clients = map[string]float64{"native": 1}
	}
	if len(s.Mix.Versions) == 0 {
		s.Mix.Versions = map[string]float64{"14.1": 1}
	}
	if s.Profiles == nil {
		s.Profiles = map[string]Profile{"default": {PingHeartbeat: Duration(60 * time.Second), SyncRate: Rate(12.0 / 3600)}}
	}
}

func (m Mix) classes() []string {
	var out []string
	for _, k := range sortedKeys(m.Clients) {
		if m.Clients[k] > 0 {
			out = append(out, k)
		}
	}
	return out
}

// profile is the behaviour of a client class.
func (s *Spec) profile(class string) (Profile, bool) {
	if p, ok := s.Profiles[class]; ok {
		return p, true
	}
	p, ok := s.Profiles["default"]
	return p, ok
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
