package admin

import (
	"context"
	"errors"
	"fmt"
	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/audit"
	"net/http"
	"net/http/pprof"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/deviceauth"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/kerberos/delegation"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
	"github.com/gatehouse-lab/gatehouse/internal/httplimit"
)

// Prefix is the path prefix of every admin endpoint.
const Prefix = "/admin/v1/"

// Deps are the gateway parts the admin API reads and drives.
type Deps struct {
	Cache *devicecache.Cache
	Store *devicecache.Store // nil when no persistent list is configured
	Link  *uemsync.Link
	Stats *stats.Registry
	Peaks *stats.Peaks
	// StatsDir holds global-stats.csv; Collection starts and stops it (STA-08, STA-11).
	StatsDir   string
	Collection *stats.Collection
	// Utilization samples `show sentry utilization` (STA-12); nil: not offered.
	Utilization func() stats.Utilization
	// UEMHost, DNSServers and NTPServers are what Service Diagnosis checks (SVD-01).
	UEMHost                string
	DNSServers, NTPServers []string
	CRLs                   *deviceauth.CRLCache // nil when device authentication has no CRLs
	// Servers reports the ActiveSync services and their servers' health,
	// and Diagnose runs the Service Diagnosis EAS check; nil until the
	// UEM's configuration names servers.
	Servers  func() []upstream.ServiceStatus
	Diagnose func(ctx context.Context) upstream.Diagnosis
	// Kerberos returns the Kerberos module in use, nil when none (or
	// Kerberos itself nil).
	Kerberos func() *delegation.Delegator
	// Audit is the audit log switched by `audit on|off` (AUD-11); nil: none.
	Audit   *audit.Logger
	Alerts  *alerts.Service // the alert viewer (ALR-04..06); nil: none
	LogCtl  *logControls    // the Sentry log `ctl log` switches (LOG-03..07); nil: none
	Token   string          // bearer token every request must carry
	Metrics http.Handler    // served at /metrics behind the same token; nil for none
	Now     func() time.Time
	// ConfigVersion is the version of the UEM configuration in use (0:
	// none yet), so that a caller who changed it at the UEM can tell
	// when the gateway applies it; nil: not reported.
	ConfigVersion func() int64

	// AuditFile is the audit log's path, read by GET audit/entries; "": none.
	AuditFile string
	// MICS is the MICS log switch (LOG-01, GET/PUT log/mics); nil: none.
	MICS *micsLog
	// ClearConfig is Clear Configuration (CFG-03, POST config/clear): it
	// asks for a restart with the default local settings; nil: refused.
	ClearConfig func() error
	// LocalConfigFile keeps the run-time local settings across restarts
	// (localpersist.go); "": they live in memory only.
	LocalConfigFile string
	// InitLogFile keeps the init-log setting for the next start (LOG-09); "": none.
	InitLogFile string
	// GCLogFile keeps the gc-log setting for the next start (LOG-10); "": none.
	GCLogFile string
}

// Handler returns the admin API.
func Handler(d Deps) http.Handler {
	if d.Now == nil {
		d.Now = time.Now
	}
	a := &api{d: d}
	mux := httpapi.NewMux()
	mux.HandleFunc("GET "+Prefix+"device-cache", a.dump)
	mux.HandleFunc("GET "+Prefix+"device-cache/device/{id}", a.byDevice)
	mux.HandleFunc("GET "+Prefix+"device-cache/user/{id}", a.byUser)
	mux.HandleFunc("GET "+Prefix+"device-cache/entry/{tunnel}/{user}", a.entry)
	mux.HandleFunc("GET "+Prefix+"device-cache/min-connection/{n}", a.minConnection)
	mux.HandleFunc("GET "+Prefix+"device-cache/validation-pending/{yesno}", a.validationPending)
	mux.HandleFunc("GET "+Prefix+"device-cache/status", a.cacheStatus)
	mux.HandleFunc("POST "+Prefix+"device-cache/purge", a.purge)
	mux.HandleFunc("POST "+Prefix+"device-cache/to-disk", a.toDisk)
	mux.HandleFunc("POST "+Prefix+"device-cache/from-disk", a.fromDisk)
	mux.HandleFunc("POST "+Prefix+"device-cache/from-uem", a.fromUEM)
	mux.HandleFunc("POST "+Prefix+"clear-redirect-url", a.clearRedirect)
	mux.HandleFunc("PUT "+Prefix+"emm-fail-open", a.failOpen)
	mux.HandleFunc("GET "+Prefix+"status", a.status)
	a.logRoutes(mux) // the audit and Sentry log switches
	mux.HandleFunc("GET "+Prefix+"alerts", a.alertsList)
	mux.HandleFunc("POST "+Prefix+"verify", a.verify)
	a.statsRoutes(mux)    // statistics.go
	a.diagnoseRoutes(mux) // diagnose.go
	a.configRoutes(mux)   // localconfig.go
	mux.HandleFunc("GET "+Prefix+"servers", a.servers)
	mux.HandleFunc("POST "+Prefix+"servers/verify", a.verifyEAS)
	mux.HandleFunc("GET "+Prefix+"crl-cache", a.crlList)
	mux.HandleFunc("POST "+Prefix+"crl-cache/purge", a.crlPurge)
	mux.HandleFunc("GET "+Prefix+"kerberos", a.kerberosShow)
	mux.HandleFunc("GET "+Prefix+"kerberos/cache", a.kerberosCache)
	mux.HandleFunc("GET "+Prefix+"kerberos/cache/upn/{upn}", a.kerberosCacheUPN)
	mux.HandleFunc("POST "+Prefix+"kerberos-cache/purge", a.kerberosPurge)
	mux.HandleFunc("POST "+Prefix+"kerberos/kdc", a.kerberosKDC)
	mux.HandleFunc("POST "+Prefix+"kerberos/init", a.kerberosInit)
	if d.Metrics != nil {
		mux.Handle("GET /metrics", d.Metrics)
	}
	// Profiles for load tests (go tool pprof with the token in a header),
	// behind the same token: they reveal memory contents and cost CPU.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return a.authenticate(mux)
}

