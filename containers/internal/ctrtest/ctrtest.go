// Package ctrtest holds the container tests' shared checks.
package ctrtest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/gatehouse-lab/gatehouse/containers"
	"github.com/gatehouse-lab/gatehouse/containers/internal/ctr"
	"github.com/gatehouse-lab/gatehouse/internal/peers"
)

// Main sets up the environment of a container test binary and runs it:
// call it from TestMain so that examples get it too. It disables Ryuk,
// which cannot be pulled without a registry (tests terminate what they
// start), and with a local engine points Testcontainers at 127.0.0.1: a
// machine that was itself built as a Docker image keeps /.dockerenv, and
// Testcontainers then looks for mapped ports at the default gateway.
func Main(m *testing.M) {
	if os.Getenv("TESTCONTAINERS_RYUK_DISABLED") == "" {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	if h := os.Getenv("DOCKER_HOST"); os.Getenv("TESTCONTAINERS_HOST_OVERRIDE") == "" && (h == "" || strings.HasPrefix(h, "unix://")) {
		os.Setenv("TESTCONTAINERS_HOST_OVERRIDE", "127.0.0.1")
	}
	os.Exit(m.Run())
}

// NeedDocker skips the test loudly when no Docker engine answers, saying
// how to start one; under GATEHOUSE_REQUIRE_PEERS=1 (.ci/run) it fails.
func NeedDocker(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err == nil {
		_, err = cli.Ping(ctx, client.PingOptions{})
		cli.Close()
	}
	if err != nil {
		peers.Missing(t, "docker.io", fmt.Sprintf("no Docker engine answers (%v): the container tests need one; run .ci/docker-up.sh, then ci/image-build.sh", err))
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

// Image is the gatehouse image the tests run: GATEHOUSE_IMAGE, default
// containers.DefaultImage (what ci/image-build.sh builds).
func Image() string {
	if img := os.Getenv("GATEHOUSE_IMAGE"); img != "" {
		return img
	}
	return containers.DefaultImage
}
