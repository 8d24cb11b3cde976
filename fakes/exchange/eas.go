package exchange

import (
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// EASPath is the ActiveSync endpoint path (matched case-insensitively).
const EASPath = "/Microsoft-Server-ActiveSync"

// supportedVersions and supportedCommands are advertised by OPTIONS.
var (
	supportedVersions = []eas.Version{eas.V121, eas.V140, eas.V141, eas.V160, eas.V161}
	supportedCommands = []eas.Command{
		eas.CmdSync, eas.CmdSendMail, eas.CmdSmartForward, eas.CmdSmartReply, eas.CmdGetAttachment,
		eas.CmdFolderSync, eas.CmdMoveItems, eas.CmdGetItemEstimate, eas.CmdSettings, eas.CmdPing,
		eas.CmdItemOperations, eas.CmdProvision, eas.CmdSearch, eas.CmdFolderCreate, eas.CmdFolderUpdate,
		eas.CmdFolderDelete, eas.CmdMeetingResponse, eas.CmdResolveRecipients, eas.CmdValidateCert, eas.CmdFind,
	}
)

// reqCtx is one authenticated ActiveSync request.
type reqCtx struct {
	w   http.ResponseWriter
	r   *http.Request
	ri  *eas.RequestInfo
	mb  *mailbox
	dev Partnership
}

func (rc *reqCtx) version() eas.Version { return rc.ri.Version }
func (rc *reqCtx) deviceID() string     { return rc.ri.Query.DeviceID }

type commandHandler func(s *Server, rc *reqCtx)

var commandHandlers = map[eas.Command]commandHandler{
	eas.CmdProvision:         (*Server).cmdProvision,
	eas.CmdFolderSync:        (*Server).cmdFolderSync,
	eas.CmdSync:              (*Server).cmdSync,
	eas.CmdPing:              (*Server).cmdPing,
	eas.CmdSendMail:          (*Server).cmdSendMail,
	eas.CmdSmartForward:      (*Server).cmdSendMail,
	eas.CmdSmartReply:        (*Server).cmdSendMail,
	eas.CmdItemOperations:    (*Server).cmdItemOperations,
	eas.CmdGetAttachment:     (*Server).cmdGetAttachment,
	eas.CmdSettings:          (*Server).cmdSettings,
	eas.CmdGetItemEstimate:   (*Server).cmdGetItemEstimate,
	eas.CmdMoveItems:         (*Server).cmdMoveItems,
	eas.CmdSearch:            (*Server).cmdSearch,
	eas.CmdFolderCreate:      (*Server).cmdFolderCreate,
	eas.CmdFolderUpdate:      (*Server).cmdFolderUpdate,
	eas.CmdFolderDelete:      (*Server).cmdFolderDelete,
	eas.CmdMeetingResponse:   (*Server).cmdMeetingResponse,
	eas.CmdResolveRecipients: (*Server).cmdResolveRecipients,
	eas.CmdValidateCert:      (*Server).cmdValidateCert,
	eas.CmdFind:              (*Server).cmdFind,
}

// statusRoots are the root elements of the commands that answer a policy
// problem (142, 144, 140) with a top-level Status in protocol 14.0+.
var statusRoots = map[eas.Command]string{
	eas.CmdSync: "AirSync:Sync", eas.CmdFolderSync: "FolderHierarchy:FolderSync", eas.CmdPing: "Ping:Ping",
	eas.CmdItemOperations: "ItemOperations:ItemOperations", eas.CmdSendMail: "ComposeMail:SendMail",
	eas.CmdSmartForward: "ComposeMail:SmartForward", eas.CmdSmartReply: "ComposeMail:SmartReply",
	eas.CmdSettings: "Settings:Settings", eas.CmdGetItemEstimate: "GetItemEstimate:GetItemEstimate",
	eas.CmdMoveItems: "Move:MoveItems", eas.CmdSearch: "Search:Search", eas.CmdFolderCreate: "FolderHierarchy:FolderCreate",
	eas.CmdFolderUpdate: "FolderHierarchy:FolderUpdate", eas.CmdFolderDelete: "FolderHierarchy:FolderDelete",
	eas.CmdResolveRecipients: "ResolveRecipients:ResolveRecipients", eas.CmdValidateCert: "ValidateCert:ValidateCert",
	eas.CmdFind: "Find:Find",
}

func (s *Server) easHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "OK\n")
	})
	mux.HandleFunc("/", s.serveEAS)
	return mux
}

