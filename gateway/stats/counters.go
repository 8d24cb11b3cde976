// Package stats holds the gateway's statistics: the per-device counters
// of `show sentry statistics entry` (STA-01 to STA-04, ATT-24), their sums
// for `statistics global device`, the peak gauges of `statistics global
// system` (STA-07), and the CSV files written every interval (STA-08).
package stats

import (
	"strings"
	"sync"
	"sync/atomic"
)

// Counter is one per-device counter.
type Counter uint8

// The counters in the order the seeds list them; names are the seeds',
// typos included (`d-connection` is singular).
const (
	DConnection Counter = iota
	SConnections
	DBytesRcvd
	SBytesSent
	SBytesRcvd
	DBytesSent
	DHTTPRequests
	SHTTPRequests
	SHTTPResponses
	DHTTPResponses
	DHTTP449
	SHTTP449
	Permits
	Pendings
	Blocks
	Wipes
	SHTTP3xxRedirects
	SHTTP451Redirects
	DHTTP451RedirectDrops
	CmdNone
	CmdOptions
	CmdProvision
	CmdSync
	CmdFolderSync
	CmdPing
	CmdGetAttachment
	CmdItemOperations
	CmdUnknown
	DErrConnTimeout
	SErrConnTimeout
	DErrSoTimeout
	SErrSoTimeout
	SErrCmdPingTimeout
	SErrCmdSyncTimeout
	DErrCmdTimeout
	SErrCmdTimeout
	DErrReset
	SErrReset
	DSoClose
	SSoClose
	HTTPStatus200
	HTTPStatus401
	HTTPStatus404
	HTTPStatus409
	HTTPStatus5xx
	HTTPStatusOther
	ErrConnPooling
	DUnclassified
	SUnclassified
	PingSyncThrottled
	KerberosAuthError
	DHTTP503S2C
	DHTTP503C2S
	DHTTP400C2S
	ActiveSyncStatusReports
	AttachmentsEncrypted
	AttachmentEncryptFailures
	AttachmentsConverted
	AttachmentsReplaced
	AttachmentReplacedFailures
	AttachmentsFwdRestored
	AttachmentsFetched
	AttachmentsEmbedded
	AttachmentsRenamed
	AttachmentsSizeMB
	AttachmentsSizeBytes
	DecryptionFailures
	// AttachmentRewriteFailed counts what attachment control could not
	// rewrite under Encrypt or Remove: responses refused and bodies or
	// attachments replaced by the removal notice (fail closed, issue 18).
	AttachmentRewriteFailed
	// SHTTP451InsecureRefused counts 451 redirects to an http:// location
	// that the gateway refused to follow from a Server TLS service.
	SHTTP451InsecureRefused
	// Admission of device requests (issue 18), after the seeds' counters.
	// Requests refused before they are authenticated have no device row:
	// these count in the global sums only (Registry.IncGlobal).
	IdentityMismatch // the query's User is not the authenticated user: 400
	DUnauthenticated // no credentials, or Exchange refused them: 401
	SAuthProbes      // credentials of a new device checked with Exchange
	DAdmissionBusy   // too many credential checks in flight: 503
	DRateLimited     // requests over the source's rate: 429
	DConnRateLimited // connections over the source's rate, closed
	// AppTunnel (issue 21), per (device UUID, user) of the tunnel; a
	// refusal before the app is authenticated counts in the global sum.
	TunnelsOpened   // CONNECT tunnels established and HTTP tunnel requests relayed
	TunnelsRefused  // tunnel requests refused, any documented reason
	TunnelBytesUp   // bytes from the app to servers (CONNECT bytes, HTTP request bodies)
	TunnelBytesDown // bytes from servers to the app (CONNECT bytes, HTTP response bodies)
	numCounters
)

var counterNames = [numCounters]string{
	"d-connection", "s-connections", "d-bytes-rcvd", "s-bytes-sent", "s-bytes-rcvd", "d-bytes-sent",
	"d-http-requests", "s-http-requests", "s-http-responses", "d-http-responses", "d-http-449", "s-http-449",
	"permits", "pendings", "blocks", "wipes",
	"s-http-3xx-redirects", "s-http-451-redirects", "d-http-451-redirect-drops",
	"cmd-none", "cmd-options", "cmd-provision", "cmd-sync", "cmd-folder-sync", "cmd-ping",
	"cmd-get-attachment", "cmd-item-operations", "cmd-unknown",
	"d-err-conn-timeout", "s-err-conn-timeout", "d-err-so-timeout", "s-err-so-timeout",
	"s-err-cmd-ping-timeout", "s-err-cmd-sync-timeout", "d-err-cmd-timeout", "s-err-cmd-timeout",
	"d-err-reset", "s-err-reset", "d-so-close", "s-so-close",
	"http-status-200", "http-status-401", "http-status-404", "http-status-409", "http-status-5xx", "http-status-other",
	"err-conn-pooling", "d-unclassified", "s-unclassified", "ping-sync-throttled", "kerberos-auth-error",
	"d-http-503-s2c", "d-http-503-c2s", "d-http-400-c2s", "active-sync-status-reports",
	"attachments-encrypted", "attachment-encrypt-failures", "attachments-converted", "attachments-replaced",
	"attachment-replaced-failures", "attachments-fwd-restored", "attachments-fetched", "attachments-embedded",
	"attachments-renamed", "attachments-size-MB", "attachments-size-bytes", "decryption-failures",
	"attachment-rewrite-failed", "s-http-451-insecure-redirects-refused",
	"identity-mismatch", "d-unauthenticated", "s-auth-probes", "d-admission-busy",
	"d-rate-limited", "d-conn-rate-limited",
	"tunnels-opened", "tunnels-refused", "tunnel-bytes-up", "tunnel-bytes-down",
}

