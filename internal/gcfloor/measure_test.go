package gcfloor

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMeasureMemory compares ways of letting the heap grow to a floor
// before collecting, each in its own process: a workload holds goroutines
// with deep stacks and a live heap and churns garbage, and reports the
// highest live heap, stacks scanned and heap goal, the largest heap
// (objects, live and dead), the peak RSS, the collections and their CPU
// (all maxima over the run). It runs
// only when asked, as it takes seconds and up to a gigabyte:
//
//	GCFLOOR_MEASURE=1 go test -run TestMeasureMemory -v ./internal/gcfloor/
//
// GCFLOOR_LIVE_MIB (16), GCFLOOR_GOROUTINES (10000) and GCFLOOR_FLOOR_MIB
// (256) change the workload.
func TestMeasureMemory(t *testing.T) {
	if os.Getenv(measureModeEnv) != "" {
		runMeasureChild()
		return
	}
	if os.Getenv("GCFLOOR_MEASURE") == "" {
		t.Skip("set GCFLOOR_MEASURE=1 to measure")
	}
	t.Logf("floor %s MiB, live heap %s MiB, %s goroutines (%s)", envOr("GCFLOOR_FLOOR_MIB", "256"),
		envOr("GCFLOOR_LIVE_MIB", "16"), envOr("GCFLOOR_GOROUTINES", "10000"), runtime.Version())
	t.Logf("%-12s %9s %9s %9s %9s %9s %6s %9s %7s", "mode", "live MiB", "stack MiB", "goal MiB", "heap MiB", "RSS MiB", "GCs", "GC cpu s", "wall s")
	for _, mode := range []string{"gogc100", "floor-live", "floor-roots", "floor-limit", "memlimit"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMeasureMemory$", "-test.v")
		cmd.Env = append(os.Environ(), measureModeEnv+"="+mode, "GOGC=", "GOMEMLIMIT=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		var r measureResult
		line := out[strings.Index(string(out), "RESULT ")+len("RESULT "):]
		line = line[:strings.IndexByte(string(line), '\n')]
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%s: %v\n%s", mode, err, out)
		}
		t.Logf("%-12s %9.0f %9.0f %9.0f %9.0f %9.0f %6d %9.2f %7.2f", mode, r.LiveMiB, r.StackMiB, r.GoalMiB, r.HeapMiB, r.RSSMiB, r.GCs, r.GCCPU, r.Wall)
	}
}

const measureModeEnv = "GCFLOOR_MEASURE_MODE"

type measureResult struct {
	GoalMiB, HeapMiB, LiveMiB, RSSMiB, StackMiB float64
	GCs                                         uint64
	GCCPU, Wall                                 float64
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(name, def string) int {
	n, err := strconv.Atoi(envOr(name, def))
	if err != nil {
		panic(err)
	}
	return n
}

// deep grows a goroutine's stack by about 1 KiB a level, then waits.
func deep(level int, wait <-chan struct{}) byte {
	var pad [1000]byte
	pad[level%len(pad)] = byte(level)
	if level == 0 {
		<-wait
		return pad[0]
	}
	return deep(level-1, wait) + pad[level%len(pad)]
}

var sink []byte

func runMeasureChild() {
	const mib = 1 << 20
	floor := uint64(envInt("GCFLOOR_FLOOR_MIB", "256")) * mib
	switch mode := os.Getenv(measureModeEnv); mode {
	case "gogc100":
	case "floor-live":
		// The tuner as it was: GOGC from the live heap alone.
		stop, _ := startWith(func(s sample) int { return Percent(s.live, 0, floor) }, nil)
		defer stop()
	case "floor-roots":
		// The tuner as it was next: GOGC from the live heap and roots.
		stop, _ := startWith(func(s sample) int { return Percent(s.live, s.roots, floor) }, nil)
		defer stop()
	case "floor-limit":
		stop, _ := Start(floor)
		defer stop()
	case "memlimit":
		debug.SetGCPercent(-1)
		debug.SetMemoryLimit(int64(floor))
	default:
		panic("unknown mode " + mode)
	}
	start := time.Now()
	wait := make(chan struct{})
	var wg sync.WaitGroup
	for range envInt("GCFLOOR_GOROUTINES", "10000") {
		wg.Add(1)
		go func() { defer wg.Done(); deep(8, wait) }()
	}
	live := make([][]byte, 0, 1024)
	for range envInt("GCFLOOR_LIVE_MIB", "16") * 16 {
		b := make([]byte, 64<<10)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // resident, as a real cache is
		}
		live = append(live, b)
	}
	runtime.GC() // the goroutines' stacks are scanned once: the goal knows them
	samples := []metrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/scan/stack:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/live:bytes"}}
	var maxGoal, maxStack, maxHeap, maxLive uint64
	ring := make([][]byte, 256)
	for i := range 4 << 20 { // 4 Mi objects of 1 KiB: 4 GiB of garbage
		b := make([]byte, 1024)
		b[0], b[1023] = 1, 1 // written, as request objects are
		ring[i%len(ring)] = b
		if i%1024 == 0 {
			metrics.Read(samples)
			maxGoal = max(maxGoal, samples[0].Value.Uint64())
			maxStack = max(maxStack, samples[1].Value.Uint64())
			maxHeap = max(maxHeap, samples[2].Value.Uint64())
			maxLive = max(maxLive, samples[3].Value.Uint64())
		}
	}
	sink = ring[0]
	end := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(end)
	r := measureResult{
		GoalMiB: float64(maxGoal) / mib, HeapMiB: float64(maxHeap) / mib, LiveMiB: float64(maxLive) / mib, RSSMiB: peakRSS() / mib, StackMiB: float64(maxStack) / mib,
		GCs: end[0].Value.Uint64(), GCCPU: end[1].Value.Float64(), Wall: time.Since(start).Seconds(),
	}
	close(wait)
	wg.Wait()
	runtime.KeepAlive(live)
	b, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", b)
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return math.NaN()
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return math.NaN()
}
