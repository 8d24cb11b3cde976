package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/gatehouse-lab/gatehouse/internal/peers"
)

// TestHTMLRendersInChromium opens the report in headless Chromium
// (Debian's chromium; .ci/run installs it; without it the test skips
// loudly, or fails under GATEHOUSE_REQUIRE_PEERS=1 as in .ci/run), checks that every chart drew with no console error or exception,
// and saves a screenshot in $GATEHOUSE_ARTIFACTS (default
// testdata/artifacts/).
func TestHTMLRendersInChromium(t *testing.T) {
	browser := peers.Require(t, "chromium", "chromium")
	dir := t.TempDir()
	page := filepath.Join(dir, FileHTML)
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	r := testReport(t)
	// A full suite has many feature columns (the matrix overflowed the
	// page at 1400 px): give the first suite as many.
	for i := len(r.Suites[0].Features); i < 30; i++ {
		r.Suites[0].Features = append(r.Suites[0].Features, fmt.Sprintf("feature-%02d", i))
	}
	if err := r.WriteHTML(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1400, 900), // the matrix overflowed the page at 1400 px
	}
	// A bound, not a budget: at load 39 (CI beside three helpers) starting
	// chromium and taking the full-page screenshot took over 60 s.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var mu sync.Mutex
	var problems []string
	err = chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			problems = append(problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, desc))
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				problems = append(problems, fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		}
	})
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	err = chromedp.Do(bctx,
		chromedp.Navigate("file://"+page),
		chromedp.WaitReady(`body[data-charts-done="1"]`),
	)
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	count := func(sel string) int {
		n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("`+sel+`").length`))
		if err != nil {
			t.Fatalf("chromium: %v", err)
		}
		return n
	}
	// No horizontal overflow at 1400 px; no legend shows "--" (a live
	// legend with no cursor on a static page).
	fits, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= document.documentElement.clientWidth`))
	if err != nil || !fits {
		t.Errorf("the page overflows horizontally at 1400 px (%v)", err)
	}
	if dashes := count(`.u-legend .u-value`); dashes != 0 {
		t.Errorf("%d legend value cells (they show -- with no cursor)", dashes)
	}
	charts := count(`div[data-chart]`)
	rendered := count(`div[data-chart][data-rendered='1'] .uplot`)
	canvases := count(`.uplot canvas`)
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("chromium: screenshot: %v", err)
	}
	// Run a: throughput, latency, HDR, errors, Pings, gateway; run b has no
	// gateway statistics: 11 charts.
	if charts != 11 || rendered != charts || canvases != charts {
		t.Errorf("charts: %d placeholders, %d drawn, %d canvases; want 11 of each", charts, rendered, canvases)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("page: %s", p)
	}

	out := os.Getenv("GATEHOUSE_ARTIFACTS")
	if out == "" {
		out = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	png := filepath.Join(out, "report.png")
	if err := os.WriteFile(png, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(shot) < 10_000 || string(shot[1:4]) != "PNG" {
		t.Errorf("screenshot is %d bytes, not a PNG of the page", len(shot))
	}
	abs, _ := filepath.Abs(png)
	t.Logf("screenshot: %s", abs)
}
