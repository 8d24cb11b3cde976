package integrated

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gatehouse-lab/gatehouse/fakes/uem"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// TestScaleIntegrated times a full sync of N mailboxes with two devices
// each, a differential of 1,000 new partnerships and 1,000 UEM blocks
// until Exchange refuses the device (docs/integrated.md). Off by default:
//
//	GATEHOUSE_INTEGRATED_SCALE=100000 go test -run TestScaleIntegrated -v -timeout 30m ./gateway/integrated/
func TestScaleIntegrated(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("GATEHOUSE_INTEGRATED_SCALE"))
	if n <= 0 {
		t.Skip("set GATEHOUSE_INTEGRATED_SCALE=<mailboxes> to run")
	}
	w := newWorld(t, withConfig(func(c *Config) { c.BatchSize, c.Workers, c.CallTimeout = 5000, 16, 5*time.Minute }))
	g := w.ex.Management()
	g.Populate("p", n, 2, nil, w.clk.now())
	t.Logf("populated %d mailboxes, %d devices; GOMAXPROCS %d", n, 2*n, runtime.GOMAXPROCS(0))

	start, cpu0 := time.Now(), cpuTime()
	scaleSync(t, w, Full)
	first, firstCPU := time.Since(start), cpuTime()-cpu0
	st := w.conn.State()
	t.Logf("first full sync (reports %d devices to the UEM, pushes %d decisions): %v, CPU %v (connector, UEM and Exchange together)", st.Devices, st.Pushed, first, firstCPU)
	if st.Devices != 2*n {
		t.Fatalf("devices: %d, want %d", st.Devices, 2*n)
	}
	start, cpu0 = time.Now(), cpuTime()
	scaleSync(t, w, Full)
	t.Logf("steady full sync (nothing to push): %v, CPU %v", time.Since(start), cpuTime()-cpu0)

	w.clk.advance(time.Second)
	for i := 1; i <= 1000; i++ {
		w.partner("p"+strconv.Itoa(i), "NEW"+strconv.Itoa(i), "iPhone")
	}
	start, cpu0 = time.Now(), cpuTime()
	scaleSync(t, w, Differential)
	diff := time.Since(start)
	t.Logf("differential of 1,000 new partnerships (reported, pushed): %v, CPU %v", diff, cpuTime()-cpu0)
	if st := w.conn.State(); st.Devices != 2*n+1000 || st.LastDifferential.IsZero() {
		t.Fatalf("after the differential: %+v", st)
	}

	lat := blockLatencies(t, w, 1000)
	t.Logf("UEM block → Exchange refusing, %d blocks: p50 %v, p99 %v, max %v", len(lat), lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1])
	fmt.Fprintf(os.Stderr, "SCALE mailboxes=%d devices=%d full=%v full_cpu=%v differential1000=%v block_p50=%v block_p99=%v\n",
		n, 2*n, first.Round(time.Millisecond), firstCPU.Round(time.Millisecond), diff.Round(time.Millisecond), lat[len(lat)/2], lat[len(lat)*99/100])
}

// blockLatencies blocks k associations one after the other at the UEM
// and measures each until Exchange evaluates the device as blocked (the
// state its next EAS request meets).
func blockLatencies(t *testing.T, w *world, k int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, 0, k)
	for i := 1; i <= k; i++ {
		user, dev := "p"+strconv.Itoa(i), "p"+strconv.Itoa(i)+"-d1"
		a := w.assoc(dev, user)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		t0 := time.Now()
		if _, err := w.uem.Act(a.ID, uem.Action{Action: uem.ActBlock}); err != nil {
			t.Fatal(err)
		}
		for {
			if d, _ := w.ex.Management().Device(user, dev); d.AccessState == exmgmt.StateBlocked {
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("block %d never reached Exchange", i)
			}
			time.Sleep(50 * time.Microsecond)
		}
		out = append(out, time.Since(t0))
		cancel()
	}
	slices.Sort(out)
	return out
}

func scaleSync(t *testing.T, w *world, k Kind) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := w.conn.Sync(ctx, k); err != nil {
		t.Fatalf("%s sync: %v", k, err)
	}
}

// cpuTime is the process's user and system CPU time: on a shared
// machine, the figure the wall clock hides.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
