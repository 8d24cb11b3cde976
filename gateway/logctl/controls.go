// Package logctl is the gateway's Sentry log controls (LOG-01..08): which
// side of the proxy is logged (device, server, both), how much (levels
// 1–4) and for whom (filters by device id, device ip, user, service,
// logical OR, the matching filter's tag in the line). The settings live in
// memory only: a restart brings the defaults back (LOG-08).
package logctl

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
)

// Direction is the side of the proxy logged (LOG-03).
type Direction string

// The directions `debug sentry log enable` takes.
const (
	Device Direction = "device" // device ↔ gateway
	Server Direction = "server" // gateway ↔ ActiveSync server
	Both   Direction = "both"
)

// Level is the verbosity, 1 (request and status lines) to 4 (LOG-02).
type Level int

// The verbosity levels: each includes the ones below it.
const (
	Level1 Level = 1 // request and status lines
	Level2 Level = 2 // + headers, credentials redacted
	Level3 Level = 3 // + message content (WBXML as XML), credentials redacted
	Level4 Level = 4 // + content that is not WBXML (MIME, attachments)
)

// ParseLevel reads level_1_lowest|level_2|level_3|level_4_highest (the
// seeds' names), level1..level4 (what `show` prints) or 1..4.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(s) {
	case "level_1_lowest", "level1", "1":
		return Level1, nil
	case "level_2", "level2", "2":
		return Level2, nil
	case "level_3", "level3", "3":
		return Level3, nil
	case "level_4_highest", "level4", "4":
		return Level4, nil
	}
	return 0, fmt.Errorf("logctl: verbosity %q: want level_1_lowest, level_2, level_3 or level_4_highest", s)
}

// String is the form `show sentry log` prints: level1..level4.
func (l Level) String() string { return fmt.Sprintf("level%d", int(l)) }

// ParseDirection reads device|server|both; empty is both (LOG-03).
func ParseDirection(s string) (Direction, error) {
	switch d := Direction(strings.ToLower(s)); d {
	case "":
		return Both, nil
	case Device, Server, Both:
		return d, nil
	}
	return "", fmt.Errorf("logctl: direction %q: want device, server or both", s)
}

// FilterTypes are the attributes a filter may match (LOG-05). bundle-id
// and config-uuid are accepted as the seeds list them; ActiveSync traffic
// carries neither, so such filters match nothing here.
var FilterTypes = []string{"device-id", "device-ip", "user-id", "bundle-id", "service-name", "config-uuid"}

// Filter keeps the lines of the requests whose attribute equals Value.
type Filter struct {
	Tag     string `json:"tag"`
	Enabled bool   `json:"enabled"`
	Type    string `json:"type"`
	Value   string `json:"value"`
}

// Settings is the whole log configuration (`show sentry log` and `show
// sentry log filter`).
type Settings struct {
	Enabled   bool      `json:"enable"`
	Direction Direction `json:"log_from_to"`
	Level     Level     `json:"verbosity"`
	Filters   []Filter  `json:"filters"`
}

// Defaults are the settings at start: logging off, both sides, level 1,
// no filters. Level 3 content is therefore off by default.
func Defaults() Settings { return Settings{Direction: Both, Level: Level1, Filters: []Filter{}} }

// Entry is who a request is for, what the filters match.
type Entry struct {
	DeviceID, DeviceIP, User, Service string
}

// Controls holds the settings; reads on the request path are one atomic
// load.
type Controls struct {
	mu  sync.Mutex // serialises writers
	cur atomic.Pointer[Settings]
	out *lineWriter
}

// Settings returns a copy of the current settings.
func (c *Controls) Settings() Settings {
	s := *c.cur.Load()
	s.Filters = append([]Filter{}, s.Filters...)
	return s
}

// update applies f to a copy of the settings and publishes it.
func (c *Controls) update(f func(*Settings) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.Settings()
	if err := f(&s); err != nil {
		return err
	}
	c.cur.Store(&s)
	return nil
}

// Enable is `debug sentry log enable {device|server|both}`.
func (c *Controls) Enable(d Direction) error {
	return c.update(func(s *Settings) error { s.Enabled, s.Direction = true, d; return nil })
}

// Disable is `no debug sentry log`.
func (c *Controls) Disable() {
	_ = c.update(func(s *Settings) error { s.Enabled = false; return nil })
}

// SetLevel is `debug sentry log verbosity`.
func (c *Controls) SetLevel(l Level) error {
	if l < Level1 || l > Level4 {
		return fmt.Errorf("logctl: verbosity %d: want 1 to 4", int(l))
	}
	return c.update(func(s *Settings) error { s.Level = l; return nil })
}

// AddFilter is `debug sentry log filter <tag> <type> <value>`.
func (c *Controls) AddFilter(f Filter) error {
	known := false
	for _, t := range FilterTypes {
		known = known || t == f.Type
	}
	switch {
	case !known:
		return fmt.Errorf("logctl: filter type %q: want one of %s", f.Type, strings.Join(FilterTypes, ", "))
	case f.Value == "":
		return fmt.Errorf("logctl: filter %q: value is empty", f.Tag)
	case f.Tag == "" || strings.ContainsAny(f.Tag, " \t\r\n[],"):
		return fmt.Errorf("logctl: filter tag %q: want a word without spaces, brackets or commas", f.Tag)
	}
	f.Enabled = true
	return c.update(func(s *Settings) error { s.Filters = append(s.Filters, f); return nil })
}

// DeleteFilters is `no debug sentry log filter <tag>`: it deletes every
// filter with that tag and reports how many there were.
func (c *Controls) DeleteFilters(tag string) (n int) {
	_ = c.update(func(s *Settings) error {
		kept := s.Filters[:0]
		for _, f := range s.Filters {
			if f.Tag == tag {
				n++
				continue
			}
			kept = append(kept, f)
		}
		s.Filters = kept
		return nil
	})
	return n
}

// SetFiltersEnabled disables or re-enables the filters with that tag (the
// seeds' Disable box); a disabled filter has no effect (LOG-06).
func (c *Controls) SetFiltersEnabled(tag string, on bool) (n int) {
	_ = c.update(func(s *Settings) error {
		for i := range s.Filters {
			if s.Filters[i].Tag == tag {
				s.Filters[i].Enabled = on
				n++
			}
		}
		return nil
	})
	return n
}

// match says whether e's lines are kept and with which tags: with no
// enabled filter every line is kept untagged, else a line is kept when
// ANY enabled filter matches (LOG-06).
func match(s *Settings, e Entry) (tags []string, keep bool) {
	active := false
	for _, f := range s.Filters {
		if !f.Enabled {
			continue
		}
		active = true
		if f.matches(e) {
			tags = append(tags, f.Tag)
		}
	}
	return tags, !active || len(tags) > 0
}

func (f Filter) matches(e Entry) bool {
	switch f.Type {
	case "device-id":
		return e.DeviceID == f.Value
	case "device-ip":
		return e.DeviceIP == f.Value
	case "user-id": // exact but case-insensitive, as the seeds say
		return strings.EqualFold(e.User, f.Value)
	case "service-name":
		return e.Service == f.Value
	}
	return false
}
