package activesync

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// readProvision reads the device's Provision request (bounded) so the
// gateway knows which phase it is, and puts the body back for the server.
func (h *Handler) readProvision(r *http.Request, x *exchange) error {
	body, err := readBoundedBody(r, h.cfg.MaxProvisionBody)
	r.Body.Close()
	if err != nil {
		return fmt.Errorf("reading Provision: %w", err)
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	if len(body) == 0 {
		return nil
	}
	var req eas.ProvisionRequest
	if err := wbxml.UnmarshalStruct(body, &req, wbxml.Limits{MaxSize: int(h.cfg.MaxProvisionBody)}); err != nil {
		return fmt.Errorf("provision request: %w", err)
	}
	h.infos.learn(x.key, req.DeviceInformation)
	for _, p := range req.Policies {
		if p.PolicyKey != "" && p.Status != 0 {
			x.phase2 = true
		}
	}
	if di := req.DeviceInformation; di != nil && di.Set != nil {
		x.devInfo = di.Set
	}
	return nil
}

// deliverWipe answers a Provision from a device whose wipe is pending with
// RemoteWipe, without asking the server (the wipe is the UEM's order).
// When the device acknowledges, the entry becomes wiped and the UEM is
// told (ACT-05, ACT-07).
func (h *Handler) deliverWipe(w http.ResponseWriter, r *http.Request, x *exchange) {
	body, err := readBoundedBody(r, h.cfg.MaxProvisionBody)
	if err != nil {
		http.Error(w, "Provision body unreadable or too large", bodyErrorStatus(err))
		return
	}
	var req eas.ProvisionRequest
	if len(body) > 0 {
		if err := wbxml.UnmarshalStruct(body, &req, wbxml.Limits{MaxSize: int(h.cfg.MaxProvisionBody)}); err != nil {
			http.Error(w, "Provision request: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if req.RemoteWipe != nil && req.RemoteWipe.Status == 1 {
		h.cfg.Link.WipeDelivered(r.Context(), x.key)
		h.cfg.Log.Info("remote wipe acknowledged", "device", x.key.DeviceID)
	}
	if err := writeWBXML(w, &eas.ProvisionResponse{Status: 1, RemoteWipe: true}); err != nil {
		h.cfg.Log.Warn("writing RemoteWipe", "error", err)
	}
}

// rewriteProvision replaces the policy document in the server's Provision
// response with the UEM's choice, and records an acknowledged policy.
//
// A server may compress its answer when the device accepts gzip: the
// policy is read after decoding, never relayed unread. When the UEM's
// policy must replace the server's and the answer cannot be read, the
// device gets 502 rather than the server's policy.
func (h *Handler) rewriteProvision(resp *http.Response, x *exchange) error {
	if err := decodeContentEncoding(resp); err != nil {
		return h.refuseProvision(resp, x, err)
	}
	body, err := readBounded(resp.Body, h.cfg.MaxProvisionBody)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("reading server Provision: %w", err)
	}
	var pr eas.ProvisionResponse
	if err := wbxml.UnmarshalStruct(body, &pr, wbxml.Limits{MaxSize: int(h.cfg.MaxProvisionBody)}); err != nil {
		if !x.phase2 && h.policyFor(x) != nil {
			return h.refuseProvision(resp, x, err)
		}
		setBody(resp, body) // no policy of ours to put in: relay what the server said
		return nil
	}
	if x.phase2 {
		if pr.Status == 1 && len(pr.Policies) > 0 && pr.Policies[0].Status == 1 {
			h.cfg.Link.Provisioned(x.key)
		}
		setBody(resp, body)
		return nil
	}
	doc := h.policyFor(x)
	if doc == nil {
		setBody(resp, body) // Apply AS server policy, or let in by fail-open (INC-01)
		return nil
	}
	replaced := false
	for i := range pr.Policies {
		if pr.Policies[i].Data != nil {
			pr.Policies[i].Data.EASProvisionDoc = doc
			replaced = true
		}
	}
	if !replaced {
		setBody(resp, body)
		return nil
	}
	out, err := wbxml.MarshalStruct(&pr)
	if err != nil {
		return fmt.Errorf("encoding rewritten Provision: %w", err)
	}
	setBody(resp, out)
	return nil
}

// policyFor returns the document to send, or nil to keep the server's.
func (h *Handler) policyFor(x *exchange) *eas.EASProvisionDoc {
	e := x.outcome.Entry
	if !e.Validated {
		return nil
	}
	if e.Policy != "" {
		if p, ok := h.cfg.Link.Policy(e.Policy); ok {
			return ProvisionDoc(p)
		}
		return nil
	}
	if h.cfg.Link.DefaultBehavior() == uemapi.PolicyRemoveServer {
		return NoRestrictionsDoc()
	}
	return nil
}

// refuseProvision answers 502 instead of a server Provision the gateway
// could not read when it had to put the UEM's policy in (ACT-13): the
// server's own policy must not reach the device in its place.
func (h *Handler) refuseProvision(resp *http.Response, x *exchange, cause error) error {
	h.cfg.Log.Warn("server Provision unreadable; the UEM's policy could not be applied",
		"device", x.key.DeviceID, "error", cause)
	badGateway(resp, "the server's Provision answer could not be read\n")
	return nil
}
