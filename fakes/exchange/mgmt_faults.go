package exchange

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// MgmtFaults are the management API's faults, for the connector's bad
// input tests (PUT /mgmt/v1/faults).
type MgmtFaults struct {
	// ClockSkewSeconds moves the server_time of every page (Exchange's
	// clock) by this much, positive or negative (INT-08).
	ClockSkewSeconds int `json:"clock_skew_seconds,omitempty"`
	// Page breaks page answers (mailbox and device lists).
	Page *PageFault `json:"page,omitempty"`
}

// Page fault kinds.
const (
	PageError     = "error"     // HTTP 500 in the error shape
	PageGarbage   = "garbage"   // 200 with a body that is not JSON
	PageDuplicate = "duplicate" // the previous page's items again, with this page's cursor
	PageHang      = "hang"      // no answer until the client gives up
)

// PageFault breaks Count page answers (default 1) after After good ones,
// counted from when the fault was set.
type PageFault struct {
	Kind  string `json:"kind"`
	After int    `json:"after,omitempty"`
	Count int    `json:"count,omitempty"`
}

type mgmtFaults struct {
	MgmtFaults
	served  int // page answers since the fault was set
	broken  int
	lastMb  []exmgmt.Mailbox
	lastDev []exmgmt.Device
}

// Faults returns the management API's faults.
func (g *Management) Faults() MgmtFaults {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.faults.MgmtFaults
}

// SetFaults replaces the management API's faults and restarts the count.
func (g *Management) SetFaults(f MgmtFaults) error {
	if p := f.Page; p != nil {
		switch p.Kind {
		case PageError, PageGarbage, PageDuplicate, PageHang:
		default:
			return fieldErr("page.kind", "unknown page fault %q", p.Kind)
		}
		if p.After < 0 || p.Count < 0 {
			return fieldErr("page.after", "after and count must not be negative")
		}
		if p.Count == 0 {
			p.Count = 1
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.faults = mgmtFaults{MgmtFaults: f, lastMb: g.faults.lastMb, lastDev: g.faults.lastDev}
	return nil
}

// PagesServed counts the page requests answered (well or not) since start.
func (g *Management) PagesServed() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pagesServed
}

func (g *Management) serverTime() time.Time {
	g.mu.Lock()
	skew := g.faults.ClockSkewSeconds
	g.mu.Unlock()
	return g.s.now().Add(time.Duration(skew) * time.Second).UTC()
}

// pageFault answers a page request broken by the fault (done) or says the
// answer must repeat the previous page (dup).
func (g *Management) pageFault(w http.ResponseWriter, r *http.Request) (dup, done bool) {
	g.mu.Lock()
	g.pagesServed++
	f := &g.faults
	kind := ""
	if f.Page != nil && f.served >= f.Page.After && f.broken < f.Page.Count {
		kind = f.Page.Kind
		f.broken++
	} else {
		f.served++
	}
	g.mu.Unlock()
	switch kind {
	case PageError:
		writeErr(w, apiErr(http.StatusInternalServerError, "internal", "batch failed (injected)"))
	case PageGarbage:
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[{"user":tru`))
	case PageHang:
		select {
		case <-r.Context().Done():
		case <-g.s.stopping:
		}
		// Never answer: returning would send an empty 200, which a
		// client giving up at that very moment could still read as a
		// (broken) page.
		panic(http.ErrAbortHandler)
	case PageDuplicate:
		return true, false
	default:
		return false, false
	}
	return false, true
}

// answerPage writes a page, remembering its items for the duplicate fault.
func (g *Management) answerPage(w http.ResponseWriter, page any, dup bool) {
	g.mu.Lock()
	switch p := page.(type) {
	case *exmgmt.MailboxPage:
		if dup && g.faults.lastMb != nil {
			p.Items = g.faults.lastMb
		}
		g.faults.lastMb = p.Items
	case *exmgmt.DevicePage:
		if dup && g.faults.lastDev != nil {
			p.Items = g.faults.lastDev
		}
		g.faults.lastDev = p.Items
	}
	b, err := json.Marshal(page)
	g.mu.Unlock()
	if err != nil {
		writeErr(w, apiErr(http.StatusInternalServerError, "internal", "encoding the page"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