func (s *Server) serveEAS(w http.ResponseWriter, r *http.Request) {
	if !strings.EqualFold(r.URL.Path, EASPath) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set(eas.HeaderServerActiveSync, "16.1")
	login, err := s.auth.Authenticate(r)
	if err != nil {
		for _, c := range s.auth.Challenges() {
			w.Header().Add("WWW-Authenticate", c)
		}
		s.log.Info("eas: unauthorized", "remote", r.RemoteAddr, "reason", authReason(err))
		http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
		return
	}
	mb := s.mailbox(login)
	if mb == nil {
		http.Error(w, "no mailbox", http.StatusForbidden)
		return
	}
	switch r.Method {
	case http.MethodOptions:
		noteRequest(r.Context(), mb.user.Name, r.URL.Query().Get("DeviceId"), "", "")
		for k, v := range eas.OptionsHeaders(supportedVersions, supportedCommands) {
			w.Header()[k] = v
		}
		w.WriteHeader(http.StatusOK)
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "OPTIONS, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ri, err := eas.ParseRequest(r)
	if err != nil {
		s.log.Info("eas: bad request", "user", mb.user.Name, "error", err)
		http.Error(w, "bad ActiveSync request", http.StatusBadRequest)
		return
	}
	noteRequest(r.Context(), mb.user.Name, ri.Query.DeviceID, string(ri.Query.Cmd), ri.Version.String())
	mb.mu.Lock()
	redirect := mb.redirect
	mb.mu.Unlock()
	if redirect != "" {
		_ = eas.Redirect451(w, redirect)
		return
	}
	h, ok := commandHandlers[ri.Query.Cmd]
	if !ok {
		http.Error(w, "command not implemented", http.StatusNotImplemented)
		return
	}
	rc := &reqCtx{w: w, r: r, ri: ri, mb: mb, dev: s.devices.touch(mb.user.Name, ri, s.now())}
	s.log.Debug("eas: request", "req", ri)
	if s.enforceAccess(rc, &h) { // device access rules (abq.go)
		return
	}
	if ri.Query.Cmd != eas.CmdProvision {
		if wiped(rc.dev.AccessState) {
			http.Error(w, "device wiped", http.StatusForbidden)
			return
		}
		if st := s.policyStatus(rc); st != 0 {
			s.needProvision(rc, st)
			return
		}
	}
	h(s, rc)
}

func authReason(err error) string {
	if errors.Is(err, ErrNoCredentials) {
		return "no credentials"
	}
	return "bad credentials"
}

// policyStatus says why a non-Provision request must provision first: 142
// without a policy key, 144 with a stale one, 140 when a wipe is pending;
// 0 when it may proceed.
func (s *Server) policyStatus(rc *reqCtx) eas.Status {
	switch {
	case wipePending(rc.dev.AccessState):
		return eas.StatusRemoteWipeRequested
	case s.cfg.AllowUnprovisioned:
		return 0
	case !rc.ri.HasPolicyKey || rc.ri.PolicyKey == 0:
		return eas.StatusDeviceNotProvisioned
	case !rc.dev.Provisioned || rc.ri.PolicyKey != rc.dev.PolicyKey:
		return eas.StatusInvalidPolicyKey
	}
	return 0
}

// needProvision answers 449 (12.1) or a Status in the command's response.
func (s *Server) needProvision(rc *reqCtx, st eas.Status) {
	root, ok := statusRoots[rc.ri.Query.Cmd]
	if rc.version() < eas.V140 || !ok {
		rc.w.WriteHeader(eas.HTTPRetryWith)
		return
	}
	n := wbxml.NewElement(wbxml.MustTag(root), wbxml.NewText(statusTag(root), itoa(int(st))))
	if root == "Move:MoveItems" { // MoveItems has no top-level Status
		n = wbxml.NewElement(wbxml.MustTag("Move:MoveItems"), wbxml.NewElement(wbxml.MustTag("Move:Response"), wbxml.NewText(wbxml.MustTag("Move:Status"), itoa(int(st)))))
	}
	b, err := wbxml.Marshal(n)
	if err != nil {
		http.Error(rc.w, "encode", http.StatusInternalServerError)
		return
	}
	writeWBXMLBytes(rc.w, b)
}

func statusTag(root string) wbxml.Tag {
	page, _, _ := strings.Cut(root, ":")
	return wbxml.MustTag(page + ":Status")
}

// readBody reads a size-limited request body.
func (s *Server) readBody(rc *reqCtx) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(rc.w, rc.r.Body, s.cfg.MaxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			http.Error(rc.w, "request body too large", http.StatusRequestEntityTooLarge)
		} else {
			http.Error(rc.w, "reading body", http.StatusBadRequest)
		}
		return nil, false
	}
	return b, true
}

// decode reads and decodes the WBXML request body into v. It answers 400
// and returns false on failure; an empty body gives ok with empty=true.
func (s *Server) decode(rc *reqCtx, v any) (empty, ok bool) {
	b, ok := s.readBody(rc)
	if !ok {
		return false, false
	}
	if len(b) == 0 {
		return true, true
	}
	doc, err := wbxml.Parse(b, wbxml.Limits{MaxSize: int(s.cfg.MaxRequestBody)})
	if err == nil {
		err = wbxml.NodeToStruct(doc.Root, v)
	}
	if err != nil {
		s.log.Info("eas: undecodable body", "cmd", rc.ri.Query.Cmd, "user", rc.mb.user.Name, "error", err)
		http.Error(rc.w, "invalid WBXML", http.StatusBadRequest)
		return false, false
	}
	return false, true
}

func (s *Server) writeWBXML(rc *reqCtx, msg any) {
	b, err := eas.EncodeMessage(msg)
	if err != nil {
		s.log.Error("eas: encode response", "cmd", rc.ri.Query.Cmd, "error", err)
		http.Error(rc.w, "encode", http.StatusInternalServerError)
		return
	}
	writeWBXMLBytes(rc.w, b)
}

func writeWBXMLBytes(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", eas.ContentTypeWBXML)
	w.Header().Set("Content-Length", itoa(len(b)))
	_, _ = w.Write(b)
}
