package peers

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder stands in for a *testing.T: Skip and Fatal record the message
// and end the goroutine, as the real ones do.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()           {}
func (r *recorder) Skip(args ...any)  { r.skipped = fmt.Sprint(args...); runtime.Goexit() }
func (r *recorder) Fatal(args ...any) { r.failed = fmt.Sprint(args...); runtime.Goexit() }

// run calls f with a recorder in its own goroutine, so that Goexit ends
// only that goroutine.
func run(f func(testing.TB)) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

const absent = "gatehouse-no-such-tool"

func TestRequireFindsATool(t *testing.T) {
	t.Setenv(EnvRequire, "1")
	r := run(func(tb testing.TB) {
		if p := Require(tb, "go", "golang-go"); !strings.HasSuffix(p, "/go") {
			tb.Fatal("path " + p)
		}
	})
	if r.skipped != "" || r.failed != "" {
		t.Fatalf("skipped %q failed %q", r.skipped, r.failed)
	}
}

func TestMissingToolSkipsOrFails(t *testing.T) {
	for _, tc := range []struct {
		env          string
		skip, fail   bool
		wantInFailed string
	}{
		{env: "", skip: true},
		{env: "0", skip: true},
		{env: "1", fail: true, wantInFailed: EnvRequire + "=1"},
		{env: "true", fail: true},
		{env: "yes please", fail: true, wantInFailed: `"yes please": want 1 or 0`},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(EnvRequire, tc.env)
			r := run(func(tb testing.TB) { Require(tb, absent, "gatehouse-peer") })
			msg := r.skipped + r.failed
			if (r.skipped != "") != tc.skip || (r.failed != "") != tc.fail {
				t.Fatalf("skipped %q failed %q", r.skipped, r.failed)
			}
			for _, want := range []string{absent + " not found", "apt-get install -y gatehouse-peer", tc.wantInFailed} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}

func TestRequireFile(t *testing.T) {
	t.Setenv(EnvRequire, "")
	dir := t.TempDir()
	r := run(func(tb testing.TB) { RequireFile(tb, dir+"/*.so", "gatehouse-plugin") })
	if !strings.Contains(r.skipped, "gatehouse-plugin") {
		t.Fatalf("skipped %q failed %q", r.skipped, r.failed)
	}
	r = run(func(tb testing.TB) {
		if p := RequireFile(tb, dir, "gatehouse-plugin"); p != dir {
			tb.Fatal("path " + p)
		}
	})
	if r.skipped != "" || r.failed != "" {
		t.Fatalf("skipped %q failed %q", r.skipped, r.failed)
	}
}
