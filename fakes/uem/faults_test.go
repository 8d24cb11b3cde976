package uem

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestFaults_DownRefusesThenRecovers(t *testing.T) {
	w := newWorld(t, Config{})
	ctx := context.Background()
	if err := w.srv.SetFaults(Faults{Down: true}); err != nil {
		t.Fatal(err)
	}
	_, err := w.client.Connectivity(ctx)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("down: %v, want connection refused", err)
	}
	// The admin API is not affected.
	if p := w.srv.Preferences(); p.DefaultPolicyBehavior == "" {
		t.Fatal("admin state lost")
	}
	if st, _ := rawCall(t, w.hc, "GET", w.srv.AdminURL()+"/admin/v1/faults", w.srv.AdminToken(), nil); st != 200 {
		t.Fatalf("admin while down: %d", st)
	}
	if err := w.srv.SetFaults(Faults{}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.client.Connectivity(ctx); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestFaults_HangUntilCleared(t *testing.T) {
	w := newWorld(t, Config{})
	must0(t, w.srv.SetFaults(Faults{Hang: true}))
	const patience = 150 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	// Held, not refused: only the caller's own deadline ends the call.
	c, err := w.client.Connectivity(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hang: answered %+v, %v; want the caller's deadline", c, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := w.client.Connectivity(context.Background())
		done <- err
	}()
	must0(t, w.srv.SetFaults(Faults{}))
	if err := <-done; err != nil {
		t.Fatalf("released request: %v", err)
	}
}

func TestFaults_Latency(t *testing.T) {
	w := newWorld(t, Config{})
	must0(t, w.srv.SetFaults(Faults{LatencyMs: 120}))
	start := time.Now()
	if _, err := w.client.Connectivity(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 120*time.Millisecond {
		t.Fatalf("answered after %v, want ≥ 120ms", d)
	}
	mustCode(t, w.srv.SetFaults(Faults{LatencyMs: -1}), uemapi.CodeInvalidField)
	mustCode(t, w.srv.SetFaults(Faults{ErrorRate: 1.5}), uemapi.CodeInvalidField)
}

func TestFaults_ErrorRate(t *testing.T) {
	w := newWorld(t, Config{FaultSeed: 7})
	must0(t, w.srv.SetFaults(Faults{ErrorRate: 0.5}))
	failed := 0
	for range 60 {
		if _, err := w.client.Connectivity(context.Background()); err != nil {
			mustCode(t, err, uemapi.CodeUnavailable)
			failed++
		}
	}
	if failed < 10 || failed > 50 {
		t.Fatalf("%d of 60 failed at rate 0.5", failed)
	}
}

func TestFaults_OneWayPartitions(t *testing.T) {
	w, rcv := notifyWorld(t, 2)
	ctx := context.Background()
	// Gateway → UEM cut: requests fail, notifications still flow.
	must0(t, w.srv.SetFaults(Faults{PartitionGatewayToUEM: true}))
	if _, err := w.client.Connectivity(ctx); err == nil {
		t.Fatal("request crossed the partition")
	}
	w.srv.RegenerateKey()
	eventually(t, "notification across the open direction", func() bool { _, ok := rcv.find(uemapi.NotifyKey); return ok })

	// UEM → gateway cut: pushes fail, requests are served.
	must0(t, w.srv.SetFaults(Faults{PartitionUEMToGateway: true}))
	if _, err := w.client.Connectivity(ctx); err != nil {
		t.Fatalf("request under UEM→gateway partition: %v", err)
	}
	n := len(rcv.received())
	w.srv.RegenerateKey()
	eventually(t, "entry error", func() bool { return must[GatewayEntry](t)(w.srv.Gateway("gw1")).Status == "Error" })
	if len(rcv.received()) != n {
		t.Fatal("push crossed the partition")
	}
}

func TestFaults_DropNotifications(t *testing.T) {
	w, rcv := notifyWorld(t, 2)
	must0(t, w.srv.SetFaults(Faults{DropNotifications: true}))
	w.srv.RegenerateKey()
	eventually(t, "dropped delivery", func() bool { d, ok := deliveryOf(w.srv, uemapi.NotifyKey); return ok && d.Status == DeliveryDropped })
	if len(rcv.received()) != 0 {
		t.Fatal("dropped notification arrived")
	}
}

func must0(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFaults_DownBeforeStart(t *testing.T) {
	srv, err := New(Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	must0(t, srv.SetFaults(Faults{Down: true}))
	must0(t, srv.Start(context.Background()))
	defer srv.Shutdown(context.Background())
	must[GatewayEntry](t)(srv.AddGateway(GatewayEntry{ID: "gw1", Host: "127.0.0.1", Token: testToken}))
	c, _ := uemapi.NewClient(srv.GatewayURL(), testToken, uemapi.WithHTTPClient(trustingClient(srv)))
	if _, err := c.Connectivity(context.Background()); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("down before start: %v", err)
	}
	must0(t, srv.SetFaults(Faults{}))
	if _, err := c.Connectivity(context.Background()); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
}

func TestFaults_AuthStatusRefusesTheGateway(t *testing.T) {
	w := newWorld(t, Config{})
	for _, status := range []int{401, 403} {
		must0(t, w.srv.SetFaults(Faults{AuthStatus: status}))
		_, err := w.client.Connectivity(context.Background())
		var ae *uemapi.Error
		if !errors.As(err, &ae) || ae.Status != status {
			t.Fatalf("auth_status %d: got %v, want an API error with HTTP %d", status, err, status)
		}
		// The admin API is not affected.
		if st, _ := rawCall(t, w.hc, "GET", w.srv.AdminURL()+"/admin/v1/faults", w.srv.AdminToken(), nil); st != 200 {
			t.Fatalf("admin under auth_status %d: %d", status, st)
		}
	}
	must0(t, w.srv.SetFaults(Faults{}))
	if _, err := w.client.Connectivity(context.Background()); err != nil {
		t.Fatalf("after clearing: %v", err)
	}
	mustCode(t, w.srv.SetFaults(Faults{AuthStatus: 500}), uemapi.CodeInvalidField)
}
