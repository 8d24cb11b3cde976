package dashboard

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/loadgen/device"
)

// fleet is the devices the dashboard added: each connects, then syncs
// every SyncEvery until the dashboard stops (a wiped one stops syncing).
type fleet struct {
	s   *Server
	mu  sync.Mutex
	n   int
	all []*device.Device
}

func newFleet(s *Server) *fleet { return &fleet{s: s} }

func (f *fleet) list() []*device.Device {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*device.Device(nil), f.all...)
}

// Device returns a device the dashboard added, by its EAS id.
func (s *Server) Device(id string) (*device.Device, bool) {
	for _, d := range s.fleet.list() {
		if strings.EqualFold(d.ID(), id) {
			return d, true
		}
	}
	return nil, false
}

// presetFleet is the "small fleet" button: one device per platform and
// client class across the demo users.
var presetFleet = []struct {
	user     int
	platform device.Platform
	class    device.Class
}{
	{0, device.Android, device.Native},
	{1, device.IOS, device.Native},
	{1, device.IOS, device.SecureApp},
	{2, device.Windows, device.Native},
	{0, device.Android, device.UnsecureApp},
}

// add makes a device for user and starts it (connect, then sync).
func (f *fleet) add(user string, p device.Platform, c device.Class) (*device.Device, error) {
	if _, ok := f.s.l.User(user); !ok {
		return nil, fmt.Errorf("no demo user %q", user)
	}
	switch p {
	case device.IOS, device.Android, device.Windows:
	default:
		return nil, fmt.Errorf("unknown platform %q", p)
	}
	f.mu.Lock()
	if len(f.all) >= 50 {
		f.mu.Unlock()
		return nil, errors.New("the dashboard drives at most 50 devices")
	}
	f.n++
	id := fmt.Sprintf("DASH%s%02d", strings.ToUpper(string(p)), f.n)
	f.mu.Unlock()
	d, err := f.s.l.NewDevice(device.Config{ID: id, User: user, Platform: p, Class: c})
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.all = append(f.all, d)
	f.mu.Unlock()
	f.s.wg.Add(1)
	go func() { defer f.s.wg.Done(); f.drive(d) }()
	return d, nil
}

// drive connects d and syncs it periodically; errors (blocked, gateway
// down) are what the page shows, so the loop goes on.
func (f *fleet) drive(d *device.Device) {
	ctx := f.s.ctx
	connected := d.Connect(ctx) == nil
	t := time.NewTicker(f.s.cfg.SyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		switch {
		case d.State() == device.Wiped:
			return
		case !connected:
			connected = d.Connect(ctx) == nil
		default:
			_, _ = d.Sync(ctx)
		}
	}
}
