package stats

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"
)

// STA-13: a resource strictly above its threshold raises an alert with a
// stable id, logged at warn.
func TestSTA13UtilizationAlertsOverTheSeedThresholds(t *testing.T) {
	cases := []struct {
		u    Utilization
		want string
	}{
		{Utilization{ThreadPool: 80, CPU: 70, SystemMemory: 70}, ""},
		{Utilization{ThreadPool: 80.1}, "STA13-THREAD-POOL"},
		{Utilization{CPU: 71}, "STA13-CPU"},
		{Utilization{SystemMemory: 99, CPU: 90}, "STA13-CPU,STA13-SYSTEM-MEMORY"},
	}
	for _, c := range cases {
		var ids []string
		for _, a := range c.u.Over(DefaultThresholds) {
			ids = append(ids, a.ID)
		}
		if got := strings.Join(ids, ","); got != c.want {
			t.Errorf("%+v: alerts %q, want %q", c.u, got, c.want)
		}
	}
	var buf bytes.Buffer
	LogAlerts(slog.New(slog.NewTextHandler(&buf, nil)), Utilization{CPU: 75.25}.Over(DefaultThresholds))
	if s := buf.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "alert_id=STA13-CPU") || !strings.Contains(s, "percent=75.2") {
		t.Fatalf("log: %s", s)
	}
}

// STA-12: the open-connections gauge follows the device connections,
// a double Close counting once; the sampler's figures are percentages.
func TestSTA12OpenConnectionsAndSample(t *testing.T) {
	r := NewRegistry()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ml := r.MeterListener(ln)
	defer ml.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := ml.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if n := r.OpenConns(); n != 1 {
		t.Fatalf("open %d, want 1", n)
	}
	sc.Close()
	sc.Close()
	if n := r.OpenConns(); n != 0 {
		t.Fatalf("open %d after close, want 0", n)
	}
	var s Sampler
	cpu, mem, heap := s.Sample(time.Now())
	for name, v := range map[string]float64{"cpu": cpu, "mem": mem, "heap": heap} {
		if v < 0 || v > 100 {
			t.Errorf("%s = %v, not a percentage", name, v)
		}
	}
	lines := Utilization{ConnectedDevices: 2}.Lines()
	if lines[0] != "Number of Connected Devices : 2" || lines[2] != "Thread Pool Utilization : 0.0%" {
		t.Fatalf("lines %q", lines)
	}
}
