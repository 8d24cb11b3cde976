package gateway_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway"
	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// sentryLog returns the Sentry log's lines.
func (w *world) sentryLog() []string {
	w.t.Helper()
	data, err := os.ReadFile(filepath.Join(w.dataDir, gateway.SentryLogFile))
	if err != nil {
		w.t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

func linesWith(lines []string, subs ...string) (n int) {
	for _, l := range lines {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, s)
		}
		if all {
			n++
		}
	}
	return n
}

// noSecrets fails when a line carries the device's password (in clear or
// inside a Basic header) or the policy key.
func noSecrets(t *testing.T, lines []string, secrets ...string) {
	t.Helper()
	for _, l := range lines {
		for _, s := range secrets {
			if s != "" && strings.Contains(l, s) {
				t.Fatalf("a log line carries a credential %q: %s", s, l)
			}
		}
	}
}

// LOG-02, LOG-04, LOG-08 through real traffic: the log is off at start;
// level 1 has the request and status lines of both sides, level 2 adds
// the headers, level 3 the WBXML content; credentials never appear.
func TestLOG02LevelsThroughRealTraffic(t *testing.T) {
	w := newWorld(t)
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	if got := w.sentryLog(); len(got) != 0 {
		t.Fatalf("log is on by default: %q", got)
	}
	logs := w.gw.SentryLog()
	if err := logs.Enable(logctl.Both); err != nil {
		t.Fatal(err)
	}
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	l1 := w.sentryLog()
	if linesWith(l1, "device > POST /Microsoft-Server-ActiveSync?", "DeviceId=ALICEPHONE") != 1 || linesWith(l1, "device < 200 OK") != 1 ||
		linesWith(l1, "server > POST https://") != 1 || linesWith(l1, "server < 200") != 1 {
		t.Fatalf("level 1 lines:\n%s", strings.Join(l1, "\n"))
	}
	if linesWith(l1, "Authorization") != 0 || linesWith(l1, "content:") != 0 {
		t.Fatalf("level 1 logs headers or content:\n%s", strings.Join(l1, "\n"))
	}
	for _, lv := range []logctl.Level{logctl.Level2, logctl.Level3} {
		if err := logs.SetLevel(lv); err != nil {
			t.Fatal(err)
		}
		w.provision("ALICEPHONE", "alice")
		w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	}
	all := w.sentryLog()
	if linesWith(all, "device > Authorization: [redacted]") == 0 || linesWith(all, "server > Authorization: [redacted]") == 0 ||
		linesWith(all, "X-Ms-Policykey: [redacted]") == 0 {
		t.Fatalf("level 2 headers missing or not redacted:\n%s", strings.Join(all, "\n"))
	}
	if linesWith(all, "content: <FolderSync") == 0 || linesWith(all, "<PolicyKey>[redacted]</PolicyKey>") == 0 {
		t.Fatalf("level 3 content missing or not redacted:\n%s", strings.Join(all, "\n"))
	}
	key := w.keys["ALICEPHONE"]
	if len(key) < 6 {
		t.Fatalf("policy key %q too short to look for", key)
	}
	noSecrets(t, all, "alice-pw", base64.StdEncoding.EncodeToString([]byte("alice:alice-pw")), ">"+key+"<", ": "+key)
	// LOG-08: a restart brings the defaults back.
	w.stopGateway()
	w.startGateway(false)
	if s := w.gw.SentryLog().Settings(); s.Enabled || s.Level != logctl.Level1 || s.Direction != logctl.Both {
		t.Fatalf("settings after a restart: %+v", s)
	}
	before := len(w.sentryLog())
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	if after := len(w.sentryLog()); after != before {
		t.Fatalf("%d lines logged after a restart, with the log back off", after-before)
	}
}

// LOG-03, LOG-05, LOG-06 through real traffic: direction device leaves
// the server side out; filters keep a request's lines when ANY enabled
// filter matches, with its tag in the line; other devices are dropped.
func TestLOG06FiltersAreAnORAndTagTheLine(t *testing.T) {
	w := newWorld(t)
	logs := w.gw.SentryLog()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(logs.Enable(logctl.Device))
	must(logs.AddFilter(logctl.Filter{Tag: "AlicesPhone", Type: "device-id", Value: "ALICEPHONE"}))
	must(logs.AddFilter(logctl.Filter{Tag: "Alice", Type: "user-id", Value: "ALICE"}))
	must(logs.AddFilter(logctl.Filter{Tag: "Local", Type: "device-ip", Value: "192.0.2.1"}))
	w.device("ALICEPHONE", "alice", eas.CmdFolderSync)
	w.device("BOBPHONE", "bob", eas.CmdFolderSync)
	got := w.sentryLog()
	if linesWith(got, "[AlicesPhone,Alice] device > POST", "ALICEPHONE") != 1 || linesWith(got, "[AlicesPhone,Alice] device < ") != 1 {
		t.Fatalf("alice's lines not kept with both tags:\n%s", strings.Join(got, "\n"))
	}
	if linesWith(got, "BOBPHONE") != 0 || linesWith(got, "server ") != 0 {
		t.Fatalf("bob's lines or server lines kept:\n%s", strings.Join(got, "\n"))
	}
	// A disabled filter has no effect; deleting a tag deletes its filters.
	logs.SetFiltersEnabled("AlicesPhone", false)
	if n := logs.DeleteFilters("Alice"); n != 1 {
		t.Fatalf("deleted %d filters tagged Alice", n)
	}
	must(logs.AddFilter(logctl.Filter{Tag: "Bob", Type: "service-name", Value: "ActiveSync"}))
	must(logs.Enable(logctl.Server))
	w.device("BOBPHONE", "bob", eas.CmdFolderSync)
	got = w.sentryLog()
	if linesWith(got, "[Bob] server > POST", "BOBPHONE") != 1 || linesWith(got, "[Bob] device") != 0 || linesWith(got, "AlicesPhone] server") != 0 {
		t.Fatalf("after the changes:\n%s", strings.Join(got, "\n"))
	}
}
