package eas

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// specStatuses is the common status table of MS-ASCMD 2.2.2 typed in again,
// independently of status.go.
var specStatuses = map[int]string{
	1: "Success", 101: "InvalidContent", 102: "InvalidWBXML", 103: "InvalidXML",
	104: "InvalidDateTime", 105: "InvalidCombinationOfIDs", 106: "InvalidIDs",
	107: "InvalidMIME", 108: "DeviceIdMissingOrInvalid", 109: "DeviceTypeMissingOrInvalid",
	110: "ServerError", 111: "ServerErrorRetryLater", 112: "ActiveDirectoryAccessDenied",
	113: "MailboxQuotaExceeded", 114: "MailboxServerOffline", 115: "SendQuotaExceeded",
	116: "MessageRecipientUnresolved", 117: "MessageReplyNotAllowed", 118: "MessagePreviouslySent",
	119: "MessageHasNoRecipient", 120: "MailSubmissionFailed", 121: "MessageReplyFailed",
	122: "AttachmentIsTooLarge", 123: "UserHasNoMailbox", 124: "UserCannotBeAnonymous",
	125: "UserPrincipalCouldNotBeFound", 126: "UserDisabledForSync", 127: "UserOnNewMailboxCannotSync",
	128: "UserOnLegacyMailboxCannotSync", 129: "DeviceIsBlockedForThisUser", 130: "AccessDenied",
	131: "AccountDisabled", 132: "SyncStateNotFound", 133: "SyncStateLocked", 134: "SyncStateCorrupt",
	135: "SyncStateAlreadyExists", 136: "SyncStateVersionInvalid", 137: "CommandNotSupported",
	138: "VersionNotSupported", 139: "DeviceNotFullyProvisionable", 140: "RemoteWipeRequested",
	141: "LegacyDeviceOnStrictPolicy", 142: "DeviceNotProvisioned", 143: "PolicyRefresh",
	144: "InvalidPolicyKey", 145: "ExternallyManagedDevicesNotAllowed", 146: "NoRecurrenceInCalendar",
	147: "UnexpectedItemClass", 148: "RemoteServerHasNoSSL", 149: "InvalidStoredRequest",
	150: "ItemNotFound", 151: "TooManyFolders", 152: "NoFoldersFound", 153: "ItemsLostAfterMove",
	154: "FailureInMoveOperation", 155: "MoveCommandDisallowedForNonPersistentMoveAction",
	156: "MoveCommandInvalidDestinationFolder", 160: "AvailabilityTooManyRecipients",
	161: "AvailabilityDLLimitReached", 162: "AvailabilityTransientFailure", 163: "AvailabilityFailure",
	164: "BodyPartPreferenceTypeNotSupported", 165: "DeviceInformationRequired", 166: "InvalidAccountId",
	167: "AccountSendDisabled", 168: "IRM_FeatureDisabled", 169: "IRM_TransientError",
	170: "IRM_PermanentError", 171: "IRM_InvalidTemplateID", 172: "IRM_OperationNotPermitted",
	173: "NoPicture", 174: "PictureTooLarge", 175: "PictureLimitReached",
	176: "BodyPart_ConversationTooLarge", 177: "MaximumDevicesReached",
	178: "InvalidMimeBodyCombination", 179: "InvalidSmartForwardParameters",
	183: "InvalidRecipients", 184: "OneOrMoreExceptionsFailed",
}

func TestStatusNames(t *testing.T) {
	for v := -1; v <= 300; v++ {
		want, ok := specStatuses[v]
		if !ok {
			want = "Status(" + strconv.Itoa(v) + ")"
		}
		if got := Status(v).String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", v, got, want)
		}
	}
	if len(statusNames) != len(specStatuses) {
		t.Errorf("status.go names %d statuses, the spec table has %d", len(statusNames), len(specStatuses))
	}
	// Spot-check that the constants carry the values their names say.
	for s, v := range map[Status]int{
		StatusDeviceIsBlockedForThisUser: 129, StatusRemoteWipeRequested: 140,
		StatusLegacyDeviceOnStrictPolicy: 141, StatusDeviceNotProvisioned: 142,
		StatusPolicyRefresh: 143, StatusInvalidPolicyKey: 144, StatusMaximumDevicesReached: 177,
	} {
		if int(s) != v {
			t.Errorf("%v = %d, want %d", s, int(s), v)
		}
	}
}

func TestNeedsProvision(t *testing.T) {
	for v := 0; v <= 300; v++ {
		want := v == 142 || v == 143 || v == 144
		if got := Status(v).NeedsProvision(); got != want {
			t.Errorf("Status(%d).NeedsProvision() = %v, want %v", v, got, want)
		}
	}
}

