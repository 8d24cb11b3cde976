package activesync

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// statusRoots names, per command, the response root and its Status
// element: where a 14.0+ device looks for a global status code.
var statusRoots = map[eas.Command][2]string{
	eas.CmdSync:              {"AirSync:Sync", "AirSync:Status"},
	eas.CmdFolderSync:        {"FolderHierarchy:FolderSync", "FolderHierarchy:Status"},
	eas.CmdFolderCreate:      {"FolderHierarchy:FolderCreate", "FolderHierarchy:Status"},
	eas.CmdFolderDelete:      {"FolderHierarchy:FolderDelete", "FolderHierarchy:Status"},
	eas.CmdFolderUpdate:      {"FolderHierarchy:FolderUpdate", "FolderHierarchy:Status"},
	eas.CmdGetItemEstimate:   {"GetItemEstimate:GetItemEstimate", "GetItemEstimate:Status"},
	eas.CmdMoveItems:         {"Move:MoveItems", "Move:Status"},
	eas.CmdMeetingResponse:   {"MeetingResponse:MeetingResponse", "MeetingResponse:Status"},
	eas.CmdSearch:            {"Search:Search", "Search:Status"},
	eas.CmdSettings:          {"Settings:Settings", "Settings:Status"},
	eas.CmdPing:              {"Ping:Ping", "Ping:Status"},
	eas.CmdItemOperations:    {"ItemOperations:ItemOperations", "ItemOperations:Status"},
	eas.CmdProvision:         {"Provision:Provision", "Provision:Status"},
	eas.CmdResolveRecipients: {"ResolveRecipients:ResolveRecipients", "ResolveRecipients:Status"},
	eas.CmdValidateCert:      {"ValidateCert:ValidateCert", "ValidateCert:Status"},
	eas.CmdSendMail:          {"ComposeMail:SendMail", "ComposeMail:Status"},
	eas.CmdSmartForward:      {"ComposeMail:SmartForward", "ComposeMail:Status"},
	eas.CmdSmartReply:        {"ComposeMail:SmartReply", "ComposeMail:Status"},
	eas.CmdFind:              {"Find:Find", "Find:Status"},
}

// writeStatus answers a command with a bare global status, the way
// Exchange tells a 14.0+ device it is blocked (129) or must provision
// (142/144). It reports false when the command has no WBXML response
// (GetAttachment), for which the caller falls back to an HTTP status.
func writeStatus(w http.ResponseWriter, cmd eas.Command, st eas.Status) bool {
	names, ok := statusRoots[cmd]
	if !ok {
		return false
	}
	root := wbxml.NewElement(wbxml.MustTag(names[0]), wbxml.NewText(wbxml.MustTag(names[1]), strconv.Itoa(int(st))))
	body, err := wbxml.Marshal(root)
	if err != nil {
		return false
	}
	w.Header().Set("Content-Type", eas.ContentTypeWBXML)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return true
}

// writeWBXML answers with a typed message.
func writeWBXML(w http.ResponseWriter, msg any) error {
	body, err := wbxml.MarshalStruct(msg)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", eas.ContentTypeWBXML)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(body)
	return err
}
