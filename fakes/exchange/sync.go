package exchange

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// Sync status values (MS-ASCMD 2.2.3.177.17).
const (
	syncSuccess          = 1
	syncInvalidKey       = 3
	syncProtocolError    = 4
	syncObjectNotFound   = 8
	syncHierarchyChanged = 12
	syncIncomplete       = 13
)

// Window sizes (MS-ASCMD 2.2.3.199): 100 by default, 512 at most.
const (
	defaultWindow = 100
	maxWindow     = 512
)

func (s *Server) cmdSync(rc *reqCtx) {
	body, ok := s.readBody(rc)
	if !ok {
		return
	}
	m := rc.mb
	m.mu.Lock()
	d := m.device(rc.deviceID())
	if len(body) == 0 { // an empty request repeats the previous one
		body = d.lastSync
	} else {
		d.lastSync = body
	}
	m.mu.Unlock()
	if len(body) == 0 {
		s.writeWBXML(rc, &eas.SyncResponse{Status: syncIncomplete})
		return
	}
	var req eas.SyncRequest
	if err := wbxml.UnmarshalStruct(body, &req, wbxml.Limits{MaxSize: int(s.cfg.MaxRequestBody)}); err != nil {
		s.writeWBXML(rc, &eas.SyncResponse{Status: syncProtocolError})
		return
	}
	resp := eas.SyncResponse{}
	m.mu.Lock()
	if d.folderKey == "" {
		resp.Status = syncHierarchyChanged // FolderSync first
	} else {
		budget := req.WindowSize
		if budget <= 0 || budget > maxWindow {
			budget = maxWindow
		}
		for i := range req.Collections {
			resp.Collections = append(resp.Collections, s.syncCollection(rc, d, &req.Collections[i], &budget))
		}
	}
	m.mu.Unlock()
	s.writeWBXML(rc, &resp)
}

// syncCollection answers one Collection; m.mu is held.
func (s *Server) syncCollection(rc *reqCtx, d *deviceState, col *eas.SyncCollection, budget *int) eas.SyncCollectionResponse {
	m := rc.mb
	cr := eas.SyncCollectionResponse{SyncKey: col.SyncKey, CollectionId: col.CollectionId, Status: syncSuccess}
	if rc.version() < eas.V140 {
		cr.Class = col.Class
	}
	f := m.byID[col.CollectionId]
	if f == nil {
		cr.Status = syncHierarchyChanged
		return cr
	}
	cs := d.cols[f.ID]
	if col.SyncKey == "0" { // (re)start: a new key and nothing else
		cs = &colState{key: m.newKeyLocked(), known: map[string]bool{}}
		d.cols[f.ID] = cs
		cr.SyncKey = cs.key
		return cr
	}
	var base map[string]bool
	switch {
	case cs == nil:
	case col.SyncKey == cs.key:
		base = cs.known
	case col.SyncKey == cs.prevKey && cs.prevKey != "": // the device lost our last response
		base = maps.Clone(cs.prevKnown)
	}
	if base == nil {
		cr.SyncKey, cr.Status = "0", syncInvalidKey
		return cr
	}
	known := maps.Clone(base)
	opts := emailOptions(col.Options)
	if col.Commands != nil {
		cr.Responses = s.applyClientCommands(rc, f, col, known, opts)
	}
	if col.WantsChanges() {
		window := col.WindowSize
		if window <= 0 || window > maxWindow {
			window = defaultWindow
		}
		window = min(window, *budget)
		cmds, more := serverChanges(f, known, window, func(it *item) *eas.EmailData { return s.emailData(it, opts) })
		*budget -= len(cmds.Add) + len(cmds.Change) + len(cmds.Delete)
		if len(cmds.Add)+len(cmds.Change)+len(cmds.Delete) > 0 {
			cr.Commands = cmds
		}
		cr.MoreAvailable = more
	}
	cs.prevKey, cs.prevKnown = col.SyncKey, base
	cs.key, cs.known = m.newKeyLocked(), known
	cr.SyncKey = cs.key
	return cr
}

