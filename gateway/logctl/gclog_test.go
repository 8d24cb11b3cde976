package logctl

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// LOG-10: the seeds' bounds, 1–100 files of 8K–300M, sizes as 20M or 8K.
func TestLOG10GCLogSettingBounds(t *testing.T) {
	for _, tc := range []struct {
		count int
		size  string
		ok    bool
	}{
		{5, "20M", true}, {1, "8K", true}, {100, "300M", true}, {1, "8192", true},
		{0, "20M", false}, {101, "20M", false}, {5, "7K", false}, {5, "301M", false},
	} {
		n, err := ParseSize(tc.size)
		if err != nil {
			t.Fatalf("%s: %v", tc.size, err)
		}
		err = GCSetting{Enabled: true, FileCount: tc.count, FileSize: n}.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%d files of %s: %v, want ok=%t", tc.count, tc.size, err, tc.ok)
		}
	}
	for _, bad := range []string{"", "M", "-3K", "2G", "x"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("size %q accepted", bad)
		}
	}
	if FormatSize(20<<20) != "20M" || FormatSize(8<<10) != "8K" || FormatSize(1000) != "1000" {
		t.Error("FormatSize does not give back what ParseSize reads")
	}
	dir := t.TempDir()
	set := filepath.Join(dir, "gc-log.json")
	if s, err := LoadGC(set); err != nil || s != DefaultGC() || s.Enabled {
		t.Fatalf("never set: %+v, %v; want off, 5 files of 20M", s, err)
	}
	want := GCSetting{Enabled: true, FileCount: 3, FileSize: 64 << 10}
	if err := SaveGC(set, want); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadGC(set); err != nil || s != want {
		t.Fatalf("loaded %+v, %v; want %+v", s, err, want)
	}
	if err := SaveGC(set, GCSetting{FileCount: 0, FileSize: 8 << 10}); err == nil {
		t.Fatal("saved 0 files")
	}
}

// The rotation keeps count files of at most max bytes, newest first.
func TestLOG10RotationKeepsCountFiles(t *testing.T) {
	for _, count := range []int{1, 3} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "gc.log")
			r, err := openRotator(path, count, 100)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if err := r.write([]byte(fmt.Sprintf("line %02d %s\n", i, strings.Repeat("x", 30)))); err != nil { // 40 bytes
					t.Fatal(err)
				}
			}
			r.close()
			files, _ := filepath.Glob(path + "*")
			if len(files) != count {
				t.Fatalf("%d files %v, want %d", len(files), files, count)
			}
			cur, _ := os.ReadFile(path)
			if !strings.HasPrefix(string(cur), "line 08") || !strings.Contains(string(cur), "line 09") || len(cur) > 100 {
				t.Errorf("gc.log holds %q, want lines 08 and 09", cur)
			}
			if count == 3 {
				if prev, _ := os.ReadFile(path + ".1"); !strings.HasPrefix(string(prev), "line 06") {
					t.Errorf("gc.log.1 holds %q, want lines 06 and 07", prev)
				}
			}
		})
	}
}

// Each collection adds a line; off writes nothing; Stop ends it.
func TestLOG10GCLogRecordsCollections(t *testing.T) {
	dir := t.TempDir()
	if g, err := StartGC(filepath.Join(dir, "off.log"), DefaultGC()); g != nil || err != nil {
		t.Fatalf("off: %v, %v; want nothing", g, err)
	}
	path := filepath.Join(dir, "gc.log")
	g, err := StartGC(path, GCSetting{Enabled: true, FileCount: 2, FileSize: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	lines := 0
	for lines < 3 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // the finalizer and the writer run after the cycle
		data, _ := os.ReadFile(path)
		lines = strings.Count(string(data), "\n")
	}
	g.Stop()
	data, _ := os.ReadFile(path)
	if lines < 3 || !strings.Contains(string(data), " gc ") || !strings.Contains(string(data), "live=") {
		t.Fatalf("after forced collections gc.log holds %d lines:\n%s", lines, data)
	}
	if _, err := os.Stat(filepath.Join(dir, "off.log")); !os.IsNotExist(err) {
		t.Fatalf("off wrote a file: %v", err)
	}
}
