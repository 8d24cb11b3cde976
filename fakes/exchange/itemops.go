package exchange

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// ItemOperations status values (MS-ASCMD 2.2.3.177.7).
const (
	ioSuccess        = 1
	ioProtocolError  = 2
	ioNotFound       = 6
	ioBadRange       = 8
	ioUnknownStore   = 9
	ioBadAttachment  = 15
	multipartMinPart = 1
)

// cmdItemOperations answers Fetch by FileReference (an attachment) or by
// CollectionId and ServerId (a message), inline (base64 Data) or, with
// MS-ASAcceptMultiPart: T, as a multipart response whose parts hold the
// raw bytes.
func (s *Server) cmdItemOperations(rc *reqCtx) {
	var req eas.ItemOperationsRequest
	empty, ok := s.decode(rc, &req)
	if !ok {
		return
	}
	resp := eas.ItemOperationsResponse{Status: ioSuccess}
	if empty || len(req.Fetch) == 0 {
		resp.Status = ioProtocolError
		s.writeWBXML(rc, &resp)
		return
	}
	multipart := rc.ri.AcceptMultiPart
	parts := [][]byte{nil} // part 0 is the WBXML response
	addPart := func(b []byte) int { parts = append(parts, b); return len(parts) - 1 }
	res := &eas.ItemOperationsResults{}
	m := rc.mb
	m.mu.Lock()
	for _, f := range req.Fetch {
		fr := eas.FetchResponse{Status: ioSuccess}
		switch {
		case !strings.EqualFold(f.Store, "Mailbox"):
			fr.Status = ioUnknownStore
		case f.FileReference != "":
			fr.FileReference = f.FileReference
			_, a := m.findAttachmentLocked(f.FileReference)
			if a == nil {
				fr.Status = ioBadAttachment
				break
			}
			data := a.Data
			props := &eas.FetchProperties{ContentType: a.ContentType}
			if f.Options != nil && f.Options.Range != "" {
				lo, hi, ok := parseRange(f.Options.Range, len(data))
				if !ok {
					fr.Status = ioBadRange
					break
				}
				props.Range, props.Total = strconv.Itoa(lo)+"-"+strconv.Itoa(hi), eas.Ptr(len(data))
				data = data[lo : hi+1]
			}
			if multipart {
				props.Part = addPart(data)
			} else {
				props.Data = eas.Ptr(base64.StdEncoding.EncodeToString(data))
			}
			fr.Properties = props
		case f.ServerId != "":
			fr.CollectionId, fr.ServerId = f.CollectionId, f.ServerId
			fo, _, it := m.findItemLocked(f.ServerId)
			if it == nil || (f.CollectionId != "" && fo.ID != f.CollectionId) {
				fr.Status = ioNotFound
				break
			}
			fr.Class = "Email"
			var bo bodyOptions
			if f.Options != nil {
				bo.prefs = f.Options.BodyPreference
				if f.Options.MIMESupport != nil {
					bo.mimeSupport = *f.Options.MIMESupport
				}
			}
			ed := s.emailData(it, bo)
			if multipart && ed.Body != nil && ed.Body.Data != nil {
				ed.Body.Part = addPart([]byte(*ed.Body.Data))
				ed.Body.Data = nil
			}
			n, err := wbxml.StructToNode(ed)
			if err != nil {
				fr.Status = ioProtocolError
				break
			}
			fr.Properties = &eas.FetchProperties{Unknown: n.Children}
		default:
			fr.Status = ioNotFound
			fr.LongId = f.LongId
		}
		res.Fetch = append(res.Fetch, fr)
	}
	m.mu.Unlock()
	resp.Response = res
	if !multipart {
		s.writeWBXML(rc, &resp)
		return
	}
	b, err := eas.EncodeMessage(&resp)
	if err == nil {
		parts[0] = b
		b, err = eas.BuildMultipart(parts)
	}
	if err != nil {
		http.Error(rc.w, "encode", http.StatusInternalServerError)
		return
	}
	rc.w.Header().Set("Content-Type", eas.ContentTypeMultipart)
	rc.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = rc.w.Write(b)
}

// parseRange reads "first-last" (inclusive, MS-ASCMD 2.2.3.142.1), clipping
// last to the data.
func parseRange(r string, size int) (int, int, bool) {
	a, b, ok := strings.Cut(r, "-")
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || lo < 0 || hi < lo || lo >= size {
		return 0, 0, false
	}
	return lo, min(hi, size-1), true
}

// cmdGetAttachment is the protocol 12.1 download: the FileReference in the
// AttachmentName query parameter, the raw bytes in the response. A missing
// attachment is HTTP 500, as MS-ASCMD 2.2.2.6 says Exchange answers for an
// attachment deleted on the server.
func (s *Server) cmdGetAttachment(rc *reqCtx) {
	m := rc.mb
	m.mu.Lock()
	_, a := m.findAttachmentLocked(rc.ri.Query.AttachmentName)
	var data []byte
	var ct string
	if a != nil {
		data, ct = a.Data, a.ContentType
	}
	m.mu.Unlock()
	if a == nil {
		http.Error(rc.w, "attachment not found", http.StatusInternalServerError)
		return
	}
	rc.w.Header().Set("Content-Type", ct)
	rc.w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = rc.w.Write(data)
}
