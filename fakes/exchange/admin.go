package exchange

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// InjectAttachment is an attachment in an inject request; Data is base64
// in JSON.
type InjectAttachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
	Inline      bool   `json:"inline,omitempty"`
	ContentID   string `json:"content_id,omitempty"`
}

// InjectRequest is POST /admin/v1/mailboxes/{user}/messages: either
// RawMIME (base64 in JSON) or the fields to build a message from.
type InjectRequest struct {
	Folder      string             `json:"folder,omitempty"` // folder name or ServerId; default Inbox
	Read        bool               `json:"read,omitempty"`
	RawMIME     []byte             `json:"raw_mime,omitempty"`
	From        string             `json:"from,omitempty"`
	To          []string           `json:"to,omitempty"`
	Cc          []string           `json:"cc,omitempty"`
	Subject     string             `json:"subject,omitempty"`
	Body        string             `json:"body,omitempty"`
	HTML        string             `json:"html,omitempty"`
	Attachments []InjectAttachment `json:"attachments,omitempty"`
}

// InjectResponse says where the message went.
type InjectResponse struct {
	FolderID string      `json:"folder_id"`
	Message  MessageInfo `json:"message"`
}

// WipeRequest is POST /admin/v1/devices/{user}/{device}/wipe.
type WipeRequest struct {
	AccountOnly bool `json:"account_only"`
}

// RedirectRequest is PUT /admin/v1/mailboxes/{user}/redirect.
type RedirectRequest struct {
	URL string `json:"url"`
}

// FaultsView is GET /admin/v1/faults.
type FaultsView struct {
	Faults   Faults        `json:"faults"`
	Counters FaultCounters `json:"counters"`
}

// UserView is one entry of GET /admin/v1/users (demo credentials included:
// the admin API is token-protected and the fake's users are test users).
type UserView struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	DisplayName string `json:"display_name"`
	Password    string `json:"password"`
}

