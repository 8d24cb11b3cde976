package integrated

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	fakeex "github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/internal/loopback"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// knownKeys are the partnerships the connector holds, sorted.
func (w *world) knownKeys() []string {
	w.conn.mu.Lock()
	defer w.conn.mu.Unlock()
	var out []string
	for k := range w.conn.known {
		out = append(out, k.user+"/"+k.device)
	}
	sort.Strings(out)
	return out
}

// TestBadInputFailsOrResumesCleanly: a management API that answers
// garbage, hangs mid-batch or repeats a page fails the sync with a reason
// naming the batch; the next attempt resumes and ends with every device
// exactly once.
func TestBadInputFailsOrResumesCleanly(t *testing.T) {
	for _, tc := range []struct {
		kind, why string
		after     int
	}{
		{fakeex.PageGarbage, "decoding the answer", 2},           // a mailbox page
		{fakeex.PageHang, "context deadline exceeded", 6},        // the second device page
		{fakeex.PageDuplicate, "already listed in this sync", 6}, // a device page repeated
		{fakeex.PageDuplicate, "already listed in this sync", 1}, // a mailbox page repeated
		{fakeex.PageError, "batch failed (injected)", 8},         // the last device page
	} {
		t.Run(tc.kind+"_after_"+strconv.Itoa(tc.after), func(t *testing.T) {
			w := newWorld(t)
			if tc.kind == fakeex.PageHang {
				w.conn.cfg.CallTimeout = 300 * time.Millisecond // the hung page times out
			}
			g := w.ex.Management()
			g.Populate("p", 10, 1, nil, w.clk.now())
			var want []string
			for i := 1; i <= 10; i++ {
				want = append(want, "p"+strconv.Itoa(i)+"/p"+strconv.Itoa(i)+"-d1")
			}
			sort.Strings(want)
			if err := g.SetFaults(fakeex.MgmtFaults{Page: &fakeex.PageFault{Kind: tc.kind, After: tc.after}}); err != nil {
				t.Fatal(err)
			}
			err := w.sync(Full)
			if err == nil || !strings.Contains(err.Error(), tc.why) || !strings.Contains(err.Error(), "batch") {
				t.Fatalf("first attempt: %v, want it to say %q and name the batch", err, tc.why)
			}
			w.conn.cfg.CallTimeout = 10 * time.Second
			w.mustSync(Full)
			if got := w.knownKeys(); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("devices after resuming:\n got %v\nwant %v", got, want)
			}
			for _, k := range want {
				u, d, _ := strings.Cut(k, "/")
				if w.device(u, d).AccessStateReason != exmgmt.ReasonIndividual {
					t.Fatalf("%s: the UEM's decision did not reach Exchange", k)
				}
			}
		})
	}
}

func TestBadInputGarbageFailsTheDifferential(t *testing.T) {
	w := newWorld(t)
	w.mustSync(Full)
	_ = w.ex.Management().SetFaults(fakeex.MgmtFaults{Page: &fakeex.PageFault{Kind: fakeex.PageGarbage}})
	err := w.sync(Differential)
	if err == nil || !strings.Contains(err.Error(), "changed mailboxes, batch 1") {
		t.Fatalf("%v", err)
	}
}

func TestBadInputACursorThatLoopsIsRefused(t *testing.T) {
	p := newProgress()
	p.advance("3", phaseDevices)
	if err := p.checkCursor("3"); err == nil {
		t.Fatal("a next cursor equal to the current one must be refused")
	}
	p.advance("6", phaseDevices)
	if err := p.checkCursor("3"); err == nil {
		t.Fatal("a next cursor already visited must be refused")
	}
	if err := p.checkCursor(""); err != nil {
		t.Fatal(err)
	}
}

func TestINT09ManualResyncIsDroppedWhileOneRuns(t *testing.T) {
	w := newWorld(t, withConfig(func(c *Config) { c.CallTimeout = time.Minute }))
	_ = w.ex.Management().SetFaults(fakeex.MgmtFaults{Page: &fakeex.PageFault{Kind: fakeex.PageHang}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.conn.Sync(ctx, Full) }()
	eventually(t, "a sync runs", func() bool { return w.conn.State().Running == Full })
	if err := w.conn.Resync(Differential); !errors.Is(err, ErrSyncRunning) {
		t.Fatalf("Resync while one runs: %v", err)
	}
	req := httptest.NewRequest(http.MethodPost, PathResync, strings.NewReader(`{"kind":"full"}`))
	req.Header.Set("Authorization", "Bearer ctl-token")
	rec := httptest.NewRecorder()
	w.conn.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "sync is already running") {
		t.Fatalf("ctl resync: %d %s", rec.Code, rec.Body)
	}
	if st := w.conn.State(); st.Dropped != 2 {
		t.Fatalf("dropped: %+v", st)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the cancelled sync must fail")
	}
	_ = w.ex.Management().SetFaults(fakeex.MgmtFaults{})
	if err := w.conn.Resync(Full); err != nil {
		t.Fatalf("once idle, a resync is taken: %v", err)
	}
}

func TestINT01SecondaryServerWhenThePrimaryIsDown(t *testing.T) {
	addr, release, err := loopback.Refusing() // held: nothing else answers there
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, port, _ := net.SplitHostPort(addr)
	dead, _ := strconv.Atoi(port)
	w := newWorld(t, withSettings(func(ic *uemapi.IntegratedConfig) {
		ic.SecondaryServer, ic.SecondaryPort = ic.Server, ic.Port
		ic.Port = dead
	}))
	w.partner("alice", "A1", "iPhone")
	w.mustSync(Full)
	if st := w.conn.State(); st.Devices != 1 || st.Server != w.ic.SecondaryServer+":"+strconv.Itoa(w.ic.SecondaryPort) {
		t.Fatalf("%+v", st)
	}
}
