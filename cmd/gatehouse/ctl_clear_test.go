package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the gateway's writer and the
// test's reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var adminURLRE = regexp.MustCompile(`admin URL:\s+(\S+)`)

// waitStarts waits until `gatehouse gateway` has printed its URLs n times
// (each start prints them once) and returns the last admin URL.
func waitStarts(t *testing.T, out *syncBuffer, done chan error, n int) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for tick := time.NewTicker(20 * time.Millisecond); ; <-tick.C {
		if m := adminURLRE.FindAllStringSubmatch(out.String(), -1); len(m) >= n {
			tick.Stop()
			return m[len(m)-1][1]
		}
		select {
		case err := <-done:
			done <- err // for the cleanup
			t.Fatalf("the gateway ended: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the gateway did not start %d times:\n%s", n, out.String())
		}
	}
}

// CFG-03 end to end: `ctl config clear` against `gatehouse gateway`
// returns the run-time local settings (audit, statistics collection, the
// Sentry and MICS logs) to their bootstrap defaults and restarts the
// gateway in its process, on the same admin address and token; the
// device list stays. A gateway nobody restarts refuses it.
func TestCFG03CtlConfigClearRestartsWithDefaults(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "admin.tok")
	if err := os.WriteFile(tokFile, []byte("tok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	root := newRootCmd()
	root.SetArgs([]string{"gateway", "--listen", "127.0.0.1:0", "--notify-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
		"--data-dir", filepath.Join(dir, "data"), "--uem-url", "https://127.0.0.1:1", "--uem-insecure", "--uem-token", "gw-token",
		"--uem-notify-secret", "a-notify-secret-of-16+", "--admin-token-file", tokFile, "--stats-interval", "5m"})
	root.SetOut(out)
	root.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("gateway: %v", err)
		}
	})
	url := waitStarts(t, out, done, 1)
	ctl := ctlRunner(t, url)
	run := func(args ...string) string {
		t.Helper()
		got, err := ctl(args...)
		if err != nil {
			t.Fatalf("ctl %v: %v (%s)", args, err, got)
		}
		return got
	}
	run("audit", "on")
	run("stats", "collection", "stop", "--interval", "1m")
	run("log", "enable")
	run("log", "mics", "on")
	changed := run("config", "export")
	if !strings.Contains(changed, "<audit>true</audit>") {
		t.Fatalf("export before the clear:\n%s", changed)
	}
	if got := run("config", "clear"); got != "Configuration cleared: the gateway restarts" {
		t.Fatalf("ctl config clear: %q", got)
	}
	if again := waitStarts(t, out, done, 2); again != url {
		t.Fatalf("the restarted gateway's admin URL %s, want %s", again, url)
	}
	cleared := run("config", "export")
	for _, want := range []string{"<audit>false</audit>", "<enabled>true</enabled>", "<interval>5m0s</interval>"} {
		if !strings.Contains(cleared, want) {
			t.Fatalf("export after the clear lacks %s:\n%s", want, cleared)
		}
	}
	if got := run("log"); !strings.Contains(got, "enable = false") {
		t.Fatalf("ctl log after the clear: %q", got)
	}
	if got := run("log", "mics"); got != "mics = off" {
		t.Fatalf("ctl log mics after the clear: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "devices.db")); err != nil {
		t.Fatalf("the device list after the clear: %v", err)
	}
	run("log", "verbosity", "level_3") // the viewer shows alerts from level 3 (ALR-02)
	if got := run("alerts", "--filter", "RESTART"); !strings.Contains(got, "Clear Configuration") {
		t.Fatalf("no RESTART alert: %q", got)
	}
}