func (s *Server) adminHandler() http.Handler {
	mux := httpapi.NewMux()
	mux.HandleFunc("GET /admin/v1/users", s.adminUsers)
	mux.HandleFunc("GET /admin/v1/mailboxes", s.adminMailboxes)
	mux.HandleFunc("GET /admin/v1/mailboxes/{user}", s.adminMailbox)
	mux.HandleFunc("POST /admin/v1/mailboxes/{user}/messages", s.adminInject)
	mux.HandleFunc("PUT /admin/v1/mailboxes/{user}/redirect", s.adminSetRedirect)
	mux.HandleFunc("DELETE /admin/v1/mailboxes/{user}/redirect", s.adminClearRedirect)
	mux.HandleFunc("GET /admin/v1/outbound", s.adminOutbound)
	mux.HandleFunc("GET /admin/v1/devices", s.adminDevices)
	mux.HandleFunc("POST /admin/v1/devices/{user}/{device}/wipe", s.adminWipe)
	mux.HandleFunc("DELETE /admin/v1/devices/{user}/{device}", s.adminRemoveDevice)
	mux.HandleFunc("GET /admin/v1/faults", s.adminGetFaults)
	mux.HandleFunc("PUT /admin/v1/faults", s.adminSetFaults)
	mux.HandleFunc("GET /admin/v1/requests", s.adminRequests)
	mgmtAPI := s.mgmt.handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isMgmt(r) { // the management API has its own token (mgmt_api.go)
			mgmtAPI.ServeHTTP(w, r)
			return
		}
		if !s.checkAdmin(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatehouse-exchange-admin"`)
			writeErr(w, apiErr(http.StatusUnauthorized, "unauthorized", "missing or wrong admin token"))
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *Server) pathMailbox(w http.ResponseWriter, r *http.Request) *mailbox {
	mb := s.mailbox(r.PathValue("user"))
	if mb == nil {
		writeErr(w, apiErr(http.StatusNotFound, "no_such_user", "no mailbox %q", r.PathValue("user")))
	}
	return mb
}

func (s *Server) adminUsers(w http.ResponseWriter, _ *http.Request) {
	out := []UserView{}
	for _, u := range s.Users() {
		out = append(out, UserView(u))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminMailboxes(w http.ResponseWriter, _ *http.Request) {
	out := []MailboxInfo{}
	for _, u := range s.Users() {
		out = append(out, s.mailbox(u.Name).info())
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminMailbox(w http.ResponseWriter, r *http.Request) {
	if mb := s.pathMailbox(w, r); mb != nil {
		writeJSON(w, http.StatusOK, mb.info())
	}
}

// Inject stores a message in a mailbox (and wakes its Pings).
func (s *Server) Inject(user string, req InjectRequest) (*InjectResponse, error) {
	mb := s.mailbox(user)
	if mb == nil {
		return nil, apiErr(http.StatusNotFound, "no_such_user", "no mailbox %q", user)
	}
	raw := req.RawMIME
	if len(raw) == 0 {
		if req.Subject == "" && req.Body == "" {
			return nil, fieldErr("raw_mime", "give raw_mime or at least a subject or body")
		}
		c := Compose{From: req.From, To: req.To, Cc: req.Cc, Subject: req.Subject, Text: req.Body, HTML: req.HTML, Date: s.now().UTC()}
		if c.From == "" {
			c.From = "Gatehouse Admin <admin@" + s.cfg.Domain + ">"
		}
		if len(c.To) == 0 {
			c.To = []string{userAddress(mb.user)}
		}
		for i, a := range req.Attachments {
			if a.Name == "" {
				return nil, fieldErr("attachments["+itoa(i)+"].name", "required")
			}
			c.Attachments = append(c.Attachments, MailAttachment{Name: a.Name, ContentType: a.ContentType, Data: a.Data, Inline: a.Inline, ContentID: a.ContentID})
		}
		var err error
		if raw, err = BuildMIME(c); err != nil {
			return nil, fieldErr("attachments", "%v", err)
		}
	}
	pm, err := ParseMIME(raw)
	if err != nil {
		return nil, fieldErr("raw_mime", "%v", err)
	}
	mb.mu.Lock()
	defer mb.mu.Unlock()
	f := mb.byID["1"]
	if req.Folder != "" {
		f = mb.byID[req.Folder]
		for _, fd := range mb.folders {
			if strings.EqualFold(fd.Name, req.Folder) {
				f = fd
			}
		}
		if f == nil {
			return nil, fieldErr("folder", "no folder %q", req.Folder)
		}
	}
	it := mb.addLocked(f, raw, pm, req.Read, s.now())
	return &InjectResponse{FolderID: f.ID, Message: messageInfo(it)}, nil
}

func (s *Server) adminInject(w http.ResponseWriter, r *http.Request) {
	var req InjectRequest
	if err := decodeBody(w, r, s.cfg.MaxAdminBody, &req); err != nil {
		writeErr(w, err)
		return
	}
	res, err := s.Inject(r.PathValue("user"), req)
	if err != nil {
		writeErr(w, err)
		return
	}
	s.log.Info("admin: message injected", "user", r.PathValue("user"), "folder", res.FolderID, "server_id", res.Message.ServerID)
	writeJSON(w, http.StatusCreated, res)
}

// SetRedirect makes every ActiveSync request of the user answer 451 with
// the URL in X-MS-Location; "" clears it.
func (s *Server) SetRedirect(user, location string) error {
	mb := s.mailbox(user)
	if mb == nil {
		return apiErr(http.StatusNotFound, "no_such_user", "no mailbox %q", user)
	}
	if location != "" {
		u, err := url.Parse(location)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fieldErr("url", "must be an absolute http(s) URL")
		}
	}
	mb.mu.Lock()
	mb.redirect = location
	mb.mu.Unlock()
	return nil
}

func (s *Server) adminSetRedirect(w http.ResponseWriter, r *http.Request) {
	var req RedirectRequest
	if err := decodeBody(w, r, 64<<10, &req); err != nil {
		writeErr(w, err)
		return
	}
	if req.URL == "" {
		writeErr(w, fieldErr("url", "required (DELETE clears the redirect)"))
		return
	}
	if err := s.SetRedirect(r.PathValue("user"), req.URL); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminClearRedirect(w http.ResponseWriter, r *http.Request) {
	if err := s.SetRedirect(r.PathValue("user"), ""); err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Outbound lists the messages sent to recipients outside this server.
func (s *Server) Outbound() []OutboundMessage {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	return append([]OutboundMessage{}, s.outbound...)
}

func (s *Server) adminOutbound(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Outbound())
}

// Partnerships lists the device partnerships, sorted by user and device.
func (s *Server) Partnerships() []Partnership { return s.devices.list() }

func (s *Server) adminDevices(w http.ResponseWriter, _ *http.Request) {
	list := s.Partnerships()
	sort.SliceStable(list, func(i, j int) bool { return list[i].User < list[j].User })
	writeJSON(w, http.StatusOK, list)
}

// Wipe starts a remote wipe (or an account-only wipe) of a device; it is
// delivered on the device's next Provision.
func (s *Server) Wipe(user, device string, accountOnly bool) (Partnership, error) {
	mb := s.mailbox(user)
	if mb == nil {
		return Partnership{}, apiErr(http.StatusNotFound, "no_such_user", "no mailbox %q", user)
	}
	p, ok := s.devices.update(mb.user.Name, device, func(p *Partnership) {
		p.AccessState, p.WipeRequested = AccessWipePending, s.now()
		if accountOnly {
			p.AccessState = AccessAccountOnlyWipePending
		}
		p.WipeAcked, p.WipeAckStatus = time.Time{}, 0
	})
	if !ok {
		return Partnership{}, apiErr(http.StatusNotFound, "no_such_device", "no partnership of %q with device %q", user, device)
	}
	s.log.Info("admin: wipe requested", "user", mb.user.Name, "device", device, "account_only", accountOnly)
	mb.mu.Lock()
	for _, f := range mb.folders { // wake the device's Ping so it comes back and provisions
		if f.Type == FolderTypeInbox {
			mb.notifyLocked(f)
		}
	}
	mb.mu.Unlock()
	return p, nil
}

func (s *Server) adminWipe(w http.ResponseWriter, r *http.Request) {
	var req WipeRequest
	if r.ContentLength != 0 {
		if err := decodeBody(w, r, 64<<10, &req); err != nil {
			writeErr(w, err)
			return
		}
	}
	p, err := s.Wipe(r.PathValue("user"), r.PathValue("device"), req.AccountOnly)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, p)
}

func (s *Server) adminRemoveDevice(w http.ResponseWriter, r *http.Request) {
	mb := s.pathMailbox(w, r)
	if mb == nil {
		return
	}
	if !s.devices.remove(mb.user.Name, r.PathValue("device")) {
		writeErr(w, apiErr(http.StatusNotFound, "no_such_device", "no partnership with device %q", r.PathValue("device")))
		return
	}
	mb.mu.Lock()
	delete(mb.devices, r.PathValue("device"))
	mb.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminGetFaults(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, FaultsView{Faults: s.faults.Get(), Counters: s.faults.counters()})
}

func (s *Server) adminSetFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	if err := decodeBody(w, r, 64<<10, &f); err != nil {
		writeErr(w, err)
		return
	}
	if err := s.SetFaults(f); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, FaultsView{Faults: s.faults.Get(), Counters: s.faults.counters()})
}
