package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/internal/peers"
	"github.com/gatehouse-lab/gatehouse/lab"
	"github.com/gatehouse-lab/gatehouse/lab/dashboard"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// TestDashboardInChromium drives the lab's dashboard in headless Chromium
// (Debian's chromium; skipped without it, failed under
// GATEHOUSE_REQUIRE_PEERS=1 as in .ci/run): sign in from the printed URL,
// add a device, click Block and see its row turn B within 2 s while the
// device's next Sync gets Status 129, play the whole demo and check each
// step's outcome on screen, see the AppTunnel step's tunnel row for alice
// (UEM and cache state; a UEM Block shows live), see a device the lab does
// not observe raise the gateway-wide request count, kill -9 the gateway from the page and see it
// come back with its cache. Any JavaScript error or failed request fails
// the test. Screenshots at 1280×720 and 1920×1080 go to
// $GATEHOUSE_ARTIFACTS (default: a temporary directory, logged).
func TestDashboardInChromium(t *testing.T) {
	browser := peers.Require(t, "chromium", "chromium")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(envAsBinary, "1") // the gateway subprocess is this binary
	l, err := lab.Start(context.Background(), lab.Config{Mode: lab.Subprocess, Binary: exe, Dir: t.TempDir(), Users: 3,
		MessagesPerUser: 12, CheckInterval: lab.DemoCheckInterval, ResyncInterval: lab.DemoResyncInterval, OAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(context.Background()) })
	dash, err := dashboard.New(l, dashboard.Config{Token: l.Endpoints().Gateway.AdminToken, Interval: 200 * time.Millisecond, SyncEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := dash.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dash.Shutdown(context.Background()) })

	b := newPage(t, browser)
	b.run(chromedp.EmulateViewport(1280, 720), chromedp.Navigate(dash.LoginURL()), chromedp.WaitVisible(chromedp.CSS("#devices")))
	if strings.Contains(b.eval(`location.href`), "token") {
		t.Errorf("the token stayed in the address bar")
	}

	// Add alice's iPhone from the page and wait for the gateway to cache it.
	// The button is enabled once the first state has filled the user list
	// (a loaded machine delivered it after the click, which then added a
	// device for no user).
	b.waitFor("the page's first state", 60*time.Second, `!document.querySelector('#add-form button[type=submit]').disabled`)
	b.run(chromedp.Click(chromedp.CSS(`#add-form button[type=submit]`)))
	row := `#device-rows tr[data-device^="DASHIOS"]`
	b.waitFor("the new device allowed in the gateway's cache", 60*time.Second, `document.querySelector('`+row+` td.gw')?.dataset.state === "A"`)
	id := b.eval(`document.querySelector('` + row + `').dataset.device`)
	d, ok := dash.Device(id)
	if !ok {
		t.Fatalf("the dashboard does not drive %s", id)
	}

	// Block: the row turns B within 2 s; the device's next Sync gets 129.
	b.run(chromedp.Click(chromedp.CSS(row + ` button[data-op=block]`)))
	b.waitFor("the row to turn B", 2*time.Second, `document.querySelector('`+row+` td.gw')?.dataset.state === "B"`)
	if _, err := d.Sync(context.Background()); d.Last().Status != int(eas.StatusDeviceIsBlockedForThisUser) {
		t.Errorf("the blocked device's Sync: %v, last %+v", err, d.Last())
	}
	b.waitFor("Status 129 in the row", 5*time.Second, `document.querySelector('`+row+` td.last').textContent.includes("Status 129")`)
	b.eval(`window.scrollTo(0, 0)`)
	b.screenshot("dashboard-1280x720.png")

	checkGatewayWideRequests(t, b, l)

	// Play the demo; every step ends done with its outcome on screen.
	b.run(chromedp.Click(chromedp.CSS(`#demo-play`)))
	b.waitFor("the demo to finish", 90*time.Second, `document.querySelectorAll('#demo-steps > li[data-status="done"]').length === `+strconv.Itoa(len(lab.DemoSteps))+` || !!document.querySelector('#demo-steps > li[data-status="failed"]')`)
	for i, want := range []string{"byte for byte", "Status 129", "acknowledged and forgot its mail", "the gateway reported the tablet",
		"the periodic resync brought the gateway's cache to B", "atc-blocked", "took the phone's bearer token"} {
		txt := b.eval(fmt.Sprintf(`document.querySelector('#demo-steps > li[data-step="%d"]').textContent`, i+1))
		if !strings.Contains(txt, want) || !strings.Contains(txt, "[done]") {
			t.Errorf("demo step %d shows %q, want it done and saying %q", i+1, txt, want)
		}
	}

	// The demo's AppTunnel step left alice's tunnel in the UEM's AppTunnels
	// view and the gateway's cache; blocking it in the UEM shows live.
	checkTunnelRow(t, b, l)

	// kill -9 from the page; start it again: it comes back with its cache.
	b.run(chromedp.Click(chromedp.CSS(`#gw-kill`)))
	b.waitFor("the gateway down", 10*time.Second, `document.querySelector('#gw-status').dataset.up === "false"`)
	b.run(chromedp.Click(chromedp.CSS(`#gw-start`)))
	b.waitFor("the gateway back with its cache", 30*time.Second, `document.querySelector('#gw-status').dataset.up === "true" && Number(document.querySelector('#gw-cached').textContent) > 0 && document.querySelector('`+row+` td.gw')?.dataset.state === "B"`)
	b.run(chromedp.EmulateViewport(1920, 1080))
	b.eval(`window.scrollTo(0, 0)`)
	b.screenshot("dashboard-1920x1080.png")
	b.checkClean()
	if d.State() == device.Wiped {
		t.Errorf("the blocked device was wiped")
	}
}

