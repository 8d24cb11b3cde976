package device

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// RawRequest is one command sent as given: the device adds only what it
// always sends (request line, credentials, User-Agent, Accept-Language,
// protocol version and policy key), so that a test controls the body
// byte for byte.
type RawRequest struct {
	// Method is POST by default; OPTIONS is sent without a body (with the
	// request line, as iOS probes the server).
	Method string
	Cmd    eas.Command
	Body   []byte
	// ContentType defaults to WBXML when Body is not empty.
	ContentType string
	// Query parameters of the commands that take them (12.1 SendMail,
	// SmartForward, SmartReply, GetAttachment, ...).
	CollectionID, ItemID, AttachmentName string
	SaveInSent                           bool
	// AcceptMultiPart asks for a multipart answer (ItemOperations): the
	// MS-ASAcceptMultiPart header, or the base64 line's option bit.
	AcceptMultiPart bool
	// Header adds or overrides request headers (MS-ASAcceptMultiPart,
	// Accept-Encoding, ...).
	Header http.Header
}

// RawResponse is exactly what the device received, and what it sent.
type RawResponse struct {
	Status int
	Header http.Header
	Body   []byte
	// Sent is the request as it left the device: URL, headers (with the
	// Authorization it carried) and body.
	SentURL    string
	SentHeader http.Header
	SentBody   []byte
}

// Root decodes the answer's WBXML body (nil when it is none).
func (r *RawResponse) Root() *wbxml.Node {
	if len(r.Body) == 0 {
		return nil
	}
	doc, err := wbxml.Parse(r.Body, wbxml.Limits{})
	if err != nil {
		return nil
	}
	return doc.Root
}

// Raw sends one request as given and returns what came back, without
// reacting to it (no re-provisioning, no state change); it is recorded
// as a round trip like any other.
func (d *Device) Raw(ctx context.Context, rr RawRequest) (*RawResponse, error) {
	req, err := d.newRequest(ctx, rr.Cmd, rr.Body, params{collectionID: rr.CollectionID, itemID: rr.ItemID,
		attachmentName: rr.AttachmentName, saveInSent: rr.SaveInSent, acceptMultiPart: rr.AcceptMultiPart, contentType: rr.ContentType})
	if err != nil {
		return nil, err
	}
	if rr.Method == http.MethodOptions {
		req.Method, req.Body, req.ContentLength, req.GetBody = rr.Method, http.NoBody, 0, nil
		req.Header.Del("Content-Type")
		rr.Body = nil
	}
	for k, vs := range rr.Header {
		req.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	out := &RawResponse{SentURL: req.URL.String(), SentHeader: req.Header.Clone(), SentBody: append([]byte(nil), rr.Body...)}
	x := RoundTrip{At: time.Now(), Cmd: rr.Cmd, BytesOut: len(rr.Body)}
	resp, err := d.hc.Do(req)
	if err != nil {
		x.Duration, x.Err = time.Since(x.At), err.Error()
		d.record(x)
		return nil, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	x.Duration, x.HTTPStatus, x.BytesIn = time.Since(x.At), resp.StatusCode, len(data)
	out.Status, out.Header, out.Body = resp.StatusCode, resp.Header, data
	if err != nil {
		x.Err = err.Error()
		d.record(x)
		return out, err
	}
	x.Status = globalStatus(out.Root())
	d.record(x)
	return out, nil
}

// newRequest builds a command's request the way the device sends every
// command: the plain or base64 request line, credentials, User-Agent,
// Accept-Language, Content-Type for a body, and the protocol version and
// policy key (headers, or fields of the base64 line).
func (d *Device) newRequest(ctx context.Context, cmd eas.Command, body []byte, p params) (*http.Request, error) {
	d.mu.Lock()
	pk := d.policyKey
	d.mu.Unlock()
	q := &eas.Query{Cmd: cmd, User: d.cfg.User, DeviceID: d.cfg.ID, DeviceType: d.cfg.DeviceType(),
		CollectionID: p.collectionID, ItemID: p.itemID, AttachmentName: p.attachmentName, SaveInSent: p.saveInSent}
	b64 := d.cfg.Base64Query && d.cfg.Version != eas.V121
	if b64 {
		q.Base64, q.Version, q.Locale, q.AcceptMultiPart = true, d.cfg.Version, d.cfg.locale(), p.acceptMultiPart
		if k, err := strconv.ParseUint(pk, 10, 32); err == nil && pk != "" {
			q.PolicyKey, q.HasPolicyKey = uint32(k), true
		}
	}
	req, err := http.NewRequestWithContext(d.tellConn(ctx), http.MethodPost, d.url+"?"+q.Encode(b64), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if d.cfg.Host != "" {
		req.Host = d.cfg.Host
	}
	auth, err := d.authorization(ctx)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("User-Agent", d.cfg.UserAgent())
	req.Header.Set("Accept-Language", d.cfg.Language)
	ct := p.contentType
	if ct == "" {
		ct = eas.ContentTypeWBXML
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", ct)
	}
	if !b64 {
		if p.acceptMultiPart {
			req.Header.Set(eas.HeaderAcceptMultiPart, "T")
		}
		req.Header.Set(eas.HeaderProtocolVersion, d.cfg.Version.String())
		if pk != "" {
			req.Header.Set(eas.HeaderPolicyKey, pk)
		}
	}
	return req, nil
}

// tellConn tells the connection a request goes out on which device sends
// it, when the connection under TLS asks (UsedBy): the loadgen counts
// connections per device as the gateway's d-connection does. The gateway
// counts when it takes a request in, which for a device it knows is as
// soon as the request is there (so a hanging Ping cut by the end of a
// run counts), and for a new device only once it has checked its
// credentials: its first request counts when the answer comes.
func (d *Device) tellConn(ctx context.Context) context.Context {
	device := d.cfg.ID + "\x00" + d.cfg.User
	known := d.admitted.Load()
	var conn net.Conn
	tell := func() {
		d.admitted.Store(true)
		c := conn
		for range 4 {
			if u, ok := c.(interface{ UsedBy(string) }); ok {
				u.UsedBy(device)
				return
			}
			nc, ok := c.(interface{ NetConn() net.Conn })
			if !ok {
				return
			}
			c = nc.NetConn()
		}
	}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { conn = i.Conn },
		WroteRequest: func(w httptrace.WroteRequestInfo) {
			if known && w.Err == nil {
				tell()
			}
		},
		GotFirstResponseByte: func() {
			if !known {
				tell()
			}
		},
	})
}
