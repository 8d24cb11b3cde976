package stats

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// The CSV files of STA-11. The seeds do not give their columns, so they
// are: a timestamp, then every counter by its CLI name; global-stats.csv
// adds each peak gauge and its peak-date.

// GlobalHeader returns the header row of global-stats.csv.
func GlobalHeader() []string {
	h := []string{"time"}
	for _, n := range counterNames {
		h = append(h, n)
	}
	for _, n := range gaugeNames {
		h = append(h, n, "peak-date-"+n)
	}
	return h
}

// GlobalRow returns one row of global-stats.csv for time t.
func GlobalRow(r *Registry, p *Peaks, t time.Time) []string {
	row := []string{t.UTC().Format(time.RFC3339)}
	for _, v := range r.Global() {
		row = append(row, strconv.FormatUint(v.Value, 10))
	}
	for _, pk := range p.All() {
		date := ""
		if !pk.At.IsZero() {
			date = JavaDate(pk.At)
		}
		row = append(row, strconv.FormatFloat(pk.Value, 'f', -1, 64), date)
	}
	return row
}

// WriteDevices writes all-device-stats.csv: one row per device with
// traffic, sorted by device id and user so runs compare line by line.
func WriteDevices(w io.Writer, r *Registry, t time.Time) error {
	cw := csv.NewWriter(w)
	head := append([]string{"time", "device-id", "user-id"}, counterNames[:]...)
	if err := cw.Write(head); err != nil {
		return err
	}
	type row struct {
		k DeviceKey
		d *Device
	}
	var rows []row
	r.Devices(func(k DeviceKey, d *Device) { rows = append(rows, row{k, d}) })
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].k.DeviceID != rows[j].k.DeviceID {
			return rows[i].k.DeviceID < rows[j].k.DeviceID
		}
		return rows[i].k.User < rows[j].k.User
	})
	ts := t.UTC().Format(time.RFC3339)
	for _, rw := range rows {
		rec := []string{ts, rw.k.DeviceID, rw.k.User}
		for _, v := range rw.d.Values() {
			rec = append(rec, strconv.FormatUint(v.Value, 10))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Files writes the statistics files in a directory.
type Files struct {
	Dir string
}

// Archive renames an existing global-stats.csv aside, as a restart does
// (STA-10), and returns the new name ("" when there was none).
func (f Files) Archive(t time.Time) (string, error) {
	cur := filepath.Join(f.Dir, "global-stats.csv")
	if _, err := os.Stat(cur); os.IsNotExist(err) {
		return "", nil
	}
	dst := filepath.Join(f.Dir, "global-stats-"+t.UTC().Format("20060102T150405Z")+".csv")
	if err := os.Rename(cur, dst); err != nil {
		return "", fmt.Errorf("stats: archive: %w", err)
	}
	return dst, nil
}

// Append adds one row to global-stats.csv (with the header when the file
// is new) and rewrites all-device-stats.csv.
func (f Files) Append(r *Registry, p *Peaks, t time.Time) error {
	path := filepath.Join(f.Dir, "global-stats.csv")
	fh, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	st, err := fh.Stat()
	if err != nil {
		fh.Close()
		return fmt.Errorf("stats: %w", err)
	}
	cw := csv.NewWriter(fh)
	if st.Size() == 0 {
		cw.Write(GlobalHeader())
	}
	cw.Write(GlobalRow(r, p, t))
	cw.Flush()
	if err := cw.Error(); err != nil {
		fh.Close()
		return fmt.Errorf("stats: %w", err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	// all-device-stats.csv is replaced atomically so readers never see half a file.
	tmp := filepath.Join(f.Dir, ".all-device-stats.csv.tmp")
	dh, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	if err := WriteDevices(dh, r, t); err != nil {
		dh.Close()
		return fmt.Errorf("stats: %w", err)
	}
	if err := dh.Close(); err != nil {
		return fmt.Errorf("stats: %w", err)
	}
	return os.Rename(tmp, filepath.Join(f.Dir, "all-device-stats.csv"))
}
