package gateway_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// blockDevice has the UEM block a device the gateway then knows as blocked.
func (w *world) blockDevice(dev, user string) {
	w.t.Helper()
	w.provision(dev, user)
	a := w.association(dev, user)
	w.uemAdmin(http.MethodPost, "/associations/"+a["id"].(string)+"/actions", map[string]string{"action": "block", "note": "n"}, nil)
	gomega.NewWithT(w.t).Eventually(func() bool { _, st := w.device(dev, user, eas.CmdSync); return st == "129" }).WithTimeout(20*time.Second).Should(gomega.BeTrue(), dev+" blocked")
}

// onDiskState reads the persistent device list as a restarted gateway
// would and returns the state of one device (ok false: not in the list).
func (w *world) onDiskState(dev, user string) (devicecache.State, bool) {
	w.t.Helper()
	store, err := devicecache.OpenStore(filepath.Join(w.dataDir, "devices.db"))
	if err != nil {
		w.t.Fatal(err)
	}
	defer store.Close()
	c := devicecache.New(nil)
	if _, err := store.Load(c); err != nil {
		w.t.Fatal(err)
	}
	st, _, ok := c.State(devicecache.Key{DeviceID: dev, User: user})
	return st, ok
}

// A gateway that never loaded its device cache must not write it: the
// empty cache would replace the persistent list, and a restart with the
// UEM down would then let a known-blocked device in as a new one (DC-03).
// The lab stops a gateway whose Start failed exactly this way.
func TestDC03_AFailedStartKeepsThePersistentList(t *testing.T) {
	w := newWorld(t)
	w.blockDevice("BOBPHONE", "bob")
	w.stopGateway()
	if st, ok := w.onDiskState("BOBPHONE", "bob"); !ok || st != devicecache.Blocked {
		t.Fatalf("before: BOBPHONE on disk %v (present %v)", st, ok)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	for _, tc := range []struct {
		name string
		run  func(*gateway.Server) error // what happens between New and Shutdown
		boot func(*gateway.Config)
	}{
		{name: "never started", run: func(*gateway.Server) error { return nil }},
		{name: "listened only", run: func(gw *gateway.Server) error { return gw.Listen() }},
		{
			name: "start failed, device port taken",
			boot: func(c *gateway.Config) { c.Listen = taken.Addr().String() },
			run: func(gw *gateway.Server) error {
				if err := gw.Start(context.Background()); err == nil {
					return errors.New("Start succeeded on a port in use")
				}
				if err := gw.Start(context.Background()); err == nil {
					return errors.New("a failed gateway started again")
				}
				return nil
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := w.bootConfig()
			if tc.boot != nil {
				tc.boot(&cfg)
			}
			gw, err := gateway.New(cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.run(gw); err != nil {
				t.Error(err)
			}
			if err := gw.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := gw.Shutdown(context.Background()); err != nil {
				t.Errorf("second Shutdown: %v", err)
			}
			if err := gw.Listen(); !errors.Is(err, gateway.ErrStopped) {
				t.Errorf("Listen after Shutdown = %v, want ErrStopped", err)
			}
			if st, ok := w.onDiskState("BOBPHONE", "bob"); !ok || st != devicecache.Blocked {
				t.Fatalf("after %s: BOBPHONE on disk is %v (present %v), want blocked", tc.name, st, ok)
			}
		})
	}

	// The list survived: a restart with the UEM down keeps the device out.
	w.setFaults(uem.Faults{Down: true})
	w.startGateway(false)
	if code, st := w.device("BOBPHONE", "bob", eas.CmdSync); st != "129" {
		t.Fatalf("known-blocked device after a failed start and a restart with the UEM down: %d %q", code, st)
	}
}

// uemGate stands between the gateway and the fake UEM: it can answer 503
// (the UEM is down) and hold the first device list request until the
// gateway gives up on it.
type uemGate struct {
	*httptest.Server
	down, hold atomic.Bool
	entered    chan struct{} // the held request arrived
	gaveUp     chan struct{} // the gateway cancelled it
	once       sync.Once
	closed     atomic.Bool  // set once the gateway has shut down
	late       atomic.Int32 // requests after that
}

func newUEMGate(t *testing.T, target string) *uemGate {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // the fake UEM's test certificate
	rp.ErrorLog = nil
	g := &uemGate{entered: make(chan struct{}), gaveUp: make(chan struct{})}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if g.closed.Load() {
			g.late.Add(1)
		}
		if g.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		if g.hold.Load() && r.Method == http.MethodGet && r.URL.Path == uemapi.PathDevices {
			held := false
			g.once.Do(func() { held = true })
			if held {
				close(g.entered)
				<-r.Context().Done()
				close(g.gaveUp)
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(g.Close)
	return g
}

// The reconnect work a device request sets off when the UEM comes back is
// the gateway's: Shutdown cancels its UEM calls and waits for it, and
// nothing reaches the UEM once Shutdown has returned.
func TestShutdownEndsTheReconnectWork(t *testing.T) {
	var gate *uemGate
	w := newWorld(t, func(w *world) {
		w.gwBoot = func(c *gateway.Config) {
			if gate == nil {
				gate = newUEMGate(t, w.uem.GatewayURL())
			}
			c.UEM.URL = gate.URL
		}
	})
	gate.down.Store(true)
	w.provision("NEWPHONE", "alice")
	if code, st := w.device("NEWPHONE", "alice", eas.CmdFolderSync); code != http.StatusOK || st != "1" {
		t.Fatalf("fail-open access: %d %q", code, st)
	}
	gate.down.Store(false)
	gate.hold.Store(true)
	w.device("OTHERPHONE", "bob", eas.CmdFolderSync) // finds the UEM back
	select {
	case <-gate.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the reconnect work did not ask for the device list")
	}
	w.stopGateway()
	gate.closed.Store(true)
	select {
	case <-gate.gaveUp:
	case <-time.After(20 * time.Second):
		t.Fatal("Shutdown returned and the reconnect work's device list request is still waiting")
	}
	if n := gate.late.Load(); n != 0 {
		t.Fatalf("%d UEM requests after Shutdown returned", n)
	}
}

// logBuffer collects a logger's output for a test, safe for the
// gateway's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The configuration kept in the data directory is used only when it
// passes the same validation as a document from the UEM: a damaged or
// tampered file is refused whole, with an error naming the problem, and
// the gateway runs on its bootstrap settings.
func TestCachedConfigurationIsValidatedBeforeUse(t *testing.T) {
	w := newWorld(t)
	w.stopGateway()
	path := filepath.Join(w.dataDir, "uem-config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w.setFaults(uem.Faults{Down: true})
	hsts := func(edit func(cfg map[string]any)) (header, logs string) {
		t.Helper()
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		edit(doc["config"].(map[string]any))
		b, _ := json.Marshal(doc)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		var lb logBuffer
		cfg := w.bootConfig()
		cfg.Upstream = "https://" + w.exch.Addr() // the bootstrap server, on loopback
		gw, err := gateway.New(cfg, slog.New(slog.NewTextHandler(&lb, nil)))
		if err != nil {
			t.Fatal(err)
		}
		defer gw.Shutdown(context.Background())
		if err := gw.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodOptions, gw.DeviceURL()+"/Microsoft-Server-ActiveSync", nil)
		resp, err := w.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Strict-Transport-Security"), lb.String()
	}
	tls := func(cfg map[string]any) map[string]any {
		m, _ := cfg["tls"].(map[string]any)
		if m == nil {
			m = map[string]any{}
			cfg["tls"] = m
		}
		return m
	}
	// A sound kept document is used: HSTS from it shows.
	if h, logs := hsts(func(cfg map[string]any) { tls(cfg)["hsts"] = true }); h == "" {
		t.Fatalf("a valid kept configuration was not used (no HSTS header); log:\n%s", logs)
	}
	// The same with a field out of range is refused whole.
	h, logs := hsts(func(cfg map[string]any) {
		tls(cfg)["hsts"] = true
		cfg["server_management"].(map[string]any)["dead_threshold"] = 0
	})
	if h != "" {
		t.Errorf("part of an invalid kept configuration was applied (HSTS %q)", h)
	}
	if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "server_management.dead_threshold") {
		t.Errorf("no error naming the bad field; log:\n%s", logs)
	}
	// Not JSON at all: refused, said so, the gateway still starts.
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	var lb logBuffer
	gw, err := gateway.New(w.bootConfig(), slog.New(slog.NewTextHandler(&lb, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	gw.Shutdown(context.Background())
	if !strings.Contains(lb.String(), "level=ERROR") || !strings.Contains(lb.String(), "cached configuration") {
		t.Errorf("a corrupt kept configuration was not reported; log:\n%s", lb.String())
	}
}
