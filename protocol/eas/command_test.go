package eas

import (
	"errors"
	"testing"
)

// specCommandCodes is MS-ASHTTP 2.2.1.1.1.1.2 typed in again from the
// specification, independently of the table in command.go.
var specCommandCodes = []struct {
	name string
	code byte
}{
	{"Sync", 0}, {"SendMail", 1}, {"SmartForward", 2}, {"SmartReply", 3},
	{"GetAttachment", 4}, {"FolderSync", 9}, {"FolderCreate", 10},
	{"FolderDelete", 11}, {"FolderUpdate", 12}, {"MoveItems", 13},
	{"GetItemEstimate", 14}, {"MeetingResponse", 15}, {"Search", 16},
	{"Settings", 17}, {"Ping", 18}, {"ItemOperations", 19}, {"Provision", 20},
	{"ResolveRecipients", 21}, {"ValidateCert", 22}, {"Find", 23},
}

func TestCommandCodes(t *testing.T) {
	all := Commands()
	if len(all) != len(specCommandCodes) {
		t.Fatalf("Commands() has %d entries, spec has %d", len(all), len(specCommandCodes))
	}
	for i, tt := range specCommandCodes {
		c, err := ParseCommand(tt.name)
		if err != nil || string(c) != tt.name || c.String() != tt.name {
			t.Errorf("ParseCommand(%q) = %q, %v", tt.name, c, err)
		}
		if code, ok := c.Code(); !ok || code != tt.code {
			t.Errorf("%s.Code() = %d, %v; want %d", tt.name, code, ok, tt.code)
		}
		byCode, err := CommandForCode(tt.code)
		if err != nil || byCode != c {
			t.Errorf("CommandForCode(%d) = %q, %v; want %s", tt.code, byCode, err, tt.name)
		}
		if all[i] != c {
			t.Errorf("Commands()[%d] = %s, want %s (code order)", i, all[i], tt.name)
		}
	}
	all[0] = "x"
	if Commands()[0] != CmdSync {
		t.Error("Commands() shares its backing array with callers")
	}
}

func TestCommandRejects(t *testing.T) {
	// Command names are case-sensitive, and 2.5-era commands have no code.
	for _, name := range []string{"sync", "SYNC", "Sync ", "", "GetHierarchy", "Autodiscover", "Options"} {
		if _, err := ParseCommand(name); !errors.Is(err, ErrUnknownCommand) {
			t.Errorf("ParseCommand(%q) error = %v, want ErrUnknownCommand", name, err)
		}
		if Command(name).Valid() {
			t.Errorf("Command(%q).Valid() = true", name)
		}
		if _, ok := Command(name).Code(); ok {
			t.Errorf("Command(%q).Code() ok", name)
		}
	}
	for _, code := range []byte{5, 6, 7, 8, 24, 100, 255} {
		if _, err := CommandForCode(code); !errors.Is(err, ErrUnknownCommand) {
			t.Errorf("CommandForCode(%d) error = %v, want ErrUnknownCommand", code, err)
		}
	}
}
