package gateway_test

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// BenchmarkInitFromUEM measures FLOW-10 at capacity: the gateway's start-up
// load of every registered allowed device from the fake UEM over HTTPS on
// loopback, into an empty device cache.
//
//	go test -run '^$' -bench InitFromUEM -benchtime 1x ./gateway/
//
// GATEHOUSE_INIT_DEVICES changes the fleet size (default 1,000,000).
func BenchmarkInitFromUEM(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_INIT_DEVICES")); err == nil && v > 0 {
		n = v
	}
	const token = "bench-gateway-token-0123456789"
	srv, err := uem.New(uem.Config{GatewayAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler),
		Seed: &uem.Seed{
			Gateways: []uem.SeedGateway{{ID: "gw1", Host: "127.0.0.1", Token: token}},
			Generate: &uem.Generate{Devices: n, Seed: 1, Gateway: "gw1"},
		}})
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	client, err := uemapi.NewClient(srv.GatewayURL(), token, uemapi.WithHTTPClient(&http.Client{
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool(), MinVersion: tls.VersionTLS12}}}))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		runtime.GC()
		cache := devicecache.New(nil)
		link, err := uemsync.New(uemsync.Config{UEM: client, Cache: cache, CallTimeout: time.Minute, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := link.Init(context.Background())
		if err != nil || !res.FromUEM || res.Loaded != n || cache.Len() != n {
			b.Fatalf("init: %+v %v (cache %d)", res, err, cache.Len())
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "devices/s")
	}
}
