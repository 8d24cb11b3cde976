package admin

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync/uemsynctest"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

type env struct {
	c     *Client
	cache *devicecache.Cache
	link  *uemsync.Link
	uem   *uemsynctest.FakeUEM
	stats *stats.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	cache := devicecache.New(nil)
	store, err := devicecache.OpenStore(filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	u := uemsynctest.New()
	link, err := uemsync.New(uemsync.Config{UEM: u, Cache: cache, Store: store, FailOpen: true, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	reg := stats.NewRegistry()
	srv := httptest.NewTLSServer(Handler(Deps{Cache: cache, Store: store, Link: link, Stats: reg, Peaks: &stats.Peaks{}, Token: "tok"}))
	t.Cleanup(srv.Close)
	return &env{c: NewClient(srv.URL, "tok", srv.Client()), cache: cache, link: link, uem: u, stats: reg}
}

func TestTokenIsRequired(t *testing.T) {
	e := newEnv(t)
	bad := NewClient(e.c.base, "wrong", e.c.hc)
	if _, err := bad.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong token: %v", err)
	}
	if _, err := NewClient(e.c.base, "", e.c.hc).PurgeAll(context.Background()); err == nil {
		t.Fatal("no token accepted")
	}
}

func TestDeviceCacheReports(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	seen := time.Date(2015, 8, 27, 18, 30, 57, 0, time.UTC)
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "0V55EEVSRT5UVFA05AUBLF904S", User: "testuser3351"}, State: devicecache.Allowed, Validated: true, ProtocolVersion: "14.1", LastSeen: seen, Connections: 3})
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "Appl7S032TF7A4S", User: "testuser2674"}, State: devicecache.Blocked, Validated: true})
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "NEWDEV", User: "testuser2674"}, State: devicecache.Allowed})
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "uuid-1", User: "testuser3351", App: "com.ivanti.securebrowser"}, State: devicecache.Allowed, Validated: true})

	for _, tc := range []struct {
		name string
		call func() ([]Entry, error)
		want int
	}{
		{"DC-10 all", func() ([]Entry, error) { return e.c.Dump(ctx, "all") }, 4},
		{"DC-10 active-sync", func() ([]Entry, error) { return e.c.Dump(ctx, "active-sync") }, 3},
		{"DC-10 app-tunnel", func() ([]Entry, error) { return e.c.Dump(ctx, "app-tunnel") }, 1},
		{"DC-12 partial device", func() ([]Entry, error) { return e.c.ByDevice(ctx, "0V55") }, 1},
		{"DC-13 partial user", func() ([]Entry, error) { return e.c.ByUser(ctx, "2674") }, 2},
		{"DC-11 entry by tunnel id", func() ([]Entry, error) { return e.c.Entry(ctx, "0v55eevsrt5uvfa05aublf904s", "testuser3351") }, 1},
		{"DC-14 min-connection", func() ([]Entry, error) { return e.c.MinConnection(ctx, 2) }, 1},
		{"DC-15 validation pending", func() ([]Entry, error) { return e.c.ValidationPending(ctx, true) }, 1},
	} {
		got, err := tc.call()
		if err != nil || len(got) != tc.want {
			t.Errorf("%s: %d rows (%v), want %d", tc.name, len(got), err, tc.want)
		}
	}
	if _, err := e.c.Dump(ctx, "bogus"); err == nil {
		t.Error("unknown kind accepted")
	}
	rows, _ := e.c.ByDevice(ctx, "0V55")
	var buf bytes.Buffer
	RenderEntries(&buf, rows)
	out := buf.String()
	for _, want := range []string{
		"S: Tunnel State {A:Allowed, B:Blocked, P:Policy Pending, W:Wipe Pending}",
		"Vs: EMM Validation State {Y:validated, N:not-validated}",
		"testuser3351", "2015-08-27 18:30:57 GMT", "ActiveSync/0V55EEVSRT5UVFA05AUBLF904S 0v55eevsrt5uvfa05aublf904s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestPersistenceCommandsPrintTheSeedsMessages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "A", User: "u"}, State: devicecache.Allowed, Validated: true})
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "B", User: "u"}, State: devicecache.Blocked, Validated: true})
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "F", User: "u"}, State: devicecache.Allowed}) // fail-open
	c, err := e.c.ToDisk(ctx)
	if err != nil || c.Message != "Wrote device-cache to disk. Number of devices written: 2" {
		t.Fatalf("DC-17: %+v %v", c, err)
	}
	if c, _ := e.c.PurgeAll(ctx); c.Count != 3 || e.cache.Len() != 0 {
		t.Fatalf("DC-21 purge all: %+v", c)
	}
	e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: "A", User: "u"}, State: devicecache.Allowed, Validated: true})
	c, err = e.c.FromDisk(ctx)
	if err != nil || c.Message != "Restored device-cache from disk. Number of devices restored: 1" {
		t.Fatalf("DC-18: %+v %v", c, err)
	}
	e.uem.Set("L1", "u", uemapi.StateAllowed, "")
	e.uem.Set("L2", "u", uemapi.StateAllowed, "")
	c, err = e.c.FromUEM(ctx)
	if err != nil || c.Message != "Loaded and updated device-cache from Ivanti EPMM. Number of devices loaded: 2" {
		t.Fatalf("DC-19: %+v %v", c, err)
	}
	st, err := e.c.CacheStatus(ctx)
	if err != nil || st.InMemory != 4 || st.Persistent != 2 || st.Peak != 4 {
		t.Fatalf("DC-16 status %+v %v", st, err)
	}
}

