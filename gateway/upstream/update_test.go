package upstream

import (
	"context"
	"net/http"
	"testing"
	"time"
)

func TestUpdateKeepsTheHealthOfUnchangedServers(t *testing.T) {
	a, b, c := newExchange(t, "a", false), newExchange(t, "b", false), newExchange(t, "c", false)
	clk := newClock()
	r := newRouter(t, asConfig(service("default", a, b)), defaultMgmt(), defaultTimeouts(), Options{Now: clk.Now})
	a.kill()
	for range 5 {
		r.CheckNow(context.Background())
	}
	if serverStatus(t, r, "default", a.addr()).Reachable {
		t.Fatal("a not dead")
	}
	bBefore := serverStatus(t, r, "default", b.addr())

	// The UEM pushes a configuration: a new server and service, new timeouts.
	to := defaultTimeouts()
	to.ServerResponseMs = 30000
	if err := r.Update(asConfig(service("default", a, b, c), service("eas2.example.com", c)), defaultMgmt(), to); err != nil {
		t.Fatal(err)
	}
	if st := serverStatus(t, r, "default", a.addr()); st.Reachable || st.FailureCount != 5 {
		t.Fatalf("a after Update = %+v, want still dead with its 5 failures", st)
	}
	if st := serverStatus(t, r, "default", b.addr()); st.LastSuccess != bBefore.LastSuccess || !st.Reachable {
		t.Fatalf("b lost its state: %+v", st)
	}
	if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "b" {
		t.Fatalf("went to %q, want b (a still dead)", body)
	}
	if _, body := mustDo(t, r, easRequest("eas2.example.com", "Sync", "")); body != "c" {
		t.Fatalf("new service went to %q", body)
	}

	// Dropping a server and listing it again starts it afresh.
	r.Update(asConfig(service("default", b)), defaultMgmt(), to)
	r.Update(asConfig(service("default", a, b)), defaultMgmt(), to)
	if st := serverStatus(t, r, "default", a.addr()); !st.Reachable || st.FailureCount != 0 {
		t.Fatalf("re-added a = %+v, want fresh", st)
	}
}

func TestUpdateDoesNotDropRequestsInFlight(t *testing.T) {
	a, b := newExchange(t, "a", false), newExchange(t, "b", false)
	started, release := make(chan struct{}), make(chan struct{})
	a.setHandler(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		w.Write([]byte("a-late"))
	})
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), defaultTimeouts(), Options{})
	type result struct {
		body string
		err  error
	}
	done := make(chan result)
	go func() {
		_, body, err := do(t, r, easRequest("gw", "Sync", "x"))
		done <- result{body, err}
	}()
	<-started
	if err := r.Update(asConfig(service("default", b)), defaultMgmt(), defaultTimeouts()); err != nil {
		t.Fatal(err)
	}
	if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "b" {
		t.Fatalf("new request went to %q after Update", body)
	}
	close(release)
	select {
	case res := <-done:
		if res.err != nil || res.body != "a-late" {
			t.Fatalf("in-flight request: %q, %v", res.body, res.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("in-flight request never finished")
	}
}

func TestUpdateRejectsAnInvalidConfigurationAndKeepsTheOld(t *testing.T) {
	a := newExchange(t, "a", false)
	r := newRouter(t, asConfig(service("default", a)), defaultMgmt(), defaultTimeouts(), Options{})
	m := defaultMgmt()
	m.DeadTimeMs = 0
	if err := r.Update(asConfig(service("default", a)), m, defaultTimeouts()); err == nil {
		t.Fatal("invalid dead time accepted")
	}
	if _, body := mustDo(t, r, easRequest("gw", "Sync", "")); body != "a" {
		t.Fatalf("old configuration lost: %q", body)
	}
}
