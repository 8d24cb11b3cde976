package activesync

import (
	"bytes"
	"compress/gzip"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// gzipAnswers compresses the server's answers, as IIS does for a device
// that accepts gzip.
func gzipAnswers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(rec.Body.Bytes())
		zw.Close()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
		w.WriteHeader(rec.Code)
		w.Write(b.Bytes())
	})
}

// garbageProvision answers Provision with bytes that are not WBXML.
func garbageProvision(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q, _ := eas.ParseQuery(r.URL.RawQuery); q.Cmd == eas.CmdProvision {
			w.Header().Set("Content-Type", eas.ContentTypeWBXML)
			w.Write([]byte("\x03\x01\x6a\x00\x45\xff\xff"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allowWithPolicy makes device dev of alice allowed with the UEM policy
// "exec" (minimum password length 12).
func allowWithPolicy(t *testing.T, r *rig, dev string) {
	t.Helper()
	r.uem.Set(dev, "alice", uemapi.StateAllowed, "exec")
	r.link.Access(context.Background(), uemsync.DeviceRequest{DeviceID: dev, User: "alice"})
	r.link.Apply(&uemapi.Notification{ID: "n-" + dev, Type: uemapi.NotifyPolicy, Policy: &uemapi.PolicyChange{
		Policy:  uemapi.ActiveSyncPolicy{ID: "exec", Version: 2, PasswordRequired: true, MinPasswordLength: 12, PasswordType: uemapi.PasswordAlphanumeric, MinComplexChars: 3},
		Devices: []uemapi.DeviceRef{{EASDeviceID: dev, User: "alice"}}}})
}

// ACT-13: the UEM's policy replaces the server's even when the server
// compresses its Provision answer; before, the compressed answer was
// relayed unread and the device never got the UEM's policy.
func TestACT13CompressedProvisionCarriesTheUEMPolicy(t *testing.T) {
	r := newRig(t, gzipAnswers)
	allowWithPolicy(t, r, "GZ")
	code, body := r.send(t, "GZ", eas.CmdProvision, "14.1", provisionBody(t, "", false))
	if code != http.StatusOK || body == nil {
		t.Fatalf("Provision: HTTP %d, body %v", code, body)
	}
	var pr eas.ProvisionResponse
	if err := wbxml.NodeToStruct(body, &pr); err != nil {
		t.Fatal(err)
	}
	doc := pr.Policies[0].Data.EASProvisionDoc
	if doc.MinDevicePasswordLength == nil || *doc.MinDevicePasswordLength != "12" {
		t.Fatalf("device got %+v, want the UEM's policy (12)", doc)
	}
}

// ACT-13: a Provision answer the gateway cannot read is refused when the
// UEM's policy must go in, so the server's policy never takes its place.
func TestACT13UnreadableProvisionIsRefused(t *testing.T) {
	r := newRig(t, garbageProvision)
	allowWithPolicy(t, r, "BAD")
	if code, _ := r.send(t, "BAD", eas.CmdProvision, "14.1", provisionBody(t, "", false)); code != http.StatusBadGateway {
		t.Fatalf("unreadable server Provision: HTTP %d, want 502", code)
	}
}

// ASA-02: a first access by Provision reports the device's model, OS and
// phone number (14.1 DeviceInformation) to the UEM, whose record shows
// them; before, the report carried none, so an unregistered device's
// record had no Phone or OS.
func TestASA02FirstProvisionReportsTheDeviceInformation(t *testing.T) {
	r := newRig(t)
	req := &eas.ProvisionRequest{
		DeviceInformation: &eas.DeviceInformation{Set: &eas.DeviceInformationSet{Model: "SM-S918B", OS: "Android 14", PhoneNumber: "+15550100"}},
		Policies:          []eas.PolicyRequest{{PolicyType: eas.PolicyTypeWBXML}},
	}
	body, err := wbxml.MarshalStruct(req)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := r.send(t, "INFO", eas.CmdProvision, "14.1", body); code != http.StatusOK {
		t.Fatalf("Provision: HTTP %d", code)
	}
	reps := r.uem.Reports()
	if len(reps) != 1 {
		t.Fatalf("%d reports, want 1", len(reps))
	}
	if got := reps[0]; got.Model != "SM-S918B" || got.OS != "Android 14" || got.PhoneNumber != "+15550100" {
		t.Fatalf("report %+v lacks the device information", got)
	}
	if cmds := r.up.commands(); len(cmds) != 1 || cmds[0] != string(eas.CmdProvision) {
		t.Fatalf("the server got %v, want the Provision", cmds)
	}
}
