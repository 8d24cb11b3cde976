package exchange

import (
	"crypto/rand"
	"encoding/binary"
	"sort"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// Access states of a device partnership.
const (
	AccessAllowed                = "Allowed"
	AccessWipePending            = "WipePending"
	AccessAccountOnlyWipePending = "AccountOnlyWipePending"
	AccessWiped                  = "Wiped"
	AccessAccountOnlyWiped       = "AccountOnlyWiped"
	AccessWipeFailed             = "WipeFailed"
)

// Partnership is a device's relationship with a mailbox, as Exchange's
// Get-MobileDevice lists it.
type Partnership struct {
	DeviceID        string    `json:"device_id"`
	User            string    `json:"user"`
	DeviceType      string    `json:"device_type"`
	UserAgent       string    `json:"user_agent,omitempty"`
	Model           string    `json:"model,omitempty"`
	FriendlyName    string    `json:"friendly_name,omitempty"`
	OS              string    `json:"os,omitempty"`
	ProtocolVersion string    `json:"protocol_version"`
	FirstSync       time.Time `json:"first_sync"`
	LastSync        time.Time `json:"last_sync"`
	AccessState     string    `json:"access_state"`
	Provisioned     bool      `json:"provisioned"`
	PolicyKey       uint32    `json:"policy_key,omitempty"`
	WipeRequested   time.Time `json:"wipe_requested,omitzero"`
	WipeAcked       time.Time `json:"wipe_acknowledged,omitzero"`
	WipeAckStatus   int       `json:"wipe_ack_status,omitempty"`

	pendingKey uint32 // temporary key of phase 1
}

type devKey struct{ user, device string }

// devices is the partnership table.
type devices struct {
	mu sync.Mutex
	m  map[devKey]*Partnership
}

func newDevices() *devices { return &devices{m: map[devKey]*Partnership{}} }

// touch records a request and returns a copy of the partnership.
func (d *devices) touch(user string, ri *eas.RequestInfo, now time.Time) Partnership {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := devKey{user, ri.Query.DeviceID}
	p := d.m[k]
	if p == nil {
		p = &Partnership{DeviceID: ri.Query.DeviceID, User: user, FirstSync: now, AccessState: AccessAllowed}
		d.m[k] = p
	}
	p.DeviceType, p.LastSync, p.ProtocolVersion = ri.Query.DeviceType, now, ri.Version.String()
	if ri.UserAgent != "" {
		p.UserAgent = ri.UserAgent
	}
	return *p
}

func (d *devices) update(user, device string, fn func(p *Partnership)) (Partnership, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.m[devKey{user, device}]
	if p == nil {
		return Partnership{}, false
	}
	fn(p)
	return *p, true
}

func (d *devices) get(user, device string) (Partnership, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.m[devKey{user, device}]
	if p == nil {
		return Partnership{}, false
	}
	return *p, true
}

func (d *devices) list() []Partnership {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]Partnership, 0, len(d.m))
	for _, p := range d.m {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].User != out[j].User {
			return out[i].User < out[j].User
		}
		return out[i].DeviceID < out[j].DeviceID
	})
	return out
}

func (d *devices) remove(user, device string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := devKey{user, device}
	_, ok := d.m[k]
	delete(d.m, k)
	return ok
}

// policyKey returns a random non-zero policy key (MS-ASPROV 2.2.2.42).
func policyKey() uint32 {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		if k := binary.LittleEndian.Uint32(b[:]); k != 0 {
			return k
		}
	}
}

func wipePending(state string) bool {
	return state == AccessWipePending || state == AccessAccountOnlyWipePending
}

func wiped(state string) bool {
	return state == AccessWiped || state == AccessAccountOnlyWiped
}