// String returns the counter's name as the CLI prints it.
func (c Counter) String() string {
	if c < numCounters {
		return counterNames[c]
	}
	return "unknown"
}

// Counters lists every counter in display order.
func Counters() []Counter {
	out := make([]Counter, numCounters)
	for i := range out {
		out[i] = Counter(i)
	}
	return out
}

// CommandCounter maps an ActiveSync command name to its cmd-* counter.
func CommandCounter(cmd string) Counter {
	switch cmd {
	case "":
		return CmdNone
	case "OPTIONS":
		return CmdOptions
	case "Provision":
		return CmdProvision
	case "Sync":
		return CmdSync
	case "FolderSync":
		return CmdFolderSync
	case "Ping":
		return CmdPing
	case "GetAttachment":
		return CmdGetAttachment
	case "ItemOperations":
		return CmdItemOperations
	}
	return CmdUnknown
}

// StatusCounter maps an upstream HTTP status to its http-status-* counter.
func StatusCounter(code int) Counter {
	switch {
	case code == 200:
		return HTTPStatus200
	case code == 401:
		return HTTPStatus401
	case code == 404:
		return HTTPStatus404
	case code == 409:
		return HTTPStatus409
	case code >= 500 && code <= 599:
		return HTTPStatus5xx
	}
	return HTTPStatusOther
}

// Device holds one (device, user)'s counters. It is allocated only when
// the device has traffic, so idle cached devices cost nothing here.
type Device struct {
	global *Registry
	c      [numCounters]atomic.Uint64
}

// Add adds n to the device's counter and to the global sum.
func (d *Device) Add(c Counter, n uint64) {
	d.c[c].Add(n)
	d.global.global[c].Add(n)
}

// Inc adds one.
func (d *Device) Inc(c Counter) { d.Add(c, 1) }

// Get returns the counter's value.
func (d *Device) Get(c Counter) uint64 { return d.c[c].Load() }

// Values returns every counter in display order.
func (d *Device) Values() []Value { return values(&d.c) }

// Value is one named counter value.
type Value struct {
	Name  string
	Value uint64
}

func values(c *[numCounters]atomic.Uint64) []Value {
	out := make([]Value, numCounters)
	for i := range out {
		out[i] = Value{counterNames[i], c[i].Load()}
	}
	return out
}

// DeviceKey identifies the device counters belong to (STA-05: per device and user).
type DeviceKey struct{ DeviceID, User string }

// Registry holds every device's counters and their global sums.
type Registry struct {
	mu      sync.RWMutex
	devices map[DeviceKey]*Device
	global  [numCounters]atomic.Uint64
	open    atomic.Int64 // device connections open now (STA-12)
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{devices: make(map[DeviceKey]*Device)} }

// Device returns the counters of (deviceID, user), creating them on first use.
func (r *Registry) Device(deviceID, user string) *Device {
	k := DeviceKey{deviceID, user}
	r.mu.RLock()
	d := r.devices[k]
	r.mu.RUnlock()
	if d != nil {
		return d
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if d = r.devices[k]; d == nil {
		d = &Device{global: r}
		r.devices[k] = d
	}
	return d
}

// Lookup returns the counters of (deviceID, user) if the device had traffic.
func (r *Registry) Lookup(deviceID, user string) (*Device, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.devices[DeviceKey{deviceID, user}]
	return d, ok
}

// Forget drops a device's counters (its entry was purged); the global sums keep them.
func (r *Registry) Forget(deviceID, user string) {
	r.mu.Lock()
	delete(r.devices, DeviceKey{deviceID, user})
	r.mu.Unlock()
}

// IncGlobal adds one to a global sum without a device row: for requests
// refused before anyone authenticated them, which must leave no per-device
// state behind (issue 18).
func (r *Registry) IncGlobal(c Counter) { r.global[c].Add(1) }

// AddGlobal adds n to a global sum only (no device to give it to).
func (r *Registry) AddGlobal(c Counter, n uint64) {
	if n > 0 {
		r.global[c].Add(n)
	}
}

// Global returns the sums over all devices in display order.
func (r *Registry) Global() []Value { return values(&r.global) }

// GlobalValue returns one global sum.
func (r *Registry) GlobalValue(c Counter) uint64 { return r.global[c].Load() }

// Devices calls fn for each device with counters.
func (r *Registry) Devices(fn func(DeviceKey, *Device)) {
	r.mu.RLock()
	keys := make([]DeviceKey, 0, len(r.devices))
	devs := make([]*Device, 0, len(r.devices))
	for k, d := range r.devices {
		keys = append(keys, k)
		devs = append(devs, d)
	}
	r.mu.RUnlock()
	for i := range keys {
		fn(keys[i], devs[i])
	}
}

// Reset zeroes every counter (`Apply & Reset Statistics`, STA-08).
func (r *Registry) Reset() {
	r.mu.Lock()
	r.devices = make(map[DeviceKey]*Device)
	r.mu.Unlock()
	for i := range r.global {
		r.global[i].Store(0)
	}
}

// Filter keeps the values whose name or value contains s, as the CLI's
// filter string does (STA-06); an empty filter keeps everything.
func Filter(vs []Value, s string) []Value {
	if s == "" {
		return vs
	}
	var out []Value
	for _, v := range vs {
		if strings.Contains(v.Name, s) || strings.Contains(uintString(v.Value), s) {
			out = append(out, v)
		}
	}
	return out
}
