package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
)

// The audit entries (GET audit/entries): the last lines of the audit log
// as written (AUD-08's syslog form), optionally those about one device,
// so that a test or an operator reads the audit log without a shell on
// the gateway (the conformance suite's audit specs).

// auditTail bounds how much of the end of the audit log one request reads.
const auditTail = 8 << 20

// maxAuditLines bounds the lines one request returns.
const maxAuditLines = 10000

// AuditEntries is the answer of GET audit/entries.
type AuditEntries struct {
	Lines []string `json:"lines"`
}

func (a *api) auditEntries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 1000
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditLines {
			writeErr(w, http.StatusBadRequest, fmt.Errorf("limit: must be 1-%d", maxAuditLines))
			return
		}
		limit = n
	}
	if a.d.AuditFile == "" {
		writeErr(w, http.StatusConflict, errors.New("this gateway has no audit log"))
		return
	}
	if a.d.Audit != nil {
		// The log is written in batches: what the caller's traffic made
		// so far is on disk before it is read.
		if err := a.d.Audit.Flush(); err != nil {
			writeErr(w, http.StatusInternalServerError, err)
			return
		}
	}
	lines, err := readAuditTail(a.d.AuditFile, q.Get("device"), limit)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, AuditEntries{Lines: lines})
}

// readAuditTail returns the last limit lines of the file's last
// auditTail bytes, only those whose entry's deviceId is device when
// device is not empty.
func readAuditTail(path, device string, limit int) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	from := max(st.Size()-auditTail, 0)
	raw, err := io.ReadAll(io.NewSectionReader(f, from, st.Size()-from))
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	if from > 0 { // the first line is cut: drop it
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			raw = raw[i+1:]
		}
	}
	lines := []string{}
	for line := range bytes.Lines(raw) {
		line = bytes.TrimRight(line, "\n")
		if len(line) == 0 || (device != "" && auditDevice(line) != device) {
			continue
		}
		lines = append(lines, string(line))
	}
	if len(lines) > limit {
		lines = lines[len(lines)-limit:]
	}
	return lines, nil
}

// auditDevice is the deviceId of an audit line's JSON object.
func auditDevice(line []byte) string {
	i := bytes.IndexByte(line, '{')
	if i < 0 {
		return ""
	}
	var e struct {
		DeviceID string `json:"deviceId"`
	}
	_ = json.Unmarshal(line[i:], &e) // a line that is not an entry matches no device
	return e.DeviceID
}

// AuditEntries returns the last lines of the audit log (AUD-08 form),
// those about device only when it is not empty.
func (c *Client) AuditEntries(ctx context.Context, device string) ([]string, error) {
	var out AuditEntries
	path := "audit/entries"
	if device != "" {
		path += "?" + url.Values{"device": {device}}.Encode()
	}
	return out.Lines, c.do(ctx, http.MethodGet, path, nil, &out)
}
