package gateway

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/logctl"
)

// initLogSetting keeps `ctl log init-log` for the next start (LOG-09).
func initLogSetting(dataDir string) string { return filepath.Join(dataDir, "init-log.json") }

// startInitLog opens data_dir/init.log as the saved setting says.
func startInitLog(dataDir string) (*logctl.InitLog, error) {
	set, err := logctl.LoadInit(initLogSetting(dataDir))
	if err != nil {
		return nil, err
	}
	return logctl.StartInit(filepath.Join(dataDir, "init.log"), set, time.Now())
}

// gcLogSetting keeps `ctl log gc-log` for the next start (LOG-10).
func gcLogSetting(dataDir string) string { return filepath.Join(dataDir, "gc-log.json") }

// startGCLog starts data_dir/gc.log as the saved setting says; nil when off.
func startGCLog(dataDir string) (*logctl.GCLog, error) {
	set, err := logctl.LoadGC(gcLogSetting(dataDir))
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	return logctl.StartGC(filepath.Join(dataDir, "gc.log"), set)
}