type api struct{ d Deps }

// maxBody bounds admin request bodies.
const maxBody = 64 << 10

func (a *api) authenticate(next http.Handler) http.Handler {
	limited := httplimit.Body(maxBody, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !httpapi.BearerMatches(r.Header, a.d.Token) { // none configured: nothing matches
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse admin"`)
			writeErr(w, http.StatusUnauthorized, errors.New("missing or wrong admin token"))
			return
		}
		limited.ServeHTTP(w, r) // a body over maxBody: 413
	})
}

// rows collects the entries matching keep, in a stable order (user, then
// device), numbered from 1 as the CLI numbers them.
func (a *api) rows(keep func(devicecache.Entry) bool) []Entry {
	var es []devicecache.Entry
	a.d.Cache.Range(func(e devicecache.Entry) bool {
		if keep(e) {
			es = append(es, e)
		}
		return true
	})
	sort.Slice(es, func(i, j int) bool {
		if es[i].User != es[j].User {
			return es[i].User < es[j].User
		}
		if es[i].DeviceID != es[j].DeviceID {
			return es[i].DeviceID < es[j].DeviceID
		}
		return es[i].App < es[j].App
	})
	out := make([]Entry, len(es))
	for i, e := range es {
		out[i] = toEntry(i+1, e)
	}
	return out
}

func toEntry(i int, e devicecache.Entry) Entry {
	vs := "N"
	if e.Validated {
		vs = "Y"
	}
	app := "ActiveSync/" + e.DeviceID
	if !e.ActiveSync() {
		app = e.App
	}
	return Entry{
		Index: i, User: e.User, State: string(rune(e.State)), Validated: vs, Connections: e.Connections,
		Version: e.ProtocolVersion, Time: e.LastSeen, Application: app,
		TunnelID: strings.ToLower(e.DeviceID), DeviceID: e.DeviceID, Wiped: e.Wiped, Policy: e.Policy, RedirectURL: e.RedirectURL,
	}
}

func (a *api) dump(w http.ResponseWriter, r *http.Request) {
	kind := r.URL.Query().Get("kind")
	var keep func(devicecache.Entry) bool
	switch kind {
	case "", "all":
		keep = func(devicecache.Entry) bool { return true }
	case "active-sync":
		keep = func(e devicecache.Entry) bool { return e.ActiveSync() }
	case "app-tunnel":
		keep = func(e devicecache.Entry) bool { return !e.ActiveSync() }
	default:
		writeErr(w, http.StatusBadRequest, fmt.Errorf("kind %q: want all, active-sync or app-tunnel", kind))
		return
	}
	writeJSON(w, a.rows(keep))
}

func (a *api) byDevice(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	writeJSON(w, a.rows(func(e devicecache.Entry) bool { return strings.Contains(e.DeviceID, id) }))
}

func (a *api) byUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	writeJSON(w, a.rows(func(e devicecache.Entry) bool {
		return anySpelling(id, func(u string) bool { return strings.Contains(e.User, u) })
	}))
}

