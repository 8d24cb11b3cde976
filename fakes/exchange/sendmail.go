package exchange

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
)

// outgoing is a SendMail, SmartForward or SmartReply in either form.
type outgoing struct {
	mime        []byte
	saveInSent  bool
	source      *eas.Source
	replaceMime bool
}

// cmdSendMail handles SendMail, SmartForward and SmartReply: protocol 12.1
// posts the raw MIME (message/rfc822) with SaveInSent, ItemId and
// CollectionId in the query; 14.0+ posts ComposeMail WBXML. Internal
// recipients get the message in their Inbox; others are recorded as
// outbound. SmartForward attaches the source message (as message/rfc822)
// unless ReplaceMime is set; SmartReply sends the reply as given.
func (s *Server) cmdSendMail(rc *reqCtx) {
	cmd := rc.ri.Query.Cmd
	var out outgoing
	ct, _, _ := mime.ParseMediaType(rc.r.Header.Get("Content-Type"))
	if rc.version() < eas.V140 || ct == eas.ContentTypeMessage {
		body, ok := s.readBody(rc)
		if !ok {
			return
		}
		q := rc.ri.Query
		out = outgoing{mime: body, saveInSent: q.SaveInSent}
		if q.ItemID != "" || q.LongID != "" {
			out.source = &eas.Source{FolderId: q.CollectionID, ItemId: q.ItemID, LongId: q.LongID}
		}
	} else {
		var v any
		switch cmd {
		case eas.CmdSmartForward:
			v = &eas.SmartForward{}
		case eas.CmdSmartReply:
			v = &eas.SmartReply{}
		default:
			v = &eas.SendMail{}
		}
		empty, ok := s.decode(rc, v)
		if !ok {
			return
		}
		if empty {
			s.sendFailed(rc, eas.StatusInvalidContent)
			return
		}
		switch m := v.(type) {
		case *eas.SendMail:
			out = outgoing{mime: m.Mime, saveInSent: m.SaveInSentItems}
		case *eas.SmartForward:
			out = outgoing{mime: m.Mime, saveInSent: m.SaveInSentItems, source: m.Source, replaceMime: m.ReplaceMime}
		case *eas.SmartReply:
			out = outgoing{mime: m.Mime, saveInSent: m.SaveInSentItems, source: m.Source, replaceMime: m.ReplaceMime}
		}
	}
	if st := s.send(rc, cmd, out); st != 0 {
		s.sendFailed(rc, st)
		return
	}
	rc.w.WriteHeader(http.StatusOK)
}

func (s *Server) sendFailed(rc *reqCtx, st eas.Status) {
	s.log.Info("eas: send failed", "cmd", rc.ri.Query.Cmd, "user", rc.mb.user.Name, "status", st)
	if rc.version() < eas.V140 {
		http.Error(rc.w, "send failed", http.StatusInternalServerError)
		return
	}
	switch rc.ri.Query.Cmd {
	case eas.CmdSmartForward:
		s.writeWBXML(rc, &eas.SmartForwardResponse{Status: int(st)})
	case eas.CmdSmartReply:
		s.writeWBXML(rc, &eas.SmartReplyResponse{Status: int(st)})
	default:
		s.writeWBXML(rc, &eas.SendMailResponse{Status: int(st)})
	}
}

