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
