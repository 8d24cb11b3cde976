package gateway_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway"
)

// A New that fails late (here on a damaged local-config.xml, after the
// device list, the audit, Sentry and MICS logs and the alert store are
// open) closes what it opened: the next New on the same data directory,
// in the same process, gets the device list's bbolt lock at once instead
// of failing on bbolt's lock timeout.
func TestNewThatFailsLateReleasesTheDataDir(t *testing.T) {
	dir := t.TempDir()
	cfg := gateway.Defaults()
	cfg.Listen, cfg.NotifyListen, cfg.AdminListen = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.UEM = gateway.UEMConfig{URL: "https://127.0.0.1:1", Token: "token", NotifySecret: "notify-secret-0123456789", Insecure: true}
	cfg.AdminToken = "admin-token"
	path := filepath.Join(dir, "local-config.xml")
	if err := os.WriteFile(path, []byte("<localConfig><audti>true</audti></localConfig>"), 0o600); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if _, err := gateway.New(cfg, log); err == nil || !strings.Contains(err.Error(), "local-config.xml") {
		t.Fatalf("New with a damaged local-config.xml: %v, want it refused late, on the file", err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(cfg, log)
	if err != nil {
		t.Fatalf("New after a failed New on the same data dir: %v", err)
	}
	if err := gw.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}
