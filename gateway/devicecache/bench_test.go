package devicecache

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
	"unsafe"
)

// benchDevices is the fleet size of every benchmark here: one million by
// default, GATEHOUSE_CACHE_DEVICES=10000000 for the ten-million run
// (about 1.3 GB of cache plus the benchmark's own key slice):
//
//	GATEHOUSE_CACHE_DEVICES=10000000 go test -run '^$' -bench 'Lookup$|LookupHot|MemoryPerDevice|Save|Load$' -benchtime 1x -timeout 30m ./gateway/devicecache/
var benchDevices = benchFleetSize()

func benchFleetSize() int {
	if v, err := strconv.Atoi(os.Getenv("GATEHOUSE_CACHE_DEVICES")); err == nil && v > 0 {
		return v
	}
	return 1_000_000
}

// appendFleetKey appends device i's key, a 32-character EAS device id
// followed by a UPN, and returns the id's length.
func appendFleetKey(b []byte, i int) ([]byte, int) {
	const hexDigits = "0123456789ABCDEF"
	for _, x := range [2]uint64{uint64(i) * 0x9E3779B97F4A7C15, uint64(i) * 0xC2B2AE3D27D4EB4F} {
		for shift := 60; shift >= 0; shift -= 4 {
			b = append(b, hexDigits[x>>shift&0xF])
		}
	}
	b = append(b, "user"...)
	b = strconv.AppendInt(b, int64(i), 10)
	return append(b, "@corp.example.com"...), 32
}

// fleetKey returns device i's key in its own allocation, as the cache
// would receive it once.
func fleetKey(i int) Key {
	b, n := appendFleetKey(nil, i)
	s := string(b)
	return Key{DeviceID: s[:n], User: s[n:]}
}

// queryKey writes device i's key into buf, as a request handler holds the
// key it has just parsed: in the CPU cache, not in a million-entry slice
// whose reading would add misses of its own to the lookup being measured.
func queryKey(buf *[96]byte, i int) (Key, string) {
	b, n := appendFleetKey(buf[:0], i)
	s := unsafe.String(&b[0], len(b))
	return Key{DeviceID: s[:n], User: s[n:]}, s
}

func fillCache(n int) (*Cache, []Key) {
	c := New(nil)
	keys := make([]Key, n)
	seen := time.Now()
	for i := range keys {
		keys[i] = fleetKey(i)
		c.Put(Entry{Key: keys[i], State: Allowed, Validated: true, ProtocolVersion: "16.1",
			LastSeen: seen, Policy: "Default ActiveSync Policy", PolicyVersion: "1"})
	}
	return c, keys
}

// BenchmarkLookup is the per-request state check at one million entries,
// each lookup a different device in a random order: the entry is never in
// the CPU caches.
func BenchmarkLookup(b *testing.B) {
	c, _ := fillCache(benchDevices)
	var buf [96]byte
	b.ResetTimer()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		k, _ := queryKey(&buf, i%benchDevices)
		if _, _, ok := c.State(k); !ok {
			b.Fatal("missing")
		}
		i += 7919
	}
	reportCPUns(b, cpu)
}

// reportCPUns reports the CPU nanoseconds per operation since start: on
// a loaded machine ns/op mostly measures the waits for a core.
func reportCPUns(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkLookupBareMap is the floor for BenchmarkLookup, measured in the
// same run: the same walk over a bare map[string]State holding the same
// million keys, no locks, no sharding. Both pay the cache and TLB misses of
// touching a random one of a million entries.
func BenchmarkLookupBareMap(b *testing.B) {
	m := make(map[string]State, benchDevices)
	for i := range benchDevices {
		b, _ := appendFleetKey(nil, i)
		m[string(b)] = Allowed
	}
	var buf [96]byte
	b.ResetTimer()
	i := 0
	for b.Loop() {
		_, s := queryKey(&buf, i%benchDevices)
		if _, ok := m[s]; !ok {
			b.Fatal("missing")
		}
		i += 7919
	}
}

// BenchmarkQueryKey is what building the query key costs in both lookups.
func BenchmarkQueryKey(b *testing.B) {
	var buf [96]byte
	i, n := 0, 0
	for b.Loop() {
		k, _ := queryKey(&buf, i%benchDevices)
		n += len(k.User)
		i += 7919
	}
	if n == 0 {
		b.Fatal("no keys built")
	}
}

// BenchmarkLookupHot looks up 1,000 devices of the million over and over:
// the devices that are talking right now, whose entries sit in the CPU
// caches. BenchmarkLookup's random walk over all million pays a few cache
// misses per lookup instead; real traffic is between the two.
func BenchmarkLookupHot(b *testing.B) {
	c, keys := fillCache(benchDevices)
	hot := keys[:1000]
	b.ResetTimer()
	cpu := cpuTime()
	i := 0
	for b.Loop() {
		if _, _, ok := c.State(hot[i%len(hot)]); !ok {
			b.Fatal("missing")
		}
		i++
	}
	reportCPUns(b, cpu)
}

func BenchmarkLookupParallel(b *testing.B) {
	c, keys := fillCache(benchDevices)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			c.State(keys[i%len(keys)])
			i += 7919
		}
	})
}