// send delivers a message; it returns 0 or the failure status.
func (s *Server) send(rc *reqCtx, cmd eas.Command, out outgoing) eas.Status {
	if len(out.mime) == 0 {
		return eas.StatusInvalidMIME
	}
	m := rc.mb
	raw := normalizeOutgoing(out.mime, m.user, s.now().UTC().Format("Mon, 02 Jan 2006 15:04:05 -0700"))
	if cmd != eas.CmdSendMail {
		if out.source == nil || out.source.ItemId == "" {
			return eas.StatusInvalidSmartForwardParameters
		}
		m.mu.Lock()
		_, _, src := m.findItemLocked(out.source.ItemId)
		var srcRaw []byte
		if src != nil {
			srcRaw = src.Raw
		}
		m.mu.Unlock()
		if src == nil {
			return eas.StatusItemNotFound
		}
		if cmd == eas.CmdSmartForward && !out.replaceMime {
			var err error
			if raw, err = attachOriginal(raw, srcRaw); err != nil {
				return eas.StatusInvalidMIME
			}
		}
	}
	pm, err := ParseMIME(raw)
	if err != nil {
		return eas.StatusInvalidMIME
	}
	rcpts := recipients(pm)
	if len(rcpts) == 0 {
		return eas.StatusMessageHasNoRecipient
	}
	delivered := stripBcc(raw)
	var external []string
	now := s.now()
	for _, a := range rcpts {
		if mb := s.byEmail[strings.ToLower(a)]; mb != nil {
			if _, err := mb.deliver(FolderTypeInbox, delivered, false, now); err != nil {
				return eas.StatusMailSubmissionFailed
			}
			continue
		}
		external = append(external, a)
	}
	if len(external) > 0 {
		info := messageInfo(&item{Raw: delivered, Msg: pm, Received: now})
		s.outMu.Lock()
		s.outbound = append(s.outbound, OutboundMessage{MessageInfo: info, Sender: m.user.Email, Recipients: external, SentAt: now, Command: string(cmd)})
		s.outMu.Unlock()
	}
	if out.saveInSent {
		if _, err := m.deliver(FolderTypeSent, raw, true, now); err != nil {
			return eas.StatusMailSubmissionFailed
		}
	}
	s.log.Info("eas: message sent", "cmd", cmd, "user", m.user.Name, "recipients", len(rcpts), "external", len(external))
	return 0
}

// normalizeOutgoing adds the From, Date and MIME-Version headers a device
// may leave to the server.
func normalizeOutgoing(raw []byte, u User, date string) []byte {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return raw
	}
	var add bytes.Buffer
	if msg.Header.Get("From") == "" {
		fmt.Fprintf(&add, "From: %s\r\n", userAddress(u))
	}
	if msg.Header.Get("Date") == "" {
		fmt.Fprintf(&add, "Date: %s\r\n", date)
	}
	if add.Len() == 0 {
		return raw
	}
	return append(add.Bytes(), raw...)
}

// stripBcc removes the Bcc header from the header block.
func stripBcc(raw []byte) []byte {
	end := headerEnd(raw)
	if end < 0 {
		return raw
	}
	lines := strings.SplitAfter(string(raw[:end]), "\n")
	var b strings.Builder
	skipping := false
	for _, l := range lines {
		if skipping && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) {
			continue
		}
		skipping = len(l) >= 4 && strings.EqualFold(l[:4], "bcc:")
		if !skipping {
			b.WriteString(l)
		}
	}
	return append([]byte(b.String()), raw[end:]...)
}

// headerEnd is the offset of the blank line ending the header block, or -1.
func headerEnd(raw []byte) int {
	if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
		return i + 2
	}
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		return i + 1
	}
	return -1
}

// attachOriginal turns a forward into multipart/mixed: the device's
// message, then the source message as a message/rfc822 attachment.
func attachOriginal(raw, original []byte) ([]byte, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return nil, err
	}
	bnd := fmt.Sprintf("=_gh_fwd_%x", len(raw)*31+len(original))
	var b bytes.Buffer
	for k, vs := range msg.Header {
		lk := strings.ToLower(k)
		if lk == "content-type" || lk == "content-transfer-encoding" || lk == "mime-version" {
			continue
		}
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n--%s\r\n", bnd, bnd)
	ct := msg.Header.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	fmt.Fprintf(&b, "Content-Type: %s\r\n", ct)
	if cte := msg.Header.Get("Content-Transfer-Encoding"); cte != "" {
		fmt.Fprintf(&b, "Content-Transfer-Encoding: %s\r\n", cte)
	}
	b.WriteString("\r\n")
	b.Write(body)
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: message/rfc822\r\nContent-Disposition: attachment; filename=\"forwarded.eml\"\r\n\r\n", bnd)
	b.Write(original)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", bnd)
	return b.Bytes(), nil
}
