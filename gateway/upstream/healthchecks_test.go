package upstream

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

func TestASC13_DeadServerIsLiveAgainAfterLiveThresholdHealthyChecks(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	clk := newClock()
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now})
	ctx := context.Background()
	a.kill()
	// ASC-14: health-check failures count towards Dead Threshold too.
	for range 5 {
		r.CheckNow(ctx)
	}
	if serverStatus(t, r, "default", a.addr()).Reachable {
		t.Fatal("a not Unreachable after 5 failed checks")
	}
	if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "b" {
		t.Fatalf("dead a got traffic: %q", body)
	}
	a.revive(t)
	clk.Advance(60 * time.Second) // Dead Time over, but checks must agree
	for i := range 2 {
		r.CheckNow(ctx)
		if serverStatus(t, r, "default", a.addr()).Reachable {
			t.Fatalf("a Reachable after %d healthy checks, want 3 (Live Threshold)", i+1)
		}
	}
	r.CheckNow(ctx)
	if st := serverStatus(t, r, "default", a.addr()); !st.Reachable || st.State() != "Reachable" {
		t.Fatalf("a after 3 healthy checks = %+v", st)
	}
	if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "a" {
		t.Fatalf("revived a got no traffic: %q", body)
	}
}

func TestASC13_AFailedCheckRestartsTheLiveCount(t *testing.T) {
	a := newExchange(t, "a", false)
	clk := newClock()
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now})
	ctx := context.Background()
	fail := true
	a.setHandler(func(w http.ResponseWriter, r *http.Request) {
		if fail {
			w.WriteHeader(http.StatusServiceUnavailable) // 5xx: a failed check
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	for range 5 {
		r.CheckNow(ctx)
	}
	clk.Advance(time.Minute)
	fail = false
	r.CheckNow(ctx)
	r.CheckNow(ctx)
	fail = true
	r.CheckNow(ctx)
	fail = false
	r.CheckNow(ctx)
	r.CheckNow(ctx)
	if serverStatus(t, r, "default", a.addr()).Reachable {
		t.Fatal("live after 2+2 healthy checks split by a failure")
	}
	r.CheckNow(ctx)
	if !serverStatus(t, r, "default", a.addr()).Reachable {
		t.Fatal("not live after 3 healthy checks in a row")
	}
}

func TestASC26_HealthCheckAnswered401IsLiveAndCountsHcStatistics(t *testing.T) {
	a := newExchange(t, "a", false)
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), defaultTimeouts(), Options{})
	for range 6 {
		r.CheckNow(context.Background())
	}
	if st := serverStatus(t, r, "default", a.addr()); !st.Reachable || st.LastSuccess.IsZero() || st.FailureCount != 0 {
		t.Fatalf("server answering 401 = %+v, want Live", st)
	}
	got := map[string]uint64{}
	for _, v := range r.ServerReport() {
		got[v.Name] = v.Value
	}
	for name, want := range map[string]uint64{
		"hc-connections": 6, "hc-http-requests": 6, "hc-http-responses": 6,
		"hc-http-status-401": 6, "hc-http-status-200": 0, "hc-err-conn-timeout": 0,
	} {
		if got[name] != want {
			t.Errorf("%s = %d, want %d", name, got[name], want)
		}
	}
	if got["hc-bytes-sent"] == 0 || got["hc-bytes-rcvd"] == 0 {
		t.Errorf("bytes not counted: %v", got)
	}
	if names := r.ServerReport(); names[0].Name != "hc-connections" || names[len(names)-1].Name != "hc-http-status-other" || len(names) != 14 {
		t.Errorf("report order = %v", names)
	}
	if f := stats.Filter(r.ServerReport(), "err"); len(f) != 3 {
		t.Errorf("filter err = %v, want the 3 hc-err-* lines", f)
	}
}

func TestASC26_HealthCheckErrorsAreClassified(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	// Far apart, so that on a loaded machine the hanging dial still ends on
	// the connect timer and the stalled server's connect still beats it.
	to := defaultTimeouts()
	to.ServerConnectMs = 1000
	to.SocketReadWriteMs = 3000
	stall := make(chan struct{})
	t.Cleanup(func() { close(stall) })
	b.setHandler(func(w http.ResponseWriter, r *http.Request) { <-stall })
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), to, Options{DialContext: hangingDialer(a.addr())})
	r.CheckNow(context.Background())
	rep := map[string]uint64{}
	for _, v := range r.ServerReport() {
		rep[v.Name] = v.Value
	}
	if rep["hc-err-conn-timeout"] != 1 || rep["hc-err-so-timeout"] != 1 {
		t.Fatalf("report = %v, want one connect and one socket timeout", rep)
	}
}

func TestASC12_RunChecksEveryInterval(t *testing.T) {
	a := newExchange(t, "a", false)
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), defaultTimeouts(), Options{HealthInterval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	gomega.NewWithT(t).Eventually(func() uint64 { return r.ServerReport()[hcHTTPResponses].Value }).WithTimeout(20*time.Second).
		Should(gomega.BeNumerically(">=", 3), "3 checks")
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run = %v", err)
	}
}

func TestASC24_ServiceWithHealthCheckOffIsNotChecked(t *testing.T) {
	a := newExchange(t, "a", false)
	svc := service("default", a)
	svc.HealthCheck.Enabled = false
	r := newRouter(t, asConfig(svc), defaultMgmt(), defaultTimeouts(), Options{})
	r.CheckNow(context.Background())
	if n := r.ServerReport()[hcConnections].Value; n != 0 {
		t.Fatalf("hc-connections = %d", n)
	}
}

func TestASC06_HealthCheckSpeaksTLSToServerTLSServers(t *testing.T) {
	a := newExchange(t, "a", true)
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), defaultTimeouts(), Options{}, a)
	r.CheckNow(context.Background())
	rep := r.ServerReport()
	if rep[hcHTTPStatus401].Value != 1 || rep[hcUnclassified].Value != 0 {
		t.Fatalf("report = %v", rep)
	}
	if st := serverStatus(t, r, "default", a.addr()); st.LastSuccess.IsZero() {
		t.Fatalf("TLS check not a success: %+v", st)
	}
}
