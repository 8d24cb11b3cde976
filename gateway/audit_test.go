package gateway_test

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// auditLines returns the audit log's JSON entries.
func (w *world) auditLines() []map[string]any {
	w.t.Helper()
	if _, err := w.adm.FlushAudit(context.Background()); err != nil { // the log writes in batches
		w.t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(w.dataDir, "audit.log"))
	if err != nil {
		w.t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		_, js, ok := strings.Cut(line, " SENTRY_AUDIT: INFO ")
		if !ok {
			w.t.Fatalf("audit line not in the examples' form: %q", line)
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(js), &e); err != nil {
			w.t.Fatalf("audit line %q: %v", line, err)
		}
		out = append(out, e)
	}
	return out
}

func keys(e map[string]any) []string {
	var ks []string
	for k := range e {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// AUD-05, AUD-09, AUD-10 through real traffic: the ActiveSync example's
// field sets exactly (REQUEST without sentry*, RESPONSE without
// deviceType, serviceName, requestUrl, httpMethod, action), and the
// RESPONSE's sentryHost/sentryPort are the device listener the request
// came in on, its sentryAddress the gateway's address towards the server.
func TestAUD05ResponseCarriesTheListenerThroughRealTraffic(t *testing.T) {
	w := newWorld(t, func(w *world) { w.gwBoot = func(c *gateway.Config) { c.Audit = true } })
	if code, _ := w.device("ALICEPHONE", "alice", eas.CmdFolderSync); code == 0 {
		t.Fatal("no answer")
	}
	var req, resp map[string]any
	for _, e := range w.auditLines() {
		if e["deviceId"] != "ALICEPHONE" {
			continue
		}
		switch e["entryType"] {
		case "REQUEST":
			req = e
		case "RESPONSE":
			resp = e
		}
	}
	if req == nil || resp == nil {
		t.Fatal("no REQUEST/RESPONSE pair for the device")
	}
	wantReq := []string{"action", "clientHost", "clientPort", "deviceId", "deviceType", "entryId", "entryType", "httpMethod", "publishTime",
		"requestUrl", "serverHost", "serverPort", "serviceName", "serviceType", "usecaseId", "userId"}
	wantResp := []string{"clientHost", "clientPort", "deviceId", "entryId", "entryType", "httpStatus", "publishTime", "sentryAddress",
		"sentryHost", "sentryPort", "serverHost", "serverPort", "serviceType", "usecaseId", "userId"}
	if got := keys(req); !slices.Equal(got, wantReq) {
		t.Errorf("REQUEST fields %v, want the example's %v", got, wantReq)
	}
	if got := keys(resp); !slices.Equal(got, wantResp) {
		t.Errorf("RESPONSE fields %v, want the example's %v", got, wantResp)
	}
	u, _ := url.Parse(w.gw.DeviceURL())
	host, port, _ := net.SplitHostPort(u.Host)
	p, _ := strconv.Atoi(port)
	if resp["sentryHost"] != host || resp["sentryPort"] != float64(p) || resp["sentryAddress"] != "127.0.0.1" {
		t.Errorf("RESPONSE sentryHost %v sentryPort %v sentryAddress %v; want the device listener %s:%d and 127.0.0.1", resp["sentryHost"], resp["sentryPort"], resp["sentryAddress"], host, p)
	}
	if req["serviceType"] != "ACTIVE_SYNC" || req["serviceName"] != "ActiveSync" || req["requestUrl"] != "/Microsoft-Server-ActiveSync" ||
		req["httpMethod"] != "POST" || req["usecaseId"] != resp["usecaseId"] || req["entryId"] != "E-"+strings.TrimPrefix(req["usecaseId"].(string), "U-") {
		t.Errorf("REQUEST values differ from the example's: %v", req)
	}
	if resp["httpStatus"] != "200" {
		t.Errorf("RESPONSE httpStatus %v, want \"200\"", resp["httpStatus"])
	}
}

// AUD-11: the audit log is switched at run time through the admin API
// (`ctl audit on|off`), from the bootstrap state (off here).
func TestAUD11AuditSwitchedAtRunTime(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	count := func() int {
		if _, err := w.adm.FlushAudit(ctx); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(filepath.Join(w.dataDir, "audit.log"))
		return strings.Count(string(data), "SENTRY_AUDIT")
	}
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	if st, err := w.adm.Audit(ctx); err != nil || st.Enabled || count() != 0 {
		t.Fatalf("audit off at start: %+v %v, %d lines", st, err, count())
	}
	if st, err := w.adm.SetAudit(ctx, true); err != nil || !st.Enabled {
		t.Fatalf("audit on: %+v %v", st, err)
	}
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	on := count()
	if on != 2 {
		t.Fatalf("%d audit lines for one request with audit on, want REQUEST and RESPONSE", on)
	}
	if _, err := w.adm.SetAudit(ctx, false); err != nil {
		t.Fatal(err)
	}
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	if count() != on {
		t.Fatalf("audit lines written after audit off")
	}
}
