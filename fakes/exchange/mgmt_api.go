package exchange

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
	"github.com/gatehouse-lab/gatehouse/protocol/exmgmt"
)

// MgmtToken is the management API's bearer token (Config.MgmtToken, or
// the admin token when that is empty).
func (s *Server) MgmtToken() string {
	if s.cfg.MgmtToken != "" {
		return s.cfg.MgmtToken
	}
	return s.adminToken
}

// isMgmt routes /mgmt/ on the admin listener to the management API.
func isMgmt(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, exmgmt.Prefix+"/") }

func (g *Management) handler() http.Handler {
	p := exmgmt.Prefix
	mux := httpapi.NewMux()
	mux.HandleFunc("GET "+p+"/mailboxes", g.apiMailboxes)
	mux.HandleFunc("POST "+p+"/mailboxes/recalculate", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, g.recalculate()) })
	mux.HandleFunc("POST "+p+"/mailboxes/{user}/access", g.apiSetAccess)
	mux.HandleFunc("POST "+p+"/mailboxes/access", g.apiSetAccessBatch)
	mux.HandleFunc("GET "+p+"/devices", g.apiDevices)
	mux.HandleFunc("POST "+p+"/devices/{user}/{device}/wipe", g.apiWipe)
	mux.HandleFunc("DELETE "+p+"/devices/{user}/{device}", g.apiRemove)
	mux.HandleFunc("GET "+p+"/organization", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, g.organization()) })
	mux.HandleFunc("PUT "+p+"/organization", g.apiSetOrg)
	mux.HandleFunc("GET "+p+"/access-rules", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, g.Rules()) })
	mux.HandleFunc("POST "+p+"/access-rules", g.apiAddRule)
	mux.HandleFunc("DELETE "+p+"/access-rules/{name}", g.apiRemoveRule)
	mux.HandleFunc("GET "+p+"/faults", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, g.Faults()) })
	mux.HandleFunc("PUT "+p+"/faults", g.apiSetFaults)
	token := []byte(g.s.MgmtToken())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !httpapi.BearerMatches(r.Header, string(token)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-exchange-mgmt"`)
			writeErr(w, apiErr(http.StatusUnauthorized, "unauthorized", "missing or wrong management token"))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// listOptions reads cursor, limit (default 1,000, at most exmgmt.MaxPage),
// since and with_partnership.
func listOptions(r *http.Request) (start, limit int, since time.Time, withP bool, err error) {
	q := r.URL.Query()
	if c := q.Get("cursor"); c != "" {
		if start, err = strconv.Atoi(c); err != nil || start < 0 {
			return 0, 0, since, false, fieldErr("cursor", "not a cursor of this API")
		}
	}
	limit = 1000
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.Atoi(l); err != nil || limit < 1 || limit > exmgmt.MaxPage {
			return 0, 0, since, false, fieldErr("limit", "limit must be 1..%d", exmgmt.MaxPage)
		}
	}
	if v := q.Get("since"); v != "" {
		if since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return 0, 0, since, false, fieldErr("since", "since must be an RFC 3339 time")
		}
	}
	return start, limit, since, q.Get("with_partnership") == "true", nil
}

