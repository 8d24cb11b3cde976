package uem

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// Seed is the initial content of a fake UEM, usually read from YAML with
// LoadSeed. Field names are the JSON names of the admin API.
type Seed struct {
	Preferences  *Preferences      `json:"preferences,omitempty"`
	Users        []User            `json:"users,omitempty"`
	Devices      []Device          `json:"devices,omitempty"`
	Policies     []json.RawMessage `json:"policies,omitempty"` // ActiveSyncPolicy; unset fields take the seed defaults; id "default" edits the default policy
	Gateways     []SeedGateway     `json:"gateways,omitempty"`
	Associations []SeedAssociation `json:"associations,omitempty"`
	Generate     *Generate         `json:"generate,omitempty"`
}

// SeedGateway is a gateway entry in a seed.
type SeedGateway struct {
	ID              string          `json:"id"`
	Name            string          `json:"name,omitempty"`
	Host            string          `json:"host"`
	Port            int             `json:"port,omitempty"`
	Enabled         *bool           `json:"enabled,omitempty"` // default true
	Token           string          `json:"token,omitempty"`
	NotifySecret    string          `json:"notify_secret,omitempty"` // text; generated when empty
	NotificationURL string          `json:"notification_url,omitempty"`
	Config          json.RawMessage `json:"config,omitempty"` // GatewayConfig over the defaults
}

// SeedAssociation is an association present before any gateway reported
// it, as if reported through Gateway, then optionally acted on.
type SeedAssociation struct {
	EASDeviceID string `json:"eas_device_id"`
	User        string `json:"user"`
	Gateway     string `json:"gateway,omitempty"`
	Model       string `json:"model,omitempty"`
	OS          string `json:"os,omitempty"`
	Action      string `json:"action,omitempty"` // allow, block, wipe, assign_policy
	PolicyID    string `json:"policy_id,omitempty"`
	Note        string `json:"note,omitempty"`
}

// Generate asks for N synthetic users, each with one registered device and
// one allowed, linked ActiveSync association. The same Seed yields the
// same data.
type Generate struct {
	Devices int    `json:"devices"` // 0-1,000,000
	Seed    uint64 `json:"seed"`
	Gateway string `json:"gateway,omitempty"` // Domain of the associations
	// ViolationPercent of the devices (0-100) start with a security
	// violation, i.e. blocked.
	ViolationPercent int `json:"violation_percent,omitempty"`
}

// MaxGenerated bounds Generate.Devices.
const MaxGenerated = 1_000_000

