package device_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Raw sends the body as given and records exactly what came back: the
// server's journal holds the same bytes both ways.
func TestRawSendsAndRecordsExactly(t *testing.T) {
	x, hc := newExchange(t)
	ctx := context.Background()
	for _, b64 := range []bool{false, true} {
		id := map[bool]string{false: "RAWPLAIN", true: "RAWB64"}[b64]
		d, err := device.New(device.Config{ID: id, User: "alice", Password: "alice-pw", Version: eas.V161, Base64Query: b64}, x.URL(), hc)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Provision(ctx); err != nil {
			t.Fatal(err)
		}
		body, err := wbxml.Marshal(wbxml.NewElement(wbxml.MustTag("FolderHierarchy:FolderSync"), wbxml.NewText(wbxml.MustTag("FolderHierarchy:SyncKey"), "0")))
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Raw(ctx, device.RawRequest{Cmd: eas.CmdFolderSync, Body: body, Header: map[string][]string{"X-Test": {"1"}}})
		if err != nil {
			t.Fatal(err)
		}
		es := x.Requests(exchange.JournalFilter{Device: id, Cmd: "FolderSync"})
		if len(es) != 1 {
			t.Fatalf("%s: %d journal entries", id, len(es))
		}
		e := es[0]
		if !bytes.Equal(e.RequestBody, got.SentBody) || !bytes.Equal(e.ResponseBody, got.Body) || e.Status != got.Status || got.Status != 200 {
			t.Errorf("%s: device and server disagree: sent %x / %x, got %x / %x", id, got.SentBody, e.RequestBody, got.Body, e.ResponseBody)
		}
		if e.RequestHeader.Get("X-Test") != "1" || got.SentHeader.Get("Authorization") == "" {
			t.Errorf("%s: headers sent %v, received %v", id, got.SentHeader, e.RequestHeader)
		}
		if r := got.Root(); r == nil || r.Tag.String() != "FolderHierarchy:FolderSync" {
			t.Errorf("%s: Root() = %v", id, r)
		}
		if d.Last().Cmd != eas.CmdFolderSync || d.Last().HTTPStatus != 200 || d.Last().Status != 1 {
			t.Errorf("%s: round trip not recorded: %+v", id, d.Last())
		}
	}
}