func (g *Management) apiMailboxes(w http.ResponseWriter, r *http.Request) {
	start, limit, since, withP, err := listOptions(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	dup, done := g.pageFault(w, r)
	if done {
		return
	}
	g.mu.Lock()
	page := exmgmt.MailboxPage{Items: make([]exmgmt.Mailbox, 0, min(limit, len(g.mbOrder)))}
	i := start
	for ; i < len(g.mbOrder) && len(page.Items) < limit; i++ {
		m := g.mbOrder[i].m
		if (withP && !m.HasActiveSyncDevicePartnership) || (!since.IsZero() && !m.WhenChanged.After(since)) {
			continue
		}
		page.Items = append(page.Items, cloneMailbox(m))
	}
	if i < len(g.mbOrder) {
		page.NextCursor = strconv.Itoa(i)
	}
	g.mu.Unlock()
	page.ServerTime = g.serverTime()
	g.answerPage(w, &page, dup)
}

func (g *Management) apiDevices(w http.ResponseWriter, r *http.Request) {
	start, limit, since, _, err := listOptions(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	dup, done := g.pageFault(w, r)
	if done {
		return
	}
	g.mu.Lock()
	page := exmgmt.DevicePage{Items: make([]exmgmt.Device, 0, min(limit, len(g.devOrder)))}
	i := start
	for ; i < len(g.devOrder) && len(page.Items) < limit; i++ {
		r := g.devOrder[i]
		g.refreshWipeLocked(r)
		if r.removed || (!since.IsZero() && !r.d.WhenChanged.After(since)) {
			continue
		}
		g.evaluateLocked(&r.d)
		page.Items = append(page.Items, r.d)
	}
	if i < len(g.devOrder) {
		page.NextCursor = strconv.Itoa(i)
	}
	g.mu.Unlock()
	page.ServerTime = g.serverTime()
	g.answerPage(w, &page, dup)
}

func (g *Management) apiSetAccess(w http.ResponseWriter, r *http.Request) {
	var ch exmgmt.AccessChange
	if err := decodeBody(w, r, 1<<20, &ch); err != nil {
		writeErr(w, err)
		return
	}
	for _, id := range slices.Concat(ch.Allow, ch.Block, ch.Forget) {
		if id == "" || len(id) > 128 {
			writeErr(w, fieldErr("allow", "device ids must be 1..128 characters"))
			return
		}
	}
	m, ok := g.setAccess(r.PathValue("user"), ch)
	if !ok {
		writeErr(w, apiErr(http.StatusNotFound, "no_such_user", "no mailbox %q", r.PathValue("user")))
		return
	}
	g.s.wakeMailbox(m.Name)
	writeJSON(w, http.StatusOK, m)
}

func (g *Management) apiSetAccessBatch(w http.ResponseWriter, r *http.Request) {
	var b exmgmt.AccessBatch
	if err := decodeBody(w, r, 16<<20, &b); err != nil {
		writeErr(w, err)
		return
	}
	if len(b.Items) > exmgmt.MaxBatch {
		writeErr(w, fieldErr("items", "at most %d items", exmgmt.MaxBatch))
		return
	}
	for i, it := range b.Items {
		if _, ok := g.Mailbox(it.User); !ok {
			writeErr(w, apiErr(http.StatusNotFound, "no_such_user", "items[%d]: no mailbox %q", i, it.User))
			return
		}
		for _, id := range slices.Concat(it.Change.Allow, it.Change.Block, it.Change.Forget) {
			if id == "" || len(id) > 128 {
				writeErr(w, fieldErr(fmt.Sprintf("items[%d]", i), "device ids must be 1..128 characters"))
				return
			}
		}
	}
	out := exmgmt.MailboxBatch{Items: make([]exmgmt.Mailbox, len(b.Items))}
	for i, it := range b.Items {
		out.Items[i], _ = g.setAccess(it.User, it.Change)
		g.s.wakeMailbox(it.User)
	}
	writeJSON(w, http.StatusOK, out)
}

func (g *Management) apiWipe(w http.ResponseWriter, r *http.Request) {
	var req exmgmt.WipeRequest
	if r.ContentLength != 0 {
		if err := decodeBody(w, r, 64<<10, &req); err != nil {
			writeErr(w, err)
			return
		}
	}
	d, err := g.wipe(r.PathValue("user"), r.PathValue("device"), req.AccountOnly)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, d)
}

func (g *Management) apiRemove(w http.ResponseWriter, r *http.Request) {
	if !g.remove(r.PathValue("user"), r.PathValue("device")) {
		writeErr(w, apiErr(http.StatusNotFound, "no_such_device", "no partnership of %q with device %q", r.PathValue("user"), r.PathValue("device")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (g *Management) apiSetOrg(w http.ResponseWriter, r *http.Request) {
	var o exmgmt.Organization
	if err := decodeBody(w, r, 64<<10, &o); err != nil {
		writeErr(w, err)
		return
	}
	if !o.DefaultAccessLevel.Valid() {
		writeErr(w, fieldErr("default_access_level", "must be Allow, Block or Quarantine"))
		return
	}
	g.changeRules(func() { g.org.DefaultAccessLevel = o.DefaultAccessLevel })
	writeJSON(w, http.StatusOK, g.organization())
}

func (g *Management) apiAddRule(w http.ResponseWriter, r *http.Request) {
	var rule exmgmt.Rule
	if err := decodeBody(w, r, 64<<10, &rule); err != nil {
		writeErr(w, err)
		return
	}
	if err := g.AddRule(rule); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, rule)
}

func (g *Management) apiRemoveRule(w http.ResponseWriter, r *http.Request) {
	if !g.RemoveRule(r.PathValue("name")) {
		writeErr(w, apiErr(http.StatusNotFound, "no_such_rule", "no rule %q", r.PathValue("name")))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (g *Management) apiSetFaults(w http.ResponseWriter, r *http.Request) {
	var f MgmtFaults
	if err := decodeBody(w, r, 64<<10, &f); err != nil {
		writeErr(w, err)
		return
	}
	if err := g.SetFaults(f); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, g.Faults())
}