// page is one Chromium tab and what went wrong in it.
type page struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	out      string
}

func newPage(t *testing.T, browser string) *page {
	dir := t.TempDir()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelBrowser(); cancelAlloc(); cancel() })
	p := &page{t: t, ctx: bctx, out: os.Getenv("GATEHOUSE_ARTIFACTS")}
	if p.out == "" {
		p.out = filepath.Join(os.TempDir(), "gatehouse-artifacts")
	}
	if err := chromedp.Listen(bctx, p.watch); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return p
}

// watch collects JavaScript errors and failed requests.
func (p *page) watch(ev any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		desc := ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			desc += " " + ev.ExceptionDetails.Exception.Description
		}
		p.problems = append(p.problems, "exception: "+desc)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range ev.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			p.problems = append(p.problems, "console."+string(ev.Type)+": "+strings.Join(args, " "))
		}
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			p.problems = append(p.problems, fmt.Sprintf("HTTP %d for %s", ev.Response.Status, ev.Response.URL))
		}
	case *network.EventLoadingFailed:
		if !ev.Canceled {
			p.problems = append(p.problems, "request failed: "+ev.ErrorText)
		}
	}
}

func (p *page) run(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.t.Fatalf("chromium: %v (page problems: %v)", err, p.problems)
	}
}

func (p *page) eval(js string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		p.t.Fatalf("chromium: %s: %v", js, err)
	}
	return fmt.Sprint(v)
}

// waitFor polls the DOM condition cond every 50 ms for at most bound.
func (p *page) waitFor(what string, bound time.Duration, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(bound)
	for {
		if p.eval(`!!(`+cond+`)`) == "true" {
			return
		}
		if time.Now().After(deadline) {
			p.screenshot("failed.png")
			p.t.Fatalf("%s: not within %s", what, bound)
		}
		time.Sleep(50 * time.Millisecond) // the poll period of a bounded DOM wait, not a guess at readiness
	}
}

func (p *page) screenshot(name string) {
	p.t.Helper()
	shot, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("chromium: screenshot: %v", err)
	}
	if err := os.MkdirAll(p.out, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(p.out, name)
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
}

func (p *page) checkClean() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.problems {
		p.t.Errorf("page: %s", pr)
	}
}

// checkTunnelRow: the demo's AppTunnel step made a tunnel row for alice
// that shows the UEM's state and the cache's; blocking the tunnel in the
// UEM turns both to blocked on the page.
func checkTunnelRow(t *testing.T, b *page, l *lab.Lab) {
	t.Helper()
	tr := `#tunnel-rows tr[data-user="alice"][data-app="com.example.intranet"]`
	b.waitFor("alice's app tunnel allowed in the UEM and the cache", 5*time.Second,
		`document.querySelector('`+tr+` td.uem')?.dataset.state === "allow" && document.querySelector('`+tr+` td.gw')?.dataset.state === "A"`)
	if txt := b.eval(`document.querySelector('` + tr + `').textContent`); !strings.Contains(txt, "allowed") || !strings.Contains(txt, "<ANY>") {
		t.Errorf("alice's tunnel row shows %q, want allowed through <ANY>", txt)
	}
	if b.eval(`String(!!document.querySelector('#device-rows tr[data-device="demo-alice-ipad"]'))`) != "false" {
		t.Errorf("the iPad's tunnel record made an ActiveSync device row")
	}
	p, err := l.UEM.AppTunnels("", uemapi.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	for _, tun := range p.Items {
		if tun.User == "alice" && tun.AppID == "com.example.intranet" {
			if _, err := l.UEM.ActOnTunnel(tun.ID, uem.TunnelAction{Action: "block"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	b.waitFor("alice's app tunnel blocked in the UEM and the cache", 5*time.Second,
		`document.querySelector('`+tr+` td.uem')?.dataset.state === "block" && document.querySelector('`+tr+` td.gw')?.dataset.state === "B"`)
}

// checkGatewayWideRequests: a device the lab does not observe (as a
// loadgen fleet's) shows in the page's gateway-wide request count, which
// comes from the gateway's statistics, not from the lab's recorder.
func checkGatewayWideRequests(t *testing.T, b *page, l *lab.Lab) {
	t.Helper()
	b.waitFor("the gateway-wide request count", 5*time.Second, `/^[0-9]+$/.test(document.querySelector('#gw-requests').textContent)`)
	before, _ := strconv.Atoi(b.eval(`document.querySelector('#gw-requests').textContent`))
	u, _ := l.User("bob")
	var n atomic.Int64
	hc := &http.Client{Timeout: l.HTTPClient().Timeout, Transport: countingTransport{l.HTTPClient().Transport, &n}}
	d, err := device.New(device.Config{ID: "OUTSIDE01", User: u.Name, Password: u.Password, Email: u.Email, Platform: device.Android, Class: device.Native}, l.DeviceURL(), hc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := d.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := before + int(n.Load())
	b.waitFor(fmt.Sprintf("the gateway-wide request count to pass %d (+%d from a device the lab does not observe)", want, n.Load()), 5*time.Second,
		`Number(document.querySelector('#gw-requests').textContent) >= `+strconv.Itoa(want))
}

// countingTransport counts a device's requests.
type countingTransport struct {
	rt http.RoundTripper
	n  *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.rt.RoundTrip(r)
}
