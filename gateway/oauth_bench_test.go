package gateway_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// TestOAUBenchBearerVsBasic measures, in one run with the rounds
// interleaved, FolderSync throughput and latency with Basic and with
// bearer tokens, through the gateway and straight to Exchange (the
// difference is the gateway's added latency). Off by default:
//
//	GATEHOUSE_OAUTH_BENCH=1 go test -run TestOAUBenchBearerVsBasic -count=1 -v ./gateway/
//
// GATEHOUSE_OAUTH_BENCH_REQS (per round and mode, default 400) and
// GATEHOUSE_OAUTH_BENCH_WORKERS (default 8) size it.
func TestOAUBenchBearerVsBasic(t *testing.T) {
	if os.Getenv("GATEHOUSE_OAUTH_BENCH") == "" {
		t.Skip("benchmark: set GATEHOUSE_OAUTH_BENCH=1")
	}
	reqs, workers := envInt("GATEHOUSE_OAUTH_BENCH_REQS", 400), envInt("GATEHOUSE_OAUTH_BENCH_WORKERS", 8)
	o := newOAuthWorld(t)
	_, tok := o.gatewaySignIn(t, "alice")
	basic := "Basic " + basicB64("alice", "alice-pw")
	bearer := "Bearer " + tok.AccessToken
	o.provisionBearer("BENCHBEARER", bearer)
	o.keys["BENCHBASIC"] = ""
	o.provision("BENCHBASIC", "alice")
	body, _ := wbxml.MarshalStruct(&eas.FolderSyncRequest{SyncKey: "0"})
	// Straight to Exchange from the gateway's address (conditional access
	// trusts it), with the policy keys the gateway's Provision handed out
	// (Exchange partnered the same devices through the gateway).
	modes := []struct {
		name, base, dev, auth string
	}{
		{"gateway basic", o.gw.DeviceURL(), "BENCHBASIC", basic},
		{"gateway bearer", o.gw.DeviceURL(), "BENCHBEARER", bearer},
		{"direct basic", o.exch.URL(), "BENCHBASIC", basic},
		{"direct bearer", o.exch.URL(), "BENCHBEARER", bearer},
	}
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: o.hc.Transport.(*http.Transport).TLSClientConfig, MaxIdleConnsPerHost: workers}}
	lat := make([][]time.Duration, len(modes))
	busy := make([]time.Duration, len(modes))
	for round := 0; round < 5; round++ {
		for i, m := range modes {
			key := o.keys[m.dev]
			d, took := runRound(t, hc, m.base, m.dev, m.auth, key, body, reqs, workers)
			lat[i] = append(lat[i], d...)
			busy[i] += took
		}
	}
	t.Logf("%d rounds x %d FolderSyncs per mode, %d workers, modes interleaved; machine shared (loaded)", 5, reqs, workers)
	t.Logf("%-15s %10s %10s %10s %10s", "mode", "req/s", "p50", "p90", "p99")
	for i, m := range modes {
		slices.Sort(lat[i])
		n := len(lat[i])
		t.Logf("%-15s %10.0f %10v %10v %10v", m.name, float64(n)/busy[i].Seconds(), lat[i][n/2].Round(time.Microsecond),
			lat[i][n*9/10].Round(time.Microsecond), lat[i][n*99/100].Round(time.Microsecond))
	}
}

func runRound(t *testing.T, hc *http.Client, base, dev, auth, key string, body []byte, n, workers int) ([]time.Duration, time.Duration) {
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: "alice", DeviceID: dev, DeviceType: "iPhone"}
	url := base + "/Microsoft-Server-ActiveSync?" + q.Encode(false)
	var mu sync.Mutex
	var out []time.Duration
	var wg sync.WaitGroup
	jobs := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		jobs <- struct{}{}
	}
	close(jobs)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Authorization", auth)
				req.Header.Set(eas.HeaderProtocolVersion, "14.1")
				req.Header.Set(eas.HeaderPolicyKey, key)
				req.Header.Set("Content-Type", eas.ContentTypeWBXML)
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				d := time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s %s: %d", base, dev, resp.StatusCode)
					return
				}
				mu.Lock()
				out = append(out, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out, time.Since(start)
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func basicB64(user, pw string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, pw)
	return r.Header.Get("Authorization")[len("Basic "):]
}