func (a *api) entry(w http.ResponseWriter, r *http.Request) {
	tunnel, user := r.PathValue("tunnel"), r.PathValue("user")
	rows := a.rows(func(e devicecache.Entry) bool {
		return strings.EqualFold(e.DeviceID, tunnel) && anySpelling(user, func(u string) bool { return e.User == u })
	})
	if len(rows) == 0 {
		writeErr(w, http.StatusNotFound, fmt.Errorf("no entry for tunnel %s and user %s", tunnel, user))
		return
	}
	writeJSON(w, rows)
}

func (a *api) minConnection(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.ParseUint(r.PathValue("n"), 10, 32)
	if err != nil {
		writeErr(w, http.StatusBadRequest, fmt.Errorf("min-connection: %q is not a count", r.PathValue("n")))
		return
	}
	writeJSON(w, a.rows(func(e devicecache.Entry) bool { return uint64(e.Connections) >= n }))
}

func (a *api) validationPending(w http.ResponseWriter, r *http.Request) {
	var pending bool
	switch r.PathValue("yesno") {
	case "yes":
		pending = true
	case "no":
	default:
		writeErr(w, http.StatusBadRequest, errors.New("validation-pending takes yes or no"))
		return
	}
	writeJSON(w, a.rows(func(e devicecache.Entry) bool { return !e.Validated == pending }))
}

func (a *api) cacheStatus(w http.ResponseWriter, r *http.Request) {
	var st CacheStatus
	a.d.Cache.Range(func(e devicecache.Entry) bool {
		st.InMemory++
		if e.ActiveSync() {
			st.ActiveSync++
		} else {
			st.AppTunnel++
		}
		if !e.Validated {
			st.ValidationPend++
		}
		return true
	})
	st.Peak, st.PeakTime = a.d.Cache.Peak()
	if a.d.Store != nil {
		ps, err := a.d.Store.Status()
		if err != nil {
			writeErr(w, http.StatusInternalServerError, err)
			return
		}
		st.Persistent, st.PersistentSaved = ps.Entries, ps.SavedAt
	}
	writeJSON(w, st)
}

// target is the body of purge and clear-redirect-url: all, or one entry.
type target struct {
	All      bool   `json:"all"`
	DeviceID string `json:"device_id"`
	User     string `json:"user"`
}

func readTarget(w http.ResponseWriter, r *http.Request) (target, bool) {
	var t target
	if err := decodeBody(r, &t); err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return t, false
	}
	if !t.All && (t.DeviceID == "" || t.User == "") {
		writeErr(w, http.StatusBadRequest, errors.New(`give "all": true, or both "device_id" and "user"`))
		return t, false
	}
	return t, true
}

func (a *api) purge(w http.ResponseWriter, r *http.Request) {
	t, ok := readTarget(w, r)
	if !ok {
		return
	}
	if t.All {
		n := a.d.Cache.Purge()
		writeJSON(w, Count{Count: n, Message: fmt.Sprintf("Purged device-cache. Number of devices removed: %d", n)})
		return
	}
	// DC-22: one entry; its next access is a first access again.
	n := 0
	for _, u := range spellings(t.User) {
		if a.d.Cache.Delete(devicecache.Key{DeviceID: t.DeviceID, User: u}) {
			n++
		}
		if a.d.Stats != nil {
			a.d.Stats.Forget(t.DeviceID, u)
		}
	}
	writeJSON(w, Count{Count: n})
}

func (a *api) toDisk(w http.ResponseWriter, r *http.Request) {
	if a.d.Store == nil {
		writeErr(w, http.StatusConflict, errors.New("no persistent device list configured"))
		return
	}
	n, err := a.d.Store.Save(a.d.Cache)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, Count{Count: n, Message: fmt.Sprintf("Wrote device-cache to disk. Number of devices written: %d", n)})
}

func (a *api) fromDisk(w http.ResponseWriter, r *http.Request) {
	if a.d.Store == nil {
		writeErr(w, http.StatusConflict, errors.New("no persistent device list configured"))
		return
	}
	n, err := a.d.Store.Load(a.d.Cache)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, Count{Count: n, Message: fmt.Sprintf("Restored device-cache from disk. Number of devices restored: %d", n)})
}

func (a *api) fromUEM(w http.ResponseWriter, r *http.Request) {
	n, err := a.d.Link.ReloadFromUEM(r.Context())
	if err != nil {
		writeErr(w, http.StatusBadGateway, err)
		return
	}
	writeJSON(w, Count{Count: n, Message: fmt.Sprintf("Loaded and updated device-cache from Ivanti EPMM. Number of devices loaded: %d", n)})
}

