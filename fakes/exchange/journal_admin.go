package exchange

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// RequestsView is GET /admin/v1/requests: the matching journal entries,
// oldest first, and how many entries the journal has evicted so far.
type RequestsView struct {
	Enabled  bool           `json:"enabled"`
	Dropped  uint64         `json:"dropped"`
	Requests []JournalEntry `json:"requests"`
}

// adminRequests serves GET /admin/v1/requests?user=&device=&cmd=&after=&limit=.
func (s *Server) adminRequests(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "user", "device", "cmd", "after", "limit":
		default:
			writeErr(w, fieldErr(k, "unknown parameter %q (user, device, cmd, after, limit)", k))
			return
		}
	}
	f := JournalFilter{User: q.Get("user"), Device: q.Get("device"), Cmd: q.Get("cmd")}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeErr(w, fieldErr("after", "want a sequence number"))
			return
		}
		f.After = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeErr(w, fieldErr("limit", "want a positive integer"))
			return
		}
		f.Limit = n
	}
	view := RequestsView{Enabled: s.journal != nil, Requests: s.Requests(f)}
	if view.Requests == nil {
		view.Requests = []JournalEntry{}
	}
	if s.journal != nil {
		s.journal.mu.Lock()
		view.Dropped = s.journal.dropped
		s.journal.mu.Unlock()
	}
	writeJSON(w, http.StatusOK, view)
}

// Requests returns the fake's journal entries that match f, oldest first.
func (c *AdminClient) Requests(ctx context.Context, f JournalFilter) ([]JournalEntry, error) {
	q := url.Values{}
	for k, v := range map[string]string{"user": f.User, "device": f.Device, "cmd": f.Cmd} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if f.After > 0 {
		q.Set("after", strconv.FormatUint(f.After, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	path := "/requests"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out RequestsView
	return out.Requests, c.call(ctx, http.MethodGet, path, nil, &out)
}
