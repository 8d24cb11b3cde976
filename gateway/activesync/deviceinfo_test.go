package activesync

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// sendAs sends cmd with body from a device of the given DeviceType and
// User-Agent and returns the answer's body.
func (r *attachRig) sendAs(t *testing.T, cmd eas.Command, deviceID, deviceType, userAgent string, body []byte) []byte {
	t.Helper()
	q := &eas.Query{Cmd: cmd, User: "alice", DeviceID: deviceID, DeviceType: deviceType}
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/Microsoft-Server-ActiveSync?"+q.Encode(false), bytes.NewReader(body))
	req.SetBasicAuth("alice", "secret")
	req.Header.Set(eas.HeaderProtocolVersion, "16.1")
	req.Header.Set("Content-Type", eas.ContentTypeWBXML)
	req.Header.Set("User-Agent", userAgent)
	if r.acceptLanguage != "" {
		req.Header.Set("Accept-Language", r.acceptLanguage)
	}
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// provisionWith sends a first-phase Provision carrying DeviceInformation.
func (r *attachRig) provisionWith(t *testing.T, deviceID, deviceType, userAgent string, set eas.DeviceInformationSet) {
	t.Helper()
	r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, &eas.ProvisionResponse{Status: 1}))
	r.sendAs(t, eas.CmdProvision, deviceID, deviceType, userAgent, mustWBXML(t, &eas.ProvisionRequest{
		Policies: []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}}, DeviceInformation: &eas.DeviceInformation{Set: &set}}))
}

// fetchAs fetches the test PDF inline and returns what the device got.
func (r *attachRig) fetchAs(t *testing.T, deviceID, deviceType, userAgent string) []byte {
	t.Helper()
	r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, fetchInline("5:1:0", "application/pdf", pdf)))
	got := r.sendAs(t, eas.CmdItemOperations, deviceID, deviceType, userAgent, []byte("x"))
	var ir eas.ItemOperationsResponse
	if err := wbxml.UnmarshalStruct(got, &ir, wbxml.Limits{}); err != nil || ir.Response == nil || ir.Response.Fetch[0].Properties.Data == nil {
		t.Fatalf("not an ItemOperations answer: %v", err)
	}
	data, err := base64.StdEncoding.DecodeString(*ir.Response.Fetch[0].Properties.Data)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestATT02_ThirdPartyIOSAppFollowsTheIOSDropdown: Outlook on iOS says
// nothing of iOS in its DeviceType or User-Agent, only in its Provision
// DeviceInformation; it must get the iOS option (Encrypt here), never
// Other Platforms' (Deliver as is here), while Outlook on Android does.
func TestATT02_ThirdPartyIOSAppFollowsTheIOSDropdown(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachEncrypt)
	r.provisionWith(t, "OUTLOOKIOS1", "Outlook", "Outlook-iOS/2.0", eas.DeviceInformationSet{Model: "iPhone15,2", OS: "iOS 17.4", OSLanguage: "en-US"})
	if got := r.fetchAs(t, "OUTLOOKIOS1", "Outlook", "Outlook-iOS/2.0"); leaks(got) {
		t.Fatal("Outlook on iOS got the PDF in clear: the Other Platforms option governed an iOS device")
	}
	r.provisionWith(t, "OUTLOOKAND1", "Outlook", "Outlook-Android/2.0", eas.DeviceInformationSet{Model: "Pixel 8", OS: "Android 14", OSLanguage: "en-US"})
	if got := r.fetchAs(t, "OUTLOOKAND1", "Outlook", "Outlook-Android/2.0"); !leaks(got) {
		t.Fatal("Outlook on Android did not get the PDF as it is (Other Platforms: Deliver as is)")
	}
}

// TestATT06_RemoveNoticeInTheIOSDevicesLanguage: an iPhone that said
// OSLanguage de-DE in Provision gets the removal notice in German.
func TestATT06_RemoveNoticeInTheIOSDevicesLanguage(t *testing.T) {
	r := newAttachRig(t, uemapi.AttachRemove)
	r.provisionWith(t, "IPHONEDE1", "iPhone", "Apple-iPhone15C2/2104.100", eas.DeviceInformationSet{Model: "iPhone15,2", OS: "iOS 17.4", OSLanguage: "de-DE"})
	got := string(r.fetchAs(t, "IPHONEDE1", "iPhone", "Apple-iPhone15C2/2104.100"))
	if !strings.Contains(got, "Der ursprüngliche Anhang wurde gemäß den Sicherheitsrichtlinien Ihres Administrators entfernt.") {
		t.Fatalf("the removal notice is not in German: %q", got)
	}
}

// settingsWith sends a Settings command carrying DeviceInformation Set, as
// iOS does before (or instead of) a Provision with it.
func (r *attachRig) settingsWith(t *testing.T, deviceID, deviceType, userAgent string, set eas.DeviceInformationSet) {
	t.Helper()
	r.answer(http.StatusOK, eas.ContentTypeWBXML, mustWBXML(t, &eas.SettingsResponse{Status: 1}))
	r.sendAs(t, eas.CmdSettings, deviceID, deviceType, userAgent, mustWBXML(t, &eas.SettingsRequest{DeviceInformation: &eas.DeviceInformation{Set: &set}}))
}

// Issue 22: a French and a Japanese iPhone that gave their language only
// in the Settings command get the removal notice in it; before, the
// gateway read DeviceInformation from Provision only and wrote US English.
func TestATT06_RemoveNoticeFromTheSettingsLanguage(t *testing.T) {
	for _, c := range []struct{ dev, lang, want string }{
		{"IPHONEFR1", "fr-FR", "a été supprimée conformément aux règles de sécurité de votre administrateur."},
		{"IPHONEJA1", "ja-JP", "元の添付ファイルは、管理者のセキュリティポリシーにより削除されました。"},
	} {
		r := newAttachRig(t, uemapi.AttachRemove)
		r.settingsWith(t, c.dev, "iPhone", "Apple-iPhone15C2/2104.100", eas.DeviceInformationSet{Model: "iPhone15,2", OS: "iOS 17.4", OSLanguage: c.lang})
		if got := string(r.fetchAs(t, c.dev, "iPhone", "Apple-iPhone15C2/2104.100")); !strings.Contains(got, c.want) {
			t.Errorf("%s (%s): the removal notice is not in its language: %q", c.dev, c.lang, got)
		}
	}
}

// Issue 22: an iPhone that has sent no DeviceInformation yet gets the
// removal notice in the first language of its Accept-Language.
func TestATT06_RemoveNoticeFromAcceptLanguage(t *testing.T) {
	for _, c := range []struct{ header, want string }{
		{"fr-FR,fr;q=0.9,en;q=0.8", "a été supprimée conformément"},
		{"ja-JP", "元の添付ファイルは"},
	} {
		r := newAttachRig(t, uemapi.AttachRemove)
		r.acceptLanguage = c.header
		if got := string(r.fetchAs(t, "IPHONEAL1", "iPhone", "Apple-iPhone15C2/2104.100")); !strings.Contains(got, c.want) {
			t.Errorf("Accept-Language %s: %q", c.header, got)
		}
	}
}
