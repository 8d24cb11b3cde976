package exchange

import (
	"bytes"
	"strings"
)

// MeetingResponse status values (MS-ASCMD 2.2.3.177.10).
const (
	meetingOK      = 1
	meetingInvalid = 2 // not a meeting request, or no such item
	userAccepted   = "1"
	userTentative  = "2"
	userDeclined   = "3"
)

// cmdMeetingResponse answers each Request: the item (RequestId in
// CollectionId, or LongId) must be a meeting request, a mail with a
// text/calendar part of METHOD:REQUEST; the fake's calendar holds what
// was accepted. Accept and tentative put a copy in the Calendar and
// answer its CalendarId; decline answers without one. The request leaves
// the Inbox, as Exchange removes an answered invitation. Anything else
// is Status 2; a UserResponse other than 1-3 is Status 2 too.
func (s *Server) cmdMeetingResponse(rc *reqCtx) {
	req := s.decodeTree(rc, "MeetingResponse:MeetingResponse")
	if req == nil {
		return
	}
	out := el("MeetingResponse:MeetingResponse")
	m := rc.mb
	m.mu.Lock()
	for _, r := range kids(req, "MeetingResponse:Request") {
		id := text(r, "MeetingResponse:RequestId")
		if id == "" {
			id = text(r, "Search:LongId")
		}
		res := el("MeetingResponse:Result")
		if id != "" {
			res.Children = append(res.Children, txt("MeetingResponse:RequestId", id))
		}
		st, calID := m.answerMeetingLocked(id, text(r, "MeetingResponse:CollectionId"), text(r, "MeetingResponse:UserResponse"), s)
		res.Children = append(res.Children, txt("MeetingResponse:Status", itoa(st)))
		if calID != "" {
			res.Children = append(res.Children, txt("MeetingResponse:CalendarId", calID))
		}
		out.Children = append(out.Children, res)
	}
	m.mu.Unlock()
	if len(out.Children) == 0 {
		out.Children = append(out.Children, el("MeetingResponse:Result", txt("MeetingResponse:Status", itoa(meetingInvalid))))
	}
	s.writeTree(rc, out)
}

func (m *mailbox) answerMeetingLocked(id, coll, answer string, s *Server) (int, string) {
	if answer != userAccepted && answer != userTentative && answer != userDeclined {
		return meetingInvalid, ""
	}
	f, i, it := m.findItemLocked(id)
	if it == nil || (coll != "" && f.ID != coll) || !isMeetingRequest(it.Msg) {
		return meetingInvalid, ""
	}
	m.removeLocked(f, i)
	if answer == userDeclined {
		return meetingOK, ""
	}
	cal := m.addLocked(m.folderByType(FolderTypeCalendar), it.Raw, it.Msg, true, s.now())
	return meetingOK, cal.ServerID
}

// isMeetingRequest reports whether the message carries an iCalendar
// invitation (METHOD:REQUEST).
func isMeetingRequest(pm *ParsedMessage) bool {
	for _, a := range pm.Attachments {
		if strings.HasPrefix(strings.ToLower(a.ContentType), "text/calendar") && bytes.Contains(bytes.ToUpper(a.Data), []byte("METHOD:REQUEST")) {
			return true
		}
	}
	return false
}
