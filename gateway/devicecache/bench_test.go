package devicecache

import (
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

const benchDevices = 1_000_000

// fleetKey returns realistic ids: a 32-character EAS device id and a UPN.
func fleetKey(i int) Key {
	id := strconv.FormatInt(int64(i)*2654435761%1e12, 36)
	for len(id) < 32 {
		id += "0V55EEVSRT5UVFA05AUBLF904S"
	}
	return Key{DeviceID: id[:32], User: "user" + strconv.Itoa(i) + "@corp.example.com"}
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

// BenchmarkLookup is the per-request state check at one million entries.
func BenchmarkLookup(b *testing.B) {
	c, keys := fillCache(benchDevices)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, _, ok := c.State(keys[i%len(keys)]); !ok {
			b.Fatal("missing")
		}
		i += 7919
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
	i := 0
	for b.Loop() {
		if _, _, ok := c.State(hot[i%len(hot)]); !ok {
			b.Fatal("missing")
		}
		i++
	}
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
		b.ReportMetric(float64(after-before)/benchDevices, "B/device")
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
	for b.Loop() {
		if n, err := s.Save(c); err != nil || n != benchDevices {
			b.Fatal(n, err)
		}
	}
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
	for b.Loop() {
		fresh := New(nil)
		if n, err := s.Load(fresh); err != nil || n != benchDevices {
			b.Fatal(n, err)
		}
	}
}
