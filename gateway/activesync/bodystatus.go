package activesync

import (
	"bytes"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// maxStatusBody bounds the server answers read for the Status they carry
// (ALR-03, STA-04): Ping and FolderSync answers and Sync errors are a
// few hundred bytes; a Sync that carries mail or attachments is larger
// and streams unread.
const maxStatusBody = 4 << 10

// serverStatus reads the Status of a small WBXML Ping, FolderSync or Sync
// answer from the server: a Sync or FolderSync error Status (above 1, at
// the top or in a Sync collection) counts in active-sync-status-reports
// and raises the command's alert; Ping Status 2 (changes found) raises
// AS_PING too, as the seeds say the appliance does, though it is no
// error. The body goes on to the device unchanged.
func (h *Handler) serverStatus(resp *http.Response, x *exchange) {
	cmd := x.info.Query.Cmd
	if (cmd != eas.CmdPing && cmd != eas.CmdFolderSync && cmd != eas.CmdSync) || resp.StatusCode != http.StatusOK ||
		resp.ContentLength <= 0 || resp.ContentLength > maxStatusBody || resp.Header.Get("Content-Encoding") != "" {
		return
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != eas.ContentTypeWBXML {
		return
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxStatusBody))
	resp.Body.Close()
	if err != nil {
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b), errReader{err}))
		return
	}
	setBody(resp, b)
	for _, st := range bodyStatuses(b) {
		switch {
		case cmd == eas.CmdPing && st == 2:
			h.alertStatus(x, eas.Status(st), "changes found (not an error; the appliance alerts on it)")
			return
		case cmd != eas.CmdPing && st > 1:
			x.count(stats.ActiveSyncStatusReports)
			h.alertStatus(x, eas.Status(st), "from the ActiveSync server")
			return
		}
	}
}

// bodyStatuses returns the top-level Status of an answer and those of
// its Sync collections.
func bodyStatuses(b []byte) []int {
	d, err := wbxml.Parse(b, wbxml.Limits{MaxSize: len(b)})
	if err != nil || d.Root == nil {
		return nil
	}
	var out []int
	add := func(n *wbxml.Node) {
		for _, c := range n.Children {
			if c.Tag.Name() == "Status" {
				if v, err := strconv.Atoi(c.Text()); err == nil {
					out = append(out, v)
				}
			}
		}
	}
	add(d.Root)
	for _, c := range d.Root.Children {
		if c.Tag.Name() == "Collections" {
			for _, col := range c.Children {
				add(col)
			}
		}
	}
	return out
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
