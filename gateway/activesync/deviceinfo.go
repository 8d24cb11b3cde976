package activesync

import (
	"bytes"
	"io"
	"net/http"
	"sync"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// deviceInfos remembers what each device said about itself in its
// Provision DeviceInformation (OS, model, language), so that attachment
// control can tell a third-party mail app on iOS from an Android one
// (ATT-02: Other Platforms never governs an iOS device) and write the
// Remove notice in an iOS device's language (ATT-06). Only devices that
// passed admission reach readProvision, and the map is bounded.
type deviceInfos struct {
	mu sync.Mutex
	m  map[devicecache.Key]*eas.DeviceInformation
}

// maxDeviceInfos bounds the map; when full it starts again (devices send
// DeviceInformation at every Provision).
const maxDeviceInfos = 200_000

// learn keeps the fields attachment control reads from info.
func (d *deviceInfos) learn(k devicecache.Key, info *eas.DeviceInformation) {
	if info == nil || info.Set == nil {
		return
	}
	kept := &eas.DeviceInformation{Set: &eas.DeviceInformationSet{Model: info.Set.Model, OS: info.Set.OS, OSLanguage: info.Set.OSLanguage}}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.m == nil || len(d.m) >= maxDeviceInfos {
		d.m = make(map[devicecache.Key]*eas.DeviceInformation)
	}
	d.m[k] = kept
}

// lookup returns what the device last said, or nil.
func (d *deviceInfos) lookup(k devicecache.Key) *eas.DeviceInformation {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.m[k]
}

// readSettings learns the DeviceInformation an iOS device sends in its
// Settings command (it may never send it in a Provision), so that the
// Remove notice is written in its language (ATT-06, issue 22). The body
// goes on to the server unchanged; one that cannot be read or parsed is
// left to the server to answer.
func (h *Handler) readSettings(r *http.Request, x *exchange) {
	if r.ContentLength <= 0 || r.ContentLength > h.cfg.MaxProvisionBody {
		return
	}
	body, err := readBounded(r.Body, h.cfg.MaxProvisionBody)
	r.Body.Close()
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	if err != nil {
		return
	}
	var req eas.SettingsRequest
	if wbxml.UnmarshalStruct(body, &req, wbxml.Limits{MaxSize: int(h.cfg.MaxProvisionBody)}) == nil {
		h.infos.learn(x.key, req.DeviceInformation)
	}
}
