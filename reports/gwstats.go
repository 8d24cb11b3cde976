package reports

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"sort"
	"strconv"
	"time"
)

// Gateway statistics columns the report charts (gateway/stats): the
// gateway writes peaks, so these are "highest so far" at each row.
const (
	ColCacheSize = "peak-device-cache-size"
	ColHeapMB    = "peak-heap-mem-used-MB"
)

// GlobalStats is a global-stats.csv: one row per statistics interval.
type GlobalStats struct {
	Path    string
	Columns []string
	Rows    []StatsRow
}

// StatsRow is one row: its time and the numeric columns (peak dates
// and other text are left out).
type StatsRow struct {
	Time   time.Time
	Values map[string]float64
}

// DeviceStats is an all-device-stats.csv: per-device counters at one time.
type DeviceStats struct {
	Path    string
	Time    time.Time
	Columns []string // counter names
	Devices []DeviceRow
}

// DeviceRow is one (device, user)'s counters.
type DeviceRow struct {
	DeviceID, User string
	Values         map[string]float64
}

func readCSV(path string, b []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = 0 // every row as long as the header
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reports: %s: %w", path, err)
	}
	return recs, nil
}

func parseGlobalStats(path string, b []byte) (*GlobalStats, error) {
	recs, err := readCSV(path, b)
	if err != nil {
		return nil, err
	}
	g := &GlobalStats{Path: path, Columns: recs[0]}
	for i, rec := range recs[1:] {
		t, err := time.Parse(time.RFC3339, rec[0])
		if err != nil {
			return nil, fmt.Errorf("reports: %s: row %d: time: %w", path, i+2, err)
		}
		row := StatsRow{Time: t, Values: map[string]float64{}}
		for j, v := range rec[1:] {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				row.Values[g.Columns[j+1]] = f
			}
		}
		g.Rows = append(g.Rows, row)
	}
	sort.SliceStable(g.Rows, func(i, j int) bool { return g.Rows[i].Time.Before(g.Rows[j].Time) })
	return g, nil
}

func parseDeviceStats(path string, b []byte) (*DeviceStats, error) {
	recs, err := readCSV(path, b)
	if err != nil {
		return nil, err
	}
	d := &DeviceStats{Path: path, Columns: recs[0][3:]}
	for i, rec := range recs[1:] {
		t, err := time.Parse(time.RFC3339, rec[0])
		if err != nil {
			return nil, fmt.Errorf("reports: %s: row %d: time: %w", path, i+2, err)
		}
		d.Time = t
		row := DeviceRow{DeviceID: rec[1], User: rec[2], Values: map[string]float64{}}
		for j, v := range rec[3:] {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fmt.Errorf("reports: %s: row %d, %s: %w", path, i+2, d.Columns[j], err)
			}
			row.Values[d.Columns[j]] = f
		}
		d.Devices = append(d.Devices, row)
	}
	return d, nil
}
