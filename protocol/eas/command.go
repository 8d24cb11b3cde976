package eas

import "fmt"

// Command is an ActiveSync command, named as the Cmd query parameter and the
// MS-ASProtocolCommands header spell it. Names are case-sensitive.
type Command string

// The commands with a base64 command code (MS-ASHTTP 2.2.1.1.1.1.2). The
// 2.5-era commands (GetHierarchy, CreateCollection, ...) have no code and
// are not modelled; Autodiscover is a separate endpoint, not a Cmd.
const (
	CmdSync              Command = "Sync"
	CmdSendMail          Command = "SendMail"
	CmdSmartForward      Command = "SmartForward"
	CmdSmartReply        Command = "SmartReply"
	CmdGetAttachment     Command = "GetAttachment"
	CmdFolderSync        Command = "FolderSync"
	CmdFolderCreate      Command = "FolderCreate"
	CmdFolderDelete      Command = "FolderDelete"
	CmdFolderUpdate      Command = "FolderUpdate"
	CmdMoveItems         Command = "MoveItems"
	CmdGetItemEstimate   Command = "GetItemEstimate"
	CmdMeetingResponse   Command = "MeetingResponse"
	CmdSearch            Command = "Search"
	CmdSettings          Command = "Settings"
	CmdPing              Command = "Ping"
	CmdItemOperations    Command = "ItemOperations"
	CmdProvision         Command = "Provision"
	CmdResolveRecipients Command = "ResolveRecipients"
	CmdValidateCert      Command = "ValidateCert"
	CmdFind              Command = "Find"
)

// commandCodes is the MS-ASHTTP command code table; codes 5 to 8 are
// unassigned.
var commandCodes = [...]struct {
	cmd  Command
	code byte
}{
	{CmdSync, 0}, {CmdSendMail, 1}, {CmdSmartForward, 2}, {CmdSmartReply, 3},
	{CmdGetAttachment, 4}, {CmdFolderSync, 9}, {CmdFolderCreate, 10},
	{CmdFolderDelete, 11}, {CmdFolderUpdate, 12}, {CmdMoveItems, 13},
	{CmdGetItemEstimate, 14}, {CmdMeetingResponse, 15}, {CmdSearch, 16},
	{CmdSettings, 17}, {CmdPing, 18}, {CmdItemOperations, 19}, {CmdProvision, 20},
	{CmdResolveRecipients, 21}, {CmdValidateCert, 22}, {CmdFind, 23},
}

// Commands returns every known command in code order, as a fresh slice.
func Commands() []Command {
	out := make([]Command, len(commandCodes))
	for i, e := range commandCodes {
		out[i] = e.cmd
	}
	return out
}

// ParseCommand looks a command up by its exact, case-sensitive name.
func ParseCommand(name string) (Command, error) {
	c := Command(name)
	if !c.Valid() {
		return "", fmt.Errorf("eas: %w %q", ErrUnknownCommand, clip(name))
	}
	return c, nil
}

// CommandForCode looks a command up by its base64 command code.
func CommandForCode(code byte) (Command, error) {
	for _, e := range commandCodes {
		if e.code == code {
			return e.cmd, nil
		}
	}
	return "", fmt.Errorf("eas: %w: code %d", ErrUnknownCommand, code)
}

// Code returns the base64 command code of c, and false for an unknown command.
func (c Command) Code() (byte, bool) {
	for _, e := range commandCodes {
		if e.cmd == c {
			return e.code, true
		}
	}
	return 0, false
}

// Valid reports whether c is a known command name.
func (c Command) Valid() bool {
	_, ok := c.Code()
	return ok
}

// String returns the command name.
func (c Command) String() string { return string(c) }
