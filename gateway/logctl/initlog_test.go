package logctl

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// LOG-09: each verbosity keeps its severities and no others; the tee ends
// at Finish; the previous start's file is kept as init.log.1; off writes
// nothing; the setting survives in its file.
func TestLOG09InitLogLevelsAndWindow(t *testing.T) {
	for _, tc := range []struct {
		level Level
		want  []string // messages in init.log, besides begin and end
	}{
		{Level1, []string{"boom"}},
		{Level2, []string{"careful", "boom"}},
		{Level3, []string{"step", "careful", "boom"}},
		{Level4, []string{"detail", "step", "careful", "boom"}},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "init.log")
			if err := os.WriteFile(path, []byte("previous start\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			il, err := StartInit(path, InitSetting{Enabled: true, Level: tc.level}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			var main strings.Builder
			log := slog.New(il.Handler(slog.NewTextHandler(&main, &slog.HandlerOptions{Level: slog.LevelInfo}))).With("component", "gw")
			log.Debug("detail")
			log.Info("step")
			log.Warn("careful")
			log.Error("boom")
			il.Finish(errors.New("no UEM"))
			log.Error("after the start")
			got, _ := os.ReadFile(path)
			for _, m := range []string{"initialisation begins", "initialisation failed", "no UEM", "component=gw"} {
				if !strings.Contains(string(got), m) {
					t.Errorf("init.log lacks %q:\n%s", m, got)
				}
			}
			for _, m := range []string{"detail", "step", "careful", "boom", "after the start"} {
				want := strings.Contains(strings.Join(tc.want, " "), m)
				if strings.Contains(string(got), "msg="+m) != want {
					t.Errorf("%s in init.log: %t, want %t:\n%s", m, !want, want, got)
				}
			}
			if strings.Contains(main.String(), "detail") || !strings.Contains(main.String(), "after the start") {
				t.Errorf("the main log changed: %s", main.String())
			}
			if prev, _ := os.ReadFile(path + ".1"); string(prev) != "previous start\n" {
				t.Errorf("init.log.1 = %q, want the previous start's file", prev)
			}
		})
	}
}

func TestLOG09InitLogOffAndSaved(t *testing.T) {
	dir := t.TempDir()
	setting := filepath.Join(dir, "init-log.json")
	if s, err := LoadInit(setting); err != nil || s != DefaultInit() {
		t.Fatalf("never set: %+v, %v; want the default %+v", s, err, DefaultInit())
	}
	if err := SaveInit(setting, InitSetting{Enabled: false, Level: Level2}); err != nil {
		t.Fatal(err)
	}
	s, err := LoadInit(setting)
	if err != nil || s.Enabled || s.Level != Level2 {
		t.Fatalf("saved off at level 2, loaded %+v, %v", s, err)
	}
	path := filepath.Join(dir, "init.log")
	il, err := StartInit(path, s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	slog.New(il.Handler(nil)).Error("boom")
	il.Finish(nil)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("init.log written while off: %v", err)
	}
	if err := SaveInit(setting, InitSetting{Enabled: true, Level: 7}); err == nil {
		t.Fatal("saved verbosity 7")
	}
	if err := os.WriteFile(setting, []byte(`{"enabled":true,"verbosity":9}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadInit(setting); err == nil || !strings.Contains(err.Error(), "init-log.json") {
		t.Fatalf("a damaged setting: %v; want an error naming the file", err)
	}
}