func BenchmarkTouch(b *testing.B) {
	c, keys := fillCache(benchDevices)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		c.Touch(keys[i%len(keys)], "16.1")
		i += 7919
	}
}

// BenchmarkMemoryPerDevice reports heap bytes per cached device, ids
// included (the keys slice the benchmark holds is subtracted).
func BenchmarkMemoryPerDevice(b *testing.B) {
	for b.Loop() {
		keys := make([]Key, benchDevices)
		for i := range keys {
			keys[i] = fleetKey(i)
		}
		before := heapInUse()
		c := New(nil)
		seen := time.Now()
		for _, k := range keys {
			c.Put(Entry{Key: k, State: Allowed, Validated: true, ProtocolVersion: "16.1",
				LastSeen: seen, Policy: "Default ActiveSync Policy", PolicyVersion: "1"})
		}
		after := heapInUse()
		b.ReportMetric(float64(after-before)/float64(benchDevices), "B/device")
		runtime.KeepAlive(c)
		runtime.KeepAlive(keys)
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func BenchmarkSave(b *testing.B) {
	c, _ := fillCache(benchDevices)
	s, err := OpenStore(filepath.Join(b.TempDir(), "devices.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		if n, err := s.Save(c); err != nil || n != benchDevices {
			b.Fatal(n, err)
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the CPU seconds per operation since start (all
// threads: the encoding workers and the garbage collector included).
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
}

func BenchmarkLoad(b *testing.B) {
	c, _ := fillCache(benchDevices)
	s, err := OpenStore(filepath.Join(b.TempDir(), "devices.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Save(c); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		fresh := New(nil)
		if n, err := s.Load(fresh); err != nil || n != benchDevices {
			b.Fatal(n, err)
		}
	}
	reportCPU(b, cpu)
}

// BenchmarkSaveLoad fills one cache and times a Save and a Load of it,
// wall and CPU seconds each: one fill for both, which at ten million
// devices is most of a run on a loaded machine.
//
//	GATEHOUSE_CACHE_DEVICES=10000000 go test -run '^$' -bench SaveLoad -benchtime 1x -timeout 60m ./gateway/devicecache/
func BenchmarkSaveLoad(b *testing.B) {
	c, _ := fillCache(benchDevices)
	s, err := OpenStore(filepath.Join(b.TempDir(), "devices.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var save, saveCPU, load, loadCPU time.Duration
	for b.Loop() {
		runtime.GC() // the fill's collection is not the save's
		start, cpu := time.Now(), cpuTime()
		if n, err := s.Save(c); err != nil || n != benchDevices {
			b.Fatal(n, err)
		}
		save, saveCPU = save+time.Since(start), saveCPU+cpuTime()-cpu
		fresh := New(nil)
		runtime.GC()
		start, cpu = time.Now(), cpuTime()
		if n, err := s.Load(fresh); err != nil || n != benchDevices {
			b.Fatal(n, err)
		}
		load, loadCPU = load+time.Since(start), loadCPU+cpuTime()-cpu
	}
	for name, d := range map[string]time.Duration{"save-s": save, "save-cpu-s": saveCPU, "load-s": load, "load-cpu-s": loadCPU} {
		b.ReportMetric(d.Seconds()/float64(b.N), name)
	}
}
