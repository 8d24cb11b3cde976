package dashboard

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// The dashboard's API answers only a signed-in browser, signs in only
// with the lab's token, and refuses a cross-site action.
func TestDashboardNeedsTheToken(t *testing.T) {
	a := newSessions("0123456789abcdef-token")
	h := a.require(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	login := func(tok, origin string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8800/api/login", strings.NewReader(`{"token":"`+tok+`"}`))
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		w := httptest.NewRecorder()
		a.handleLogin(w, r)
		return w
	}
	if w := login("wrong-token-0000000", ""); len(w.Result().Cookies()) != 0 || !strings.Contains(w.Body.String(), `"authenticated":false`) {
		t.Fatalf("a wrong token signed in: %s", w.Body.String())
	}
	if w := login("0123456789abcdef-token", "http://evil.example"); w.Code != http.StatusForbidden {
		t.Fatalf("a cross-origin login got %d", w.Code)
	}
	w := login("0123456789abcdef-token", "http://127.0.0.1:8800")
	cookies := w.Result().Cookies()
	if len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode || strings.Contains(cookies[0].Value, "token") {
		t.Fatalf("session cookie %+v", cookies)
	}
	for _, tc := range []struct {
		name, method, origin string
		cookie               bool
		want                 int
	}{
		{"no cookie", http.MethodGet, "", false, http.StatusUnauthorized},
		{"signed in", http.MethodGet, "", true, http.StatusNoContent},
		{"signed in, same origin action", http.MethodPost, "http://127.0.0.1:8800", true, http.StatusNoContent},
		{"signed in, cross-site action", http.MethodPost, "http://evil.example", true, http.StatusForbidden},
	} {
		r := httptest.NewRequest(tc.method, "http://127.0.0.1:8800/api/action", nil)
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		if tc.cookie {
			r.AddCookie(cookies[0])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, w.Code, tc.want)
		}
	}
}

// Decoded exchanges show no credential and no message content.
func TestRedactedXMLHidesCredentialsAndContents(t *testing.T) {
	doc := wbxml.NewElement(wbxml.MustTag("Provision:Provision"),
		wbxml.NewText(wbxml.MustTag("Provision:PolicyKey"), "3141592653"),
		wbxml.NewElement(wbxml.MustTag("AirSyncBase:Body"), wbxml.NewText(wbxml.MustTag("AirSyncBase:Data"), "the secret merger plan")),
		wbxml.NewText(wbxml.MustTag("Provision:Status"), "1"))
	b, err := wbxml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	x := redactedXML(b)
	for _, leak := range []string{"3141592653", "merger"} {
		if strings.Contains(x, leak) {
			t.Errorf("%q shown:\n%s", leak, x)
		}
	}
	for _, want := range []string{"[redacted]", "[22 bytes of message content]", "Status"} {
		if !strings.Contains(x, want) {
			t.Errorf("%q missing:\n%s", want, x)
		}
	}
}

// The narration splits into the demo's steps: "N. ..." starts step N,
// the lines after it are its outcome, even when written in pieces.
func TestDemoNarrationSplitsIntoSteps(t *testing.T) {
	d := &demoRun{cur: -1}
	d.steps = []demoStep{{Status: "pending"}, {Status: "pending"}, {Status: "pending"}, {Status: "pending"}}
	for _, chunk := range []string{"demo: 1. first access\ndemo:    synced 12", " mails\ndemo: 2. block\n", "demo:    Status 129\n"} {
		if _, err := d.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if d.steps[0].Status != "done" || d.steps[1].Status != "running" || d.steps[2].Status != "pending" {
		t.Fatalf("statuses %+v", d.steps)
	}
	if got := strings.Join(d.steps[0].Lines, "|"); got != "1. first access|synced 12 mails" {
		t.Errorf("step 1 lines %q", got)
	}
	if got := strings.Join(d.steps[1].Lines, "|"); got != "2. block|Status 129" {
		t.Errorf("step 2 lines %q", got)
	}
}

// Step by step, the demo waits before each step after the first until
// the page's Next step, showing the step before as done meanwhile.
func TestDemoStepByStepWaitsForNext(t *testing.T) {
	d := &demoRun{cur: -1, stepwise: true, next: make(chan struct{}, 1), ctx: t.Context()}
	d.steps = []demoStep{{Status: "pending"}, {Status: "pending"}}
	if _, err := d.Write([]byte("demo: 1. first\ndemo:    ok\n")); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan struct{})
	go func() { _, _ = d.Write([]byte("demo: 2. second\n")); close(wrote) }()
	gomega.NewWithT(t).Eventually(func() bool { return d.state().Waiting }).WithTimeout(10*time.Second).Should(gomega.BeTrue(), "the demo did not pause before step 2")
	select {
	case <-wrote:
		t.Fatal("step 2 started without Next step")
	default:
	}
	if st := d.state(); st.Steps[0].Status != "done" || st.Steps[1].Status != "pending" {
		t.Fatalf("while waiting: %+v", st.Steps)
	}
	if !d.advance() {
		t.Fatal("advance refused while waiting")
	}
	<-wrote
	if st := d.state(); st.Waiting || st.Steps[1].Status != "running" {
		t.Fatalf("after Next step: %+v", st)
	}
}
