package gateway

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
)

// STA-08: the statistics loop follows the run-time collection setting: a
// stopped collection started at a 1 s interval writes global-stats.csv
// although the bootstrap interval is 5 minutes.
func TestSTA08StatsLoopFollowsTheCollection(t *testing.T) {
	g := NewWithT(t)
	dir := t.TempDir()
	s := &Server{cfg: Config{DataDir: dir, StatsInterval: 5 * time.Minute}, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		stats: stats.NewRegistry(), peaks: &stats.Peaks{}, cache: devicecache.New(nil), coll: stats.NewCollection(5 * time.Minute)}
	off := false
	if err := s.coll.Set(&off, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.statsLoop(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	on, iv := true, time.Second
	if err := s.coll.Set(&on, &iv); err != nil {
		t.Fatal(err)
	}
	g.Eventually(func() error {
		_, err := os.Stat(filepath.Join(dir, "global-stats.csv"))
		return err
	}, 10*time.Second, 100*time.Millisecond).Should(Succeed())
}