// serverChanges lists what the device lacks (new mail newest first, then
// read-flag changes, then deletions), at most window of them, and updates
// known as if the device received them.
func serverChanges(f *folder, known map[string]bool, window int, data func(*item) *eas.EmailData) (*eas.SyncCommands, bool) {
	cmds := &eas.SyncCommands{}
	present := make(map[string]bool, len(f.items))
	n, more := 0, false
	for i := len(f.items) - 1; i >= 0; i-- {
		it := f.items[i]
		present[it.ServerID] = true
		if _, ok := known[it.ServerID]; ok {
			continue
		}
		if n == window {
			more = true
			continue
		}
		cmds.Add = append(cmds.Add, eas.SyncItem{ServerId: it.ServerID, ApplicationData: data(it)})
		known[it.ServerID] = it.Read
		n++
	}
	for _, it := range f.items {
		if read, ok := known[it.ServerID]; ok && read != it.Read && !slices.ContainsFunc(cmds.Add, func(a eas.SyncItem) bool { return a.ServerId == it.ServerID }) {
			if n == window {
				more = true
				break
			}
			cmds.Change = append(cmds.Change, eas.SyncItem{ServerId: it.ServerID, ApplicationData: &eas.EmailData{Read: eas.Ptr(it.Read)}})
			known[it.ServerID] = it.Read
			n++
		}
	}
	gone := make([]string, 0)
	for id := range known {
		if !present[id] {
			gone = append(gone, id)
		}
	}
	slices.Sort(gone)
	for _, id := range gone {
		if n == window {
			more = true
			break
		}
		cmds.Delete = append(cmds.Delete, eas.SyncItem{ServerId: id})
		delete(known, id)
		n++
	}
	return cmds, more
}

// applyClientCommands applies a device's Add, Change, Delete and Fetch.
func (s *Server) applyClientCommands(rc *reqCtx, f *folder, col *eas.SyncCollection, known map[string]bool, opts bodyOptions) *eas.SyncResponses {
	m := rc.mb
	res := &eas.SyncResponses{}
	c := col.Commands
	for _, ch := range c.Change {
		_, it := f.find(ch.ServerId)
		if it == nil {
			res.Change = append(res.Change, eas.SyncItem{ServerId: ch.ServerId, Status: syncObjectNotFound})
			continue
		}
		if ad := ch.ApplicationData; ad != nil && ad.Read != nil && *ad.Read != it.Read {
			it.Read = *ad.Read
			m.notifyLocked(f)
		}
		known[it.ServerID] = it.Read
	}
	movesToTrash := col.DeletesAsMoves == nil || *col.DeletesAsMoves
	for _, del := range c.Delete {
		i, it := f.find(del.ServerId)
		delete(known, del.ServerId)
		if it == nil {
			continue
		}
		if trash := m.folderByType(FolderTypeDeleted); movesToTrash && f != trash {
			m.moveLocked(f, i, trash)
		} else {
			m.removeLocked(f, i)
		}
	}
	for _, add := range c.Add {
		raw := draftMIME(m.user, add.ApplicationData, s.now())
		pm, err := ParseMIME(raw)
		if err != nil {
			res.Add = append(res.Add, eas.SyncItem{ClientId: add.ClientId, Status: 6})
			continue
		}
		it := m.addLocked(f, raw, pm, true, s.now())
		known[it.ServerID] = it.Read
		res.Add = append(res.Add, eas.SyncItem{ClientId: add.ClientId, ServerId: it.ServerID, Status: syncSuccess})
	}
	for _, fe := range c.Fetch {
		_, it := f.find(fe.ServerId)
		if it == nil {
			res.Fetch = append(res.Fetch, eas.SyncItem{ServerId: fe.ServerId, Status: syncObjectNotFound})
			continue
		}
		res.Fetch = append(res.Fetch, eas.SyncItem{ServerId: it.ServerID, Status: syncSuccess, ApplicationData: s.emailData(it, opts)})
	}
	if len(res.Add)+len(res.Change)+len(res.Fetch) == 0 {
		return nil
	}
	return res
}

// draftMIME renders a device-created item (a draft) as MIME.
func draftMIME(u User, ad *eas.EmailData, now time.Time) []byte {
	c := Compose{From: userAddress(u), Date: now}
	if ad != nil {
		if ad.To != "" {
			c.To = []string{ad.To}
		}
		c.Subject = ad.Subject
		if ad.Body != nil && ad.Body.Data != nil {
			c.Text = *ad.Body.Data
		}
	}
	raw, _ := BuildMIME(c)
	return raw
}

// bodyOptions are what a client asked for about bodies.
type bodyOptions struct {
	mimeSupport int
	prefs       []eas.BodyPreference
}

