package framework

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"

	"github.com/onsi/gomega"

	"github.com/gatehouse-lab/gatehouse/fakes/exchange"
	"github.com/gatehouse-lab/gatehouse/loadgen/device"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// FeatureTransparency labels the specs that compare what a device sent
// with what Exchange received through the gateway, and what Exchange
// answered with what the device got.
const FeatureTransparency = "transparency"

// RequestHeadersThatMatter are the request headers an ActiveSync server
// acts on; a transparent gateway passes them unchanged (Authorization is
// compared by its hash, see Relayed).
var RequestHeadersThatMatter = []string{
	"Content-Type", eas.HeaderProtocolVersion, eas.HeaderPolicyKey, "User-Agent", "Accept-Language", eas.HeaderAcceptMultiPart,
}

// ResponseHeadersThatMatter are the response headers a device acts on.
var ResponseHeadersThatMatter = []string{
	"Content-Type", "Content-Encoding", eas.HeaderServerActiveSync, "X-MS-Location", "Retry-After", "WWW-Authenticate",
}

// journal is what the Exchange handle gives when the fake keeps its
// request journal (in-process and over the admin API).
type journal interface {
	Requests(ctx context.Context, f exchange.JournalFilter) ([]exchange.JournalEntry, error)
}

var (
	_ journal = (*exchange.AdminClient)(nil)
	_ journal = inProcessExchange{}
)

// Requests reads the fake's request journal.
func (x inProcessExchange) Requests(_ context.Context, f exchange.JournalFilter) ([]exchange.JournalEntry, error) {
	return x.s.Requests(f), nil
}

// ExchangeRequests returns the fake Exchange's journal entries matching f.
func (f *Framework) ExchangeRequests(filter exchange.JournalFilter) []exchange.JournalEntry {
	j, ok := f.Exchange.(journal)
	gomega.Expect(ok).To(gomega.BeTrue(), "the world's Exchange keeps no request journal")
	es, err := j.Requests(f.Ctx(), filter)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "reading Exchange's request journal")
	return es
}

// lastSeq is the sequence number of the device's latest journal entry (0
// before any).
func (f *Framework) lastSeq(d *device.Device) uint64 {
	if es := f.ExchangeRequests(exchange.JournalFilter{Device: d.ID(), User: d.User(), Limit: 1}); len(es) > 0 {
		return es[0].Seq
	}
	return 0
}

// Relay sends rr from the device through the gateway and returns what
// the device received and the one request Exchange received for it (the
// server journals a request just after answering it, hence Eventually).
func (f *Framework) Relay(d *device.Device, rr device.RawRequest) (*device.RawResponse, exchange.JournalEntry) {
	after := f.lastSeq(d)
	got, err := d.Raw(f.Ctx(), rr)
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "%s: sending through the gateway", rr.Cmd)
	var es []exchange.JournalEntry
	gomega.Eventually(func() []exchange.JournalEntry {
		es = f.ExchangeRequests(exchange.JournalFilter{Device: d.ID(), User: d.User(), Cmd: string(rr.Cmd), After: after})
		return es
	}).Should(gomega.HaveLen(1), "%s: Exchange received the request once (HTTP %d at the device)", rr.Cmd, got.Status)
	return got, es[0]
}

// NotRelayed asserts that Exchange received nothing from the device
// since the sequence number after (see Relay).
func (f *Framework) NotRelayed(d *device.Device, after uint64, why string) {
	gomega.Consistently(func() []exchange.JournalEntry {
		return f.ExchangeRequests(exchange.JournalFilter{Device: d.ID(), User: d.User(), After: after})
	}, "300ms", "50ms").Should(gomega.BeEmpty(), why)
}

// LastExchangeSeq is the device's latest journal sequence number, for
// NotRelayed.
func (f *Framework) LastExchangeSeq(d *device.Device) uint64 { return f.lastSeq(d) }

// ExpectRequestUnchanged asserts that Exchange received the request the
// device sent: the request line's query, the body byte for byte, the
// headers that matter and the same credentials (pass-through).
func ExpectRequestUnchanged(got *device.RawResponse, e exchange.JournalEntry) {
	what := fmt.Sprintf("%s %s", e.Cmd, e.Version)
	sent, err := url.Parse(got.SentURL)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(e.Query).To(gomega.Equal(sent.RawQuery), "%s: the request line's query reached Exchange unchanged", what)
	gomega.Expect(e.RequestTruncated).To(gomega.BeFalse(), "%s: the journal kept the whole body", what)
	gomega.Expect(e.RequestBody).To(gomega.Equal(got.SentBody), "%s: Exchange received the body the device sent, byte for byte\n%s", what, treeDiff(got.SentBody, e.RequestBody))
	for _, h := range RequestHeadersThatMatter {
		gomega.Expect(e.RequestHeader.Values(h)).To(gomega.Equal(got.SentHeader.Values(h)), "%s: request header %s", what, h)
	}
	sum := sha256.Sum256([]byte(got.SentHeader.Get("Authorization")))
	gomega.Expect(e.AuthorizationSHA256).To(gomega.Equal(hex.EncodeToString(sum[:])), "%s: the device's credentials reached Exchange unchanged", what)
}

// ExpectResponseUnchanged asserts that the device received Exchange's
// answer: status, the headers that matter and the body byte for byte.
func ExpectResponseUnchanged(got *device.RawResponse, e exchange.JournalEntry) {
	what := fmt.Sprintf("%s %s", e.Cmd, e.Version)
	gomega.Expect(got.Status).To(gomega.Equal(e.Status), "%s: the device got Exchange's HTTP status", what)
	gomega.Expect(e.ResponseTruncated).To(gomega.BeFalse(), "%s: the journal kept the whole answer", what)
	gomega.Expect(got.Body).To(gomega.Equal(e.ResponseBody), "%s: the device got Exchange's answer byte for byte\n%s", what, treeDiff(e.ResponseBody, got.Body))
	for _, h := range ResponseHeadersThatMatter {
		gomega.Expect(got.Header.Values(h)).To(gomega.Equal(e.ResponseHeader.Values(h)), "%s: response header %s", what, h)
	}
}

// ExpectTransparent is ExpectRequestUnchanged and ExpectResponseUnchanged.
func ExpectTransparent(got *device.RawResponse, e exchange.JournalEntry) {
	ExpectRequestUnchanged(got, e)
	ExpectResponseUnchanged(got, e)
}

// treeDiff says where two WBXML bodies differ, for failure messages.
func treeDiff(want, got []byte) string {
	if bytes.Equal(want, got) {
		return ""
	}
	a, errA := wbxml.Parse(want, wbxml.Limits{})
	b, errB := wbxml.Parse(got, wbxml.Limits{})
	if errA != nil || errB != nil {
		return fmt.Sprintf("(not both WBXML: %d vs %d bytes)", len(want), len(got))
	}
	if d := wbxml.Diff(a.Root, b.Root); d != "" {
		return "tree difference: " + d
	}
	return "same tree, different bytes (header, string table or encoding)"
}

// XMLBody encodes a body written in the XML form (xmlns="Page:") with our
// codec; it fails the spec on a malformed document.
func XMLBody(x string) []byte {
	n, err := wbxml.ParseXML(strings.NewReader(x))
	gomega.Expect(err).NotTo(gomega.HaveOccurred(), "parsing %s", x)
	b, err := wbxml.Marshal(n)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	return b
}