// LoadSeed reads a YAML (or JSON) seed.
func LoadSeed(r io.Reader) (*Seed, error) {
	data, err := io.ReadAll(io.LimitReader(r, 64<<20+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 64<<20 {
		return nil, fmt.Errorf("seed larger than 64 MiB")
	}
	var tree any
	if err := yaml.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	js, err := json.Marshal(tree)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	var s Seed
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return &s, nil
}

// LoadSeedFile reads a seed file.
func LoadSeedFile(path string) (*Seed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadSeed(f)
}

func seedErr(where string, err error) error { return fmt.Errorf("seed %s: %w", where, err) }

func strictJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *store) loadSeed(sd *Seed) error {
	if sd.Preferences != nil {
		if _, err := s.setPreferences(*sd.Preferences); err != nil {
			return seedErr("preferences", err)
		}
	}
	s.mu.Lock()
	for i, u := range sd.Users {
		if _, err := s.addUserLocked(u); err != nil {
			s.mu.Unlock()
			return seedErr(fmt.Sprintf("users[%d]", i), err)
		}
	}
	for i, d := range sd.Devices {
		if _, err := s.addDeviceLocked(d); err != nil {
			s.mu.Unlock()
			return seedErr(fmt.Sprintf("devices[%d]", i), err)
		}
	}
	for i, g := range sd.Gateways {
		e := GatewayEntry{ID: g.ID, Name: g.Name, Host: g.Host, Port: g.Port, Enabled: g.Enabled == nil || *g.Enabled,
			Token: g.Token, NotifySecret: []byte(g.NotifySecret), NotificationURL: g.NotificationURL}
		if len(g.Config) > 0 {
			e.Config = uemapi.DefaultGatewayConfig()
			if err := strictJSON(g.Config, &e.Config); err != nil {
				s.mu.Unlock()
				return seedErr(fmt.Sprintf("gateways[%d].config", i), err)
			}
		}
		if _, err := s.addGatewayLocked(e); err != nil {
			s.mu.Unlock()
			return seedErr(fmt.Sprintf("gateways[%d]", i), err)
		}
	}
	s.mu.Unlock()
	for i, raw := range sd.Policies {
		where := fmt.Sprintf("policies[%d]", i)
		var probe struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(raw, &probe)
		if probe.ID == uemapi.DefaultPolicyID {
			p := uemapi.DefaultPolicy()
			if err := strictJSON(raw, &p); err != nil {
				return seedErr(where, err)
			}
			if _, err := s.updatePolicy(p.ID, p); err != nil {
				return seedErr(where, err)
			}
			continue
		}
		p := uemapi.NewPolicy("")
		if err := strictJSON(raw, &p); err != nil {
			return seedErr(where, err)
		}
		s.mu.Lock()
		_, err := s.createPolicyLocked(p)
		s.mu.Unlock()
		if err != nil {
			return seedErr(where, err)
		}
	}
	for i, a := range sd.Associations {
		where := fmt.Sprintf("associations[%d]", i)
		d, err := s.reportDevice(a.Gateway, uemapi.DeviceReport{EASDeviceID: a.EASDeviceID, User: a.User, Model: a.Model, OS: a.OS})
		if err != nil {
			return seedErr(where, err)
		}
		if a.Action != "" {
			if _, err := s.associationAction(d.AssociationID, Action{Action: a.Action, PolicyID: a.PolicyID, Note: a.Note}); err != nil {
				return seedErr(where, err)
			}
		}
	}
	if sd.Generate != nil {
		if err := s.generate(*sd.Generate); err != nil {
			return seedErr("generate", err)
		}
	}
	return nil
}

var genPlatforms = []struct{ platform, model, os string }{
	{"iOS", "iPhone15,2", "iOS 17.5"},
	{"Android", "Pixel 8", "Android 14"},
	{"iOS", "iPad13,4", "iPadOS 17.5"},
	{"Android", "SM-S918B", "Android 14"},
}

// generate adds g.Devices synthetic users, devices and associations,
// deterministically from g.Seed. Strings of one record share memory where
// they can, so that a million records fit the capacity-test budget.
func (s *store) generate(g Generate) error {
	if g.Devices < 0 || g.Devices > MaxGenerated {
		return uemapi.FieldError("devices", "must be 0-%d", MaxGenerated)
	}
	if g.ViolationPercent < 0 || g.ViolationPercent > 100 {
		return uemapi.FieldError("violation_percent", "must be 0-100")
	}
	rng := rand.New(rand.NewPCG(g.Seed, g.Seed+1))
	s.mu.Lock()
	defer s.mu.Unlock()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	growMaps(s, g.Devices)
	gw := s.intern(g.Gateway)
	reps := make([]reported, len(genPlatforms))
	for i, p := range genPlatforms {
		reps[i] = reported{deviceType: p.platform, model: p.model, os: p.os}
	}
	var buf []byte
	for i := 0; i < g.Devices; i++ {
		// One allocation holds every string of the record:
		// upn | phone | uuid | eas.
		var eas string
		for {
			eas = strings.ToUpper(strconv.FormatUint(rng.Uint64()|1<<63, 16))
			if s.devByEAS[eas] == nil {
				break
			}
		}
		h1, h2 := rng.Uint64(), rng.Uint64()
		num := strconv.AppendInt(make([]byte, 0, 8), int64(i), 10)
		pad := 7 - len(num)
		buf = buf[:0]
		buf = append(buf, "user"...)
		buf = appendPadded(buf, num, pad)
		buf = append(buf, "@gen.example"...)
		upnEnd := len(buf)
		buf = append(buf, "+1555"...)
		buf = appendPadded(buf, num, pad)
		phoneEnd := len(buf)
		buf = appendUUID(buf, h1, h2)
		uuidEnd := len(buf)
		buf = append(buf, eas...)
		rec := string(buf)
		upn, phone, uuid := rec[:upnEnd], rec[upnEnd:phoneEnd], rec[phoneEnd:uuidEnd]
		eas = rec[uuidEnd:]
		// A generated user's id is its (lower-case) UPN, so the id index
		// also resolves the name and the name index needs no entry.
		if s.users[upn] != nil || s.userNames[upn] != nil {
			return uemapi.Errorf(uemapi.CodeConflict, "generated user %s exists", upn)
		}
		u := &User{ID: upn, UPN: upn, Email: upn, MailboxID: upn}
		s.users[upn] = u
		pi := rng.IntN(len(genPlatforms))
		d := &Device{
			UUID: uuid, UserID: upn, Platform: genPlatforms[pi].platform, Model: genPlatforms[pi].model,
			PhoneNumber: phone, EASDeviceIDs: []string{eas},
			SecurityViolation: rng.IntN(100) < g.ViolationPercent,
			RegisteredAt:      time.Unix(0, base+int64(i)*int64(time.Second)).UTC(),
		}
		d.nextOfOwner = u.firstDevice
		u.firstDevice = d
		s.devices[uuid] = d
		s.devByEAS[eas] = d
		a := &assoc{
			seq: int64(len(s.assocs)) + 1, eas: eas, userName: upn, user: u, gateway: gw,
			first: base + int64(i)*int64(time.Second), rep: &reps[pi],
		}
		a.last = a.first
		a.device = d
		d.link = a
		a.setState(Decide(DecisionInput{New: true, Registered: true, SecurityViolation: d.SecurityViolation}))
		s.insertAssoc(a)
	}
	return nil
}

func appendPadded(b, num []byte, pad int) []byte {
	for range pad {
		b = append(b, '0')
	}
	return append(b, num...)
}

// appendUUID formats 128 random bits as a version-4 UUID.
func appendUUID(b []byte, h1, h2 uint64) []byte {
	var raw [16]byte
	binary.BigEndian.PutUint64(raw[:8], h1)
	binary.BigEndian.PutUint64(raw[8:], h2)
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], raw[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], raw[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], raw[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], raw[8:10])
	out[23] = '-'
	hex.Encode(out[24:], raw[10:])
	return append(b, out[:]...)
}

// growMaps pre-sizes the indexes of an empty store for n records.
func growMaps(s *store, n int) {
	if len(s.users) > 0 || n < 1024 {
		return
	}
	s.users = make(map[string]*User, n)
	s.devices = make(map[string]*Device, n)
	s.devByEAS = make(map[string]*Device, n)
	s.assocByKey = make(map[assocKey]*assoc, n)
	s.assocs = make([]*assoc, 0, n)
}
