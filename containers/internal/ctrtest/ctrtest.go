// Package ctrtest holds the container tests' shared checks.
package ctrtest

import (
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
)

// NeedDocker fails the test (it never skips) when no Docker engine
// answers, saying how to start one. It also disables Ryuk, which cannot
// be pulled without a registry; tests clean up with CleanupContainer.
// With a local engine it points Testcontainers at 127.0.0.1: a machine
// that was itself built as a Docker image keeps /.dockerenv, and
// Testcontainers then looks for the ports at the default gateway.
func NeedDocker(t testing.TB) {
	t.Helper()
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && os.Getenv("DOCKER_HOST") == "" {
		t.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		_, err = cli.Ping(ctx, client.PingOptions{})
		cli.Close()
	}
	if err != nil {
		t.Fatalf("Docker is not available (%v): the container tests need a Docker engine; run ci/docker-up.sh, then ci/image-build.sh", err)
	}
}

// Expect sends one request with a bearer token and fails the test unless
// the status is want.
func Expect(t testing.TB, method, url, token string, want int) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: ctr.InsecureTLS()}}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d", method, url, resp.StatusCode, want)
	}
	return resp
}