func TestPurgeEntryMakesTheNextAccessAFirstAccess(t *testing.T) {
	// DC-22 with FLOW-11.
	e := newEnv(t)
	ctx := context.Background()
	e.link.Access(ctx, uemsync.DeviceRequest{DeviceID: "D", User: "u"})
	if c, err := e.c.PurgeEntry(ctx, "D", "u"); err != nil || c.Count != 1 {
		t.Fatalf("purge entry %+v %v", c, err)
	}
	if o := e.link.Access(ctx, uemsync.DeviceRequest{DeviceID: "D", User: "u"}); !o.FirstAccess {
		t.Fatal("next access after purge was not a first access")
	}
	if len(e.uem.Reports()) != 2 {
		t.Fatalf("UEM saw %d reports, want 2", len(e.uem.Reports()))
	}
}

func TestFailOpenSwitchAndStatus(t *testing.T) {
	// FO-04, FO-05.
	e := newEnv(t)
	ctx := context.Background()
	st, err := e.c.SetFailOpen(ctx, false)
	if err != nil || st.FailOpen || st.FailOpenChangedBy != uemsync.ByCLI {
		t.Fatalf("no emm-fail-open: %+v %v", st, err)
	}
	e.uem.SetDown(true)
	st, err = e.c.Verify(ctx)
	if err != nil || st.Connected || st.LastChangeBy != uemsync.ByVerify || st.LastFailed.IsZero() {
		t.Fatalf("verify with UEM down: %+v %v", st, err)
	}
	var buf bytes.Buffer
	RenderStatus(&buf, st)
	for _, want := range []string{"EMM server type : Ivanti EPMM", "Connectivity to Ivanti EPMM: Not Connected",
		"Last connectivity change detected by : Service diagnosis verify", "Last successful : Never", "EMM server fail-open status : Block"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestStatisticsEndpoints(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.stats.Device("D", "u").Add(stats.HTTPStatus401, 16)
	got, err := e.c.StatsEntry(ctx, "D", "u", "http-status")
	if err != nil || len(got) != 6 {
		t.Fatalf("entry filtered: %v %v", got, err)
	}
	if _, err := e.c.StatsEntry(ctx, "X", "u", ""); err == nil {
		t.Fatal("unknown device has statistics")
	}
	g, _ := e.c.StatsGlobalDevice(ctx, "401")
	var buf bytes.Buffer
	RenderCounters(&buf, g)
	if buf.String() != "http-status-401 = 16\n" {
		t.Fatalf("global device: %q", buf.String())
	}
	p, err := e.c.StatsGlobalSystem(ctx, "device-cache")
	if err != nil || len(p) != 1 || p[0].Name != "peak-device-cache-size" {
		t.Fatalf("system peaks %v %v", p, err)
	}
}

func TestClearRedirect(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, d := range []string{"A", "B"} {
		e.cache.Put(devicecache.Entry{Key: devicecache.Key{DeviceID: d, User: "u"}, State: devicecache.Allowed, Validated: true, RedirectURL: "https://mail2/"})
	}
	if c, _ := e.c.ClearRedirect(ctx, false, "A", "u"); c.Count != 1 {
		t.Fatalf("entry: %+v", c)
	}
	if c, _ := e.c.ClearRedirect(ctx, true, "", ""); c.Count != 1 {
		t.Fatalf("all: %+v", c)
	}
	if _, err := e.c.ClearRedirect(ctx, false, "", ""); err == nil {
		t.Fatal("empty target accepted")
	}
}

func TestProfilesNeedTheToken(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		auth string
		want int
	}{{"", 401}, {"Bearer wrong", 401}, {"Bearer tok", 200}} {
		req, _ := http.NewRequest(http.MethodGet, e.c.base+"/debug/pprof/goroutine?debug=1", nil)
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		resp, err := e.c.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%q: status %d, want %d", tc.auth, resp.StatusCode, tc.want)
		}
		if tc.want == 200 && !bytes.Contains(body, []byte("goroutine profile")) {
			t.Errorf("profile body: %.100s", body)
		}
	}
}

func TestStatusShowsTheUEMRefusingTheGateway(t *testing.T) {
	// Issue 18: a UEM refusing the gateway's credentials is an error state
	// with its reason, in the JSON and in the `ctl status` table; the
	// seed's lines are unchanged.
	e := newEnv(t)
	ctx := context.Background()
	if st, err := e.c.Verify(ctx); err != nil || st.UEMState != UEMConnected || st.Reason != "" {
		t.Fatalf("verify: %+v %v", st, err)
	}
	e.uem.SetFailure(&uemapi.Error{Status: 401, Code: uemapi.CodeUnauthorized, Message: "unknown gateway token"})
	if o := e.link.Access(ctx, uemsync.DeviceRequest{DeviceID: "NEW", User: "u"}); !o.Blocked || o.FailOpen {
		t.Fatalf("new device while refused: %+v", o)
	}
	st, err := e.c.Status(ctx)
	if err != nil || st.UEMState != UEMError || st.Reason != "uem refused the gateway's credentials (401)" || st.ReasonSince.IsZero() || !st.Connected {
		t.Fatalf("status while refused: %+v %v", st, err)
	}
	var buf bytes.Buffer
	if err := RenderStatus(&buf, st); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Connectivity to Ivanti EPMM: Connected", "EMM server status : Error",
		"EMM server error : uem refused the gateway's credentials (401)", "EMM server fail-open status : Allow"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, buf.String())
		}
	}
	e.uem.SetFailure(nil)
	st, err = e.c.Verify(ctx)
	if err != nil || st.UEMState != UEMConnected || st.Reason != "" {
		t.Fatalf("after the UEM accepts the gateway: %+v %v", st, err)
	}
	buf.Reset()
	RenderStatus(&buf, st)
	if strings.Contains(buf.String(), "EMM server error") {
		t.Fatalf("error line without an error:\n%s", buf.String())
	}
}