func (a *api) clearRedirect(w http.ResponseWriter, r *http.Request) {
	t, ok := readTarget(w, r)
	if !ok {
		return
	}
	n := 0
	clear := func(k devicecache.Key) {
		if _, changed := a.d.Cache.Update(k, func(e *devicecache.Entry, exists bool) bool {
			if !exists || e.RedirectURL == "" {
				return false
			}
			e.RedirectURL = ""
			return true
		}); changed {
			n++
		}
	}
	if t.All {
		var keys []devicecache.Key
		a.d.Cache.Range(func(e devicecache.Entry) bool {
			if e.RedirectURL != "" {
				keys = append(keys, e.Key)
			}
			return true
		})
		for _, k := range keys {
			clear(k)
		}
	} else {
		for _, u := range spellings(t.User) {
			clear(devicecache.Key{DeviceID: t.DeviceID, User: u})
		}
	}
	writeJSON(w, Count{Count: n})
}

func (a *api) failOpen(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Allow *bool `json:"allow"`
	}
	if err := decodeBody(r, &body); err != nil || body.Allow == nil {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"allow": true|false}`))
		return
	}
	a.d.Link.SetFailOpen(*body.Allow, uemsync.ByCLI)
	if a.saved(w) {
		a.status(w, r)
	}
}

func (a *api) status(w http.ResponseWriter, r *http.Request) {
	s := a.d.Link.Status()
	state := UEMNotConnected
	switch {
	case s.Refusal != "":
		state = UEMError
	case s.Connected:
		state = UEMConnected
	}
	writeJSON(w, Status{
		EMMServerType: "Ivanti EPMM", Connected: s.Connected, UEMState: state, Reason: s.Refusal, ReasonSince: s.RefusedSince,
		LastChangeBy: s.LastChangeBy, LastChange: s.LastChange,
		CurrentTime: a.d.Now(), LastSuccessful: s.LastSuccess, LastFailed: s.LastFailure, NextScheduled: s.NextCheck,
		FailOpen: s.FailOpen, FailOpenChangedBy: s.FailOpenChangedBy, FailOpenChangedAt: s.FailOpenChangedAt, LastError: s.LastError,
		ConfigVersion: a.configVersion(),
	})
}

func (a *api) configVersion() int64 {
	if a.d.ConfigVersion == nil {
		return 0
	}
	return a.d.ConfigVersion()
}

// verify is the Service Diagnosis "Verify" on the UEM (SVD-03, FO-06).
func (a *api) verify(w http.ResponseWriter, r *http.Request) {
	_ = a.d.Link.Check(r.Context(), uemsync.ByVerify)
	a.status(w, r)
}

func counters(vs []stats.Value) []Counter {
	out := make([]Counter, len(vs))
	for i, v := range vs {
		out[i] = Counter{Name: v.Name, Value: v.Value}
	}
	return out
}

func (a *api) crlList(w http.ResponseWriter, r *http.Request) {
	if a.d.CRLs == nil {
		writeJSON(w, []deviceauth.CRLInfo{})
		return
	}
	writeJSON(w, a.d.CRLs.List())
}

// crlPurge is `crl-cache purge <crl-id>` (DA-10); "all" empties the cache.
func (a *api) crlPurge(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ID string `json:"id"`
	}
	if err := decodeBody(r, &body); err != nil || body.ID == "" {
		writeErr(w, http.StatusBadRequest, usage(err, `body must be {"id": "<crl-id>" or "all"}`))
		return
	}
	n := 0
	if a.d.CRLs != nil {
		n = a.d.CRLs.Purge(body.ID)
	}
	writeJSON(w, Count{Count: n, Message: fmt.Sprintf("Purged %d CRL(s) from the cache.", n)})
}

// servers is `show sentry server status`: each ActiveSync service and the
// state of its servers (ASC-11 to ASC-14).
func (a *api) servers(w http.ResponseWriter, r *http.Request) {
	if a.d.Servers == nil {
		writeJSON(w, []upstream.ServiceStatus{})
		return
	}
	writeJSON(w, a.d.Servers())
}

// verifyEAS is Service Diagnosis "Verify" on EAS (SVD-01, SVD-02).
func (a *api) verifyEAS(w http.ResponseWriter, r *http.Request) {
	if a.d.Diagnose == nil {
		writeJSON(w, upstream.Diagnosis{Service: "EAS", Date: a.d.Now(), Status: "Not Performed", Message: "Sentry not configured."})
		return
	}
	writeJSON(w, a.d.Diagnose(r.Context()))
}
