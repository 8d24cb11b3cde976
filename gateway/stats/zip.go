package stats

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Zip writes the statistics download (STA-11): a ZIP holding
// global-stats.csv as logged so far (header and the current row when the
// file has no row yet, so a fresh gateway still gives peaks to chart) and
// all-device-stats.csv computed now.
func (f Files) Zip(w io.Writer, r *Registry, p *Peaks, t time.Time) error {
	global, err := os.ReadFile(filepath.Join(f.Dir, "global-stats.csv"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stats: zip: %w", err)
	}
	if len(global) == 0 {
		var b bytes.Buffer
		cw := csv.NewWriter(&b)
		cw.Write(GlobalHeader())
		cw.Write(GlobalRow(r, p, t))
		cw.Flush()
		global = b.Bytes()
	}
	zw := zip.NewWriter(w)
	gw, err := zw.CreateHeader(&zip.FileHeader{Name: "global-stats.csv", Method: zip.Deflate, Modified: t})
	if err != nil {
		return fmt.Errorf("stats: zip: %w", err)
	}
	if _, err := gw.Write(global); err != nil {
		return fmt.Errorf("stats: zip: %w", err)
	}
	dw, err := zw.CreateHeader(&zip.FileHeader{Name: "all-device-stats.csv", Method: zip.Deflate, Modified: t})
	if err != nil {
		return fmt.Errorf("stats: zip: %w", err)
	}
	if err := WriteDevices(dw, r, t); err != nil {
		return fmt.Errorf("stats: zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("stats: zip: %w", err)
	}
	return nil
}

// Clear removes global-stats.csv and all-device-stats.csv, as `Apply &
// Reset Statistics` clears the file (STA-08).
func (f Files) Clear() error {
	for _, n := range []string{"global-stats.csv", "all-device-stats.csv"} {
		if err := os.Remove(filepath.Join(f.Dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stats: clear: %w", err)
		}
	}
	return nil
}