func emailOptions(opts []eas.SyncOptions) bodyOptions {
	for _, o := range opts {
		if o.Class == "" || o.Class == "Email" {
			bo := bodyOptions{prefs: o.BodyPreference}
			if o.MIMESupport != nil {
				bo.mimeSupport = *o.MIMESupport
			}
			return bo
		}
	}
	return bodyOptions{}
}

func (o bodyOptions) pref(typ int) *eas.BodyPreference {
	for i := range o.prefs {
		if o.prefs[i].Type == typ {
			return &o.prefs[i]
		}
	}
	return nil
}

const dateFormat = "2006-01-02T15:04:05.000Z"

// emailData renders an item as Email class ApplicationData (MS-ASEMAIL).
func (s *Server) emailData(it *item, o bodyOptions) *eas.EmailData {
	pm := it.Msg
	e := &eas.EmailData{
		To: pm.To, Cc: pm.Cc, From: pm.From, Subject: pm.Subject, ReplyTo: pm.ReplyTo,
		DateReceived: it.Received.UTC().Format(dateFormat), DisplayTo: displayNames(pm.To),
		ThreadTopic: threadTopic(pm.Subject), Importance: eas.Ptr(pm.Importance), Read: eas.Ptr(it.Read),
		MessageClass: "IPM.Note", InternetCPID: "65001", ContentClass: "urn:content-classes:message",
		NativeBodyType: eas.BodyPlainText,
	}
	switch pm.SMIME {
	case "signed":
		e.MessageClass = "IPM.Note.SMIME.MultipartSigned"
	case "encrypted":
		e.MessageClass = "IPM.Note.SMIME"
	}
	if pm.HTML != "" {
		e.NativeBodyType = eas.BodyHTML
	}
	for i, a := range pm.Attachments {
		at := eas.Attachment{DisplayName: a.Name, FileReference: it.fileRef(i), Method: 1, EstimatedDataSize: uint32(len(a.Data)), ContentId: a.ContentID}
		if a.Message {
			at.Method = 5 // embedded message
		}
		if a.Inline {
			at.IsInline = eas.Ptr(true)
		}
		e.Attachments = append(e.Attachments, at)
	}
	e.Body = pickBody(it, o)
	return e
}

// pickBody chooses the body type and truncation (MS-ASAIRS 3.2.5.1).
func pickBody(it *item, o bodyOptions) *eas.Body {
	pm := it.Msg
	var typ int
	var data string
	pref := o.pref(eas.BodyMIME)
	useMIME := o.mimeSupport == 2 || (o.mimeSupport == 1 && pm.SMIME != "")
	switch {
	case useMIME && (pref != nil || len(o.prefs) == 0):
		typ, data = eas.BodyMIME, string(it.Raw)
	case o.pref(eas.BodyHTML) != nil:
		pref, typ = o.pref(eas.BodyHTML), eas.BodyHTML
		data = pm.HTML
		if data == "" {
			data = "<html><body><pre>" + htmlEscape(pm.Text) + "</pre></body></html>"
		}
	default:
		pref, typ = o.pref(eas.BodyPlainText), eas.BodyPlainText
		data = pm.Text
		if data == "" && pm.HTML != "" {
			data = stripTags(pm.HTML)
		}
	}
	b := &eas.Body{Type: typ, EstimatedDataSize: uint32(len(data)), Truncated: eas.Ptr(false)}
	if pref != nil {
		if ts := int(pref.TruncationSize); ts > 0 && len(data) > ts {
			b.Truncated = eas.Ptr(true)
			if pref.AllOrNone != nil && *pref.AllOrNone {
				return b
			}
			data = truncateUTF8(data, ts, typ != eas.BodyMIME)
		}
		if pref.Preview > 0 {
			b.Preview = truncateUTF8(strings.Join(strings.Fields(pm.Text), " "), pref.Preview, true)
		}
	}
	b.Data = &data
	return b
}

func truncateUTF8(s string, n int, runes bool) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for runes && len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

func threadTopic(subject string) string {
	for {
		l := strings.ToLower(subject)
		switch {
		case strings.HasPrefix(l, "re: "), strings.HasPrefix(l, "fw: "):
			subject = subject[4:]
		case strings.HasPrefix(l, "fwd: "):
			subject = subject[5:]
		default:
			return subject
		}
	}
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

func htmlEscape(s string) string { return htmlEscaper.Replace(s) }

func stripTags(h string) string {
	var b strings.Builder
	in := false
	for _, r := range h {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}
