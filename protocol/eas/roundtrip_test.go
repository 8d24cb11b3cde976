package eas

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// roundTrip encodes msg, decodes it in direction dir, checks the decoded
// struct equals msg, and returns the encoding.
func roundTrip(t *testing.T, msg any, dir Direction) []byte {
	t.Helper()
	b, err := EncodeMessage(msg)
	if err != nil {
		t.Fatalf("Encode %T: %v", msg, err)
	}
	got, err := DecodeAs(b, wbxml.DefaultLimits, dir)
	if err != nil {
		t.Fatalf("Decode %T: %v", msg, err)
	}
	// DeepEqual follows the *wbxml.Node pointers of Unknown and raw fields.
	if !reflect.DeepEqual(got, msg) {
		t.Fatalf("round trip of %T changed it:\n got %+v\nwant %+v", msg, got, msg)
	}
	b2, err := EncodeMessage(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Fatalf("%T: decode, encode, decode is not stable", msg)
	}
	return b
}

// Every corpus message survives decode, encode, decode as the same struct.
func TestRoundTripCorpusMessages(t *testing.T) {
	for name, b := range corpusWBXML(t) {
		msg, err := Decode(b, wbxml.DefaultLimits)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		dir := ClientToServer
		if strings.Contains(name, "-response") {
			dir = ServerToClient
		}
		t.Run(name, func(t *testing.T) { roundTrip(t, msg, dir) })
	}
}

// Elements libwbxml names differently or does not know are covered here
// rather than in the differential corpus.
func TestRoundTripElementsUnknownToLibwbxml(t *testing.T) {
	t.Run("AccountOnlyRemoteWipe", func(t *testing.T) {
		b := roundTrip(t, &ProvisionResponse{Status: 1, AccountOnlyRemoteWipe: true}, ServerToClient)
		doc, _ := wbxml.Parse(b, wbxml.DefaultLimits)
		if doc.Root.Child(wbxml.MustTag("Provision:AccountOnlyRemoteWipe")) == nil {
			t.Error("AccountOnlyRemoteWipe not written")
		}
		roundTrip(t, &ProvisionRequest{AccountOnlyRemoteWipe: &WipeAck{Status: 1}}, ClientToServer)
		roundTrip(t, &ProvisionRequest{RemoteWipe: &WipeAck{Status: 2}}, ClientToServer)
	})
	t.Run("RequireStorageCardEncryption", func(t *testing.T) {
		roundTrip(t, &ProvisionResponse{Status: 1, Policies: []PolicyResponse{{
			PolicyType: PolicyTypeWBXML, Status: 1, PolicyKey: "1",
			Data: &PolicyData{EASProvisionDoc: &EASProvisionDoc{
				RequireStorageCardEncryption: Ptr(true), AllowBluetooth: Ptr(0),
				MaxAttachmentSize: Ptr(""), ApprovedApplicationList: &ApprovedApplicationList{},
			}},
		}}}, ServerToClient)
	})
	t.Run("ReplyTo and Flag Status", func(t *testing.T) {
		roundTrip(t, &SyncResponse{Collections: []SyncCollectionResponse{{
			SyncKey: "2", CollectionId: "5", Status: 1,
			Commands: &SyncCommands{Change: []SyncItem{{ServerId: "5:1", ApplicationData: &EmailData{
				ReplyTo: "list@contoso.com", Flag: &Flag{Status: 2, FlagType: "Follow up"},
			}}}},
		}}}, ServerToClient)
	})
	t.Run("Find page element kept as unknown", func(t *testing.T) {
		find := wbxml.NewText(wbxml.MustTag("Find:Preview"), "kept")
		roundTrip(t, &SyncResponse{Collections: []SyncCollectionResponse{{
			SyncKey: "2", CollectionId: "5", Status: 1,
			Commands: &SyncCommands{Add: []SyncItem{{ServerId: "5:9", ApplicationData: &EmailData{
				Subject: "x", Unknown: []*wbxml.Node{find},
			}}}},
		}}}, ServerToClient)
	})
	t.Run("SmartForward with LongId and Mime bytes", func(t *testing.T) {
		b := roundTrip(t, &SmartForward{ClientId: "1", Source: &Source{LongId: "RgAAAA"},
			SaveInSentItems: true, Mime: []byte("To: a@b\r\n\r\n\x00binary")}, ClientToServer)
		doc, _ := wbxml.Parse(b, wbxml.DefaultLimits)
		if m := doc.Root.Child(wbxml.MustTag("ComposeMail:Mime")); m == nil || !m.Opaque {
			t.Error("Mime not written as opaque data")
		}
	})
}

func TestDecodePicksDirection(t *testing.T) {
	for _, tc := range []struct {
		msg  any
		want string
	}{
		{&PingRequest{HeartbeatInterval: 60}, "*eas.PingRequest"},
		{&PingResponse{Status: 1}, "*eas.PingResponse"},
		{&SyncRequest{Collections: []SyncCollection{{SyncKey: "1", CollectionId: "5"}}}, "*eas.SyncRequest"},
		{&SyncResponse{Collections: []SyncCollectionResponse{{SyncKey: "1", CollectionId: "5", Status: 1}}}, "*eas.SyncResponse"},
		{&SyncResponse{Status: 12}, "*eas.SyncResponse"},
		{&GetItemEstimateResponse{Response: []EstimateResponse{{Status: 1}}}, "*eas.GetItemEstimateResponse"},
		{&MoveItemsRequest{Move: []MoveItem{{SrcMsgId: "1", SrcFldId: "2", DstFldId: "3"}}}, "*eas.MoveItemsRequest"},
		{&SmartReplyResponse{Status: 104}, "*eas.SmartReplyResponse"},
		{&SettingsRequest{UserInformation: &UserInformation{Get: &UserInformationGet{}}}, "*eas.SettingsRequest"},
	} {
		b, err := EncodeMessage(tc.msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b, wbxml.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		if typeOf(got) != tc.want {
			t.Errorf("Decode gave %s, want %s", typeOf(got), tc.want)
		}
	}
}

func TestDecodeRejectsOtherRoots(t *testing.T) {
	b, _ := wbxml.Marshal(wbxml.NewElement(wbxml.MustTag("Search:Search")))
	if _, err := Decode(b, wbxml.DefaultLimits); !errors.Is(err, ErrUnknownMessage) {
		t.Fatalf("err = %v, want ErrUnknownMessage", err)
	}
	bad, _ := wbxml.Marshal(wbxml.NewElement(wbxml.MustTag("Ping:Ping"), wbxml.NewText(wbxml.MustTag("Ping:Status"), "two")))
	if _, err := Decode(bad, wbxml.DefaultLimits); err == nil || !strings.Contains(err.Error(), "Ping:Status") {
		t.Fatalf("err = %v, want one naming Ping:Status", err)
	}
}

func TestWantsChanges(t *testing.T) {
	for _, tc := range []struct {
		key        string
		getChanges *string
		want       bool
	}{
		{"0", nil, false}, {"5", nil, true}, {"5", Ptr(""), true}, {"5", Ptr("1"), true}, {"5", Ptr("0"), false}, {"0", Ptr(""), true},
	} {
		c := SyncCollection{SyncKey: tc.key, GetChanges: tc.getChanges}
		if got := c.WantsChanges(); got != tc.want {
			t.Errorf("SyncKey %s GetChanges %v: %v, want %v", tc.key, tc.getChanges, got, tc.want)
		}
	}
}
