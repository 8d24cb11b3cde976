package apptunnel

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// tunnelCounters are the AppTunnel counters of the statistics CSV.
func tunnelCounters() []stats.Counter {
	var out []stats.Counter
	for _, c := range stats.Counters() {
		if c >= stats.TunnelsOpened && c <= stats.TunnelBytesDown {
			out = append(out, c)
		}
	}
	return out
}

// STA-01/STA-05 (per device and user) and STA-11 (the CSV files) for
// tunnels (issue 21): every tunnel counter counts on tunnel traffic, in
// the (device UUID, user) row and the global sums; a refusal before the
// app is authenticated counts in the global sum only.
func TestSTA01EveryTunnelCounterCountsPerDeviceAndGlobally(t *testing.T) {
	w := newWorld(t)
	echo := echoServer(t)
	w.configure(func(at *uemapi.AppTunnelConfig, _ *uemapi.TrafficControl) {
		at.Services[1].HostWildcards = "*.corp.example;127.0.0.1"
	})
	// HTTP: a request with a body, relayed (opened, bytes up and down).
	c := w.dial(false)
	body := "hello tunnel"
	resp, _ := w.send(c, "POST http://"+w.backendHostPort()+"/p HTTP/1.1\r\nHost: "+w.backendHostPort()+"\r\n"+HeaderAppID+": com.a\r\nContent-Length: "+itoa(len(body))+"\r\nConnection: close\r\n\r\n"+body)
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || len(got) == 0 {
		t.Fatalf("POST through the tunnel: %d", resp.StatusCode)
	}
	// CONNECT to a TCP echo: 5 bytes each way.
	c = w.dial(false)
	resp, br := w.send(c, "CONNECT "+echo+" HTTP/1.1\r\nHost: "+echo+"\r\n"+HeaderAppID+": com.a\r\n\r\n")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT: %d", resp.StatusCode)
	}
	if _, err := io.WriteString(c, "ping!"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping!" {
		t.Fatalf("echo: %q %v", buf, err)
	}
	c.Close()
	// Refused after authentication (outside the wildcard), and before it (no certificate).
	if code, why, _ := w.get("http://intranet.other.example/", app("com.a")); code != http.StatusForbidden || why != string(ReasonOutsideWildcard) {
		t.Fatalf("outside the wildcard: %d %q", code, why)
	}
	resp, _ = w.send(w.dial(true), "GET http://x.corp.example/ HTTP/1.1\r\nHost: x.corp.example\r\n"+HeaderAppID+": com.a\r\n\r\n")
	if resp.StatusCode != http.StatusProxyAuthRequired {
		t.Fatalf("no certificate: %d", resp.StatusCode)
	}
	g := gomega.NewWithT(t)
	g.Eventually(func() map[string]uint64 {
		out := map[string]uint64{}
		if d, ok := w.stats.Lookup(testUUID, "alice@corp.example"); ok {
			for _, ctr := range tunnelCounters() {
				out["device "+ctr.String()] = d.Get(ctr)
			}
		}
		for _, ctr := range tunnelCounters() {
			out["global "+ctr.String()] = w.stats.GlobalValue(ctr)
		}
		return out
	}).WithTimeout(10*time.Second).Should(gomega.And(
		gomega.HaveKeyWithValue("device tunnels-opened", uint64(2)),
		gomega.HaveKeyWithValue("device tunnels-refused", uint64(1)),
		gomega.HaveKeyWithValue("global tunnels-refused", uint64(2)),
		gomega.HaveKeyWithValue("device tunnel-bytes-up", uint64(len(body)+5)),
		gomega.HaveKeyWithValue("device tunnel-bytes-down", gomega.BeNumerically(">", 5)),
		gomega.HaveKeyWithValue("global tunnel-bytes-down", gomega.BeNumerically(">", 5))),
		"tunnel counters per (device UUID, user) and globally")
	// The CSV rows carry them by name (STA-11).
	var csv bytes.Buffer
	if err := stats.WriteDevices(&csv, w.stats, time.Now()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(csv.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "tunnels-opened,tunnels-refused,tunnel-bytes-up,tunnel-bytes-down") || !strings.Contains(lines[1], testUUID+",alice@corp.example") {
		t.Fatalf("all-device-stats.csv:\n%s", csv.String())
	}
	if h := strings.Join(stats.GlobalHeader(), ","); !strings.Contains(h, "tunnels-opened") {
		t.Fatalf("global-stats.csv header lacks the tunnel counters: %s", h)
	}
}