func TestHTTPStatusCodes(t *testing.T) {
	for got, want := range map[int]int{
		HTTPUnauthorized: 401, HTTPForbidden: 403, HTTPRetryWith: 449, HTTPRedirect: 451,
		HTTPServerError: 500, HTTPServiceUnavailable: 503,
	} {
		if got != want {
			t.Errorf("constant %d, want %d", got, want)
		}
	}
}

func TestRedirect451(t *testing.T) {
	// The location of the 451 example in MS-ASHTTP 3.1.5.2.2.
	const loc = "https://mail.contoso.com/Microsoft-Server-ActiveSync"
	rec := httptest.NewRecorder()
	if err := Redirect451(rec, loc); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 451 {
		t.Errorf("status %d, want 451", rec.Code)
	}
	if got := rec.Header().Values(HeaderLocation); len(got) != 1 || got[0] != loc {
		t.Errorf("%s = %v (keys %v)", HeaderLocation, got, rec.Header())
	}
	if got, ok := ParseRedirect(rec.Result()); !ok || got != loc {
		t.Errorf("ParseRedirect = %q, %v", got, ok)
	}

	for _, bad := range []string{"", "/Microsoft-Server-ActiveSync", "mail.contoso.com", "ftp://mail.contoso.com/",
		"https://", "https://mail.contoso.com/\r\nSet-Cookie: a=b", "javascript:alert(1)"} {
		rec := httptest.NewRecorder()
		if err := Redirect451(rec, bad); err == nil {
			t.Errorf("Redirect451(%q) succeeded", bad)
		}
		if rec.Code != http.StatusOK || len(rec.Header()) != 0 {
			t.Errorf("Redirect451(%q) wrote a response: %d %v", bad, rec.Code, rec.Header())
		}
	}
}

func TestParseRedirect(t *testing.T) {
	resp := func(code int, h http.Header) *http.Response { return &http.Response{StatusCode: code, Header: h} }
	tests := []struct {
		name string
		resp *http.Response
		want string
		ok   bool
	}{
		{"nil", nil, "", false},
		{"451 with location", resp(451, http.Header{"X-Ms-Location": {" https://b.example/Microsoft-Server-ActiveSync "}}),
			"https://b.example/Microsoft-Server-ActiveSync", true},
		{"451 spec spelling", resp(451, http.Header{"X-MS-Location": {"https://b.example/x"}}), "https://b.example/x", true},
		{"451 without location: Autodiscover", resp(451, http.Header{}), "", false},
		{"451 relative location", resp(451, http.Header{"X-Ms-Location": {"/x"}}), "", false},
		{"200 with location", resp(200, http.Header{"X-Ms-Location": {"https://b.example/x"}}), "", false},
	}
	for _, tt := range tests {
		if got, ok := ParseRedirect(tt.resp); got != tt.want || ok != tt.ok {
			t.Errorf("%s: ParseRedirect = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestServiceUnavailable(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string // Retry-After, "" for none
	}{
		{0, ""}, {-time.Second, ""}, {time.Millisecond, "1"}, {1500 * time.Millisecond, "2"}, {30 * time.Second, "30"},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		ServiceUnavailable(rec, tt.d)
		if rec.Code != 503 || rec.Header().Get("Retry-After") != tt.want {
			t.Errorf("ServiceUnavailable(%v): %d Retry-After=%q, want 503 %q", tt.d, rec.Code, rec.Header().Get("Retry-After"), tt.want)
		}
		if tt.want == "" {
			continue
		}
		got, ok := ParseRetryAfter(rec.Result(), time.Now())
		if !ok || got < tt.d || got >= tt.d+time.Second {
			t.Errorf("ParseRetryAfter after ServiceUnavailable(%v) = %v, %v", tt.d, got, ok)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	resp := func(v string) *http.Response {
		return &http.Response{StatusCode: 503, Header: http.Header{"Retry-After": {v}}}
	}
	tests := []struct {
		name string
		resp *http.Response
		want time.Duration
		ok   bool
	}{
		{"nil", nil, 0, false},
		{"absent", &http.Response{Header: http.Header{}}, 0, false},
		{"seconds", resp("120"), 2 * time.Minute, true},
		{"zero", resp("0"), 0, true},
		{"date", resp(now.Add(90 * time.Second).Format(http.TimeFormat)), 90 * time.Second, true},
		{"date in the past", resp(now.Add(-time.Hour).Format(http.TimeFormat)), 0, true},
		{"seconds past 32 bits", resp("5000000000"), 0, false},
		{"capped", resp("999999"), maxRetryAfter, true},
		{"capped date", resp(now.Add(1000 * time.Hour).Format(http.TimeFormat)), maxRetryAfter, true},
		{"negative", resp("-5"), 0, false},
		{"garbage", resp("soon"), 0, false},
	}
	for _, tt := range tests {
		if got, ok := ParseRetryAfter(tt.resp, now); got != tt.want || ok != tt.ok {
			t.Errorf("%s: ParseRetryAfter = %v, %v; want %v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
