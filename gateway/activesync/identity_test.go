package activesync

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode"

	"github.com/gatehouse-lab/gatehouse/gateway/devicecache"
	"github.com/gatehouse-lab/gatehouse/gateway/stats"
	"github.com/gatehouse-lab/gatehouse/protocol/eas"
	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// answer is what the device got.
type answer struct {
	code   int
	header http.Header
	body   *wbxml.Node
}

// sendRaw posts a 14.1 FolderSync with the given raw query and Basic
// credentials (login "" sends no Authorization header at all).
func (r *rig) sendRaw(t *testing.T, rawQuery, login, password string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/Microsoft-Server-ActiveSync?"+rawQuery, nil)
	if login != "" {
		req.SetBasicAuth(login, password)
	}
	req.Header.Set(eas.HeaderProtocolVersion, "14.1")
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, header: resp.Header}
	if len(b) > 0 && resp.Header.Get("Content-Type") == eas.ContentTypeWBXML {
		d, err := wbxml.Parse(b, wbxml.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		a.body = d.Root
	}
	return a
}

// sendAs sends cmd for device dev with the query's User and Basic login.
func (r *rig) sendAs(t *testing.T, dev, queryUser, login, password string) answer {
	t.Helper()
	q := &eas.Query{Cmd: eas.CmdFolderSync, User: queryUser, DeviceID: dev, DeviceType: "iPhone"}
	return r.sendRaw(t, q.Encode(false), login, password)
}

// nothingKept fails unless the gateway kept no trace of any device: no
// cache entry, no statistics row, no UEM report, nothing relayed.
func (r *rig) nothingKept(t *testing.T) {
	t.Helper()
	rows := 0
	r.stats.Devices(func(stats.DeviceKey, *stats.Device) { rows++ })
	if r.cache.Len() != 0 || rows != 0 || len(r.uem.Reports()) != 0 || len(r.up.commands()) != 0 {
		t.Fatalf("state kept: %d cache entries, %d statistics rows, %d UEM reports, server saw %v",
			r.cache.Len(), rows, len(r.uem.Reports()), r.up.commands())
	}
}

func TestIdentityMismatchIsRefused(t *testing.T) {
	// Issue 18: alice's password with DeviceId=BOBPHONE&User=bob synced
	// alice's mail under bob's record. The query's User must name the
	// authenticated user.
	r := newRig(t)
	for _, tc := range []struct{ queryUser, login string }{
		{"bob", "alice"},
		{"bob@corp.example", "alice"},
		{`CORP\bob`, `CORP\alice`},
		{"@corp.example", "alice"}, // no user part: nobody
	} {
		if a := r.sendAs(t, "BOBPHONE", tc.queryUser, tc.login, "secret"); a.code != http.StatusBadRequest {
			t.Errorf("User=%s with %s's credentials: HTTP %d, want 400", tc.queryUser, tc.login, a.code)
		}
	}
	if got := r.stats.GlobalValue(stats.IdentityMismatch); got != 4 {
		t.Errorf("identity-mismatch = %d, want 4", got)
	}
	r.nothingKept(t)
}

func TestIdentityIsNormalisedOnce(t *testing.T) {
	// Issue 18: a device blocked for alice got in again as
	// User=alice@corp.example or CORP\alice. Every spelling is one key.
	r := newRig(t)
	r.uem.Set("BLK", "alice", uemapi.StateBlocked, "")
	for _, tc := range []struct{ queryUser, login string }{
		{"alice", "alice"},
		{"alice@corp.example", "alice@corp.example"},
		{`CORP\alice`, `CORP\alice`},
		{"ALICE", "Alice"},
		{"alice@corp.example", `CORP\ALICE`},
	} {
		a := r.sendAs(t, "BLK", tc.queryUser, tc.login, "secret")
		if a.code != http.StatusOK || a.body == nil || statusOf(a.body) != "129" {
			t.Errorf("User=%s as %s: HTTP %d %v, want blocked (129)", tc.queryUser, tc.login, a.code, a.body)
		}
	}
	if r.cache.Len() != 1 {
		t.Fatalf("%d cache entries, want alice's one", r.cache.Len())
	}
	if _, ok := r.cache.Get(devicecache.Key{DeviceID: "BLK", User: "alice"}); !ok {
		t.Fatal("the entry is not keyed on the normalised user")
	}
	for _, rep := range r.uem.Reports() {
		if rep.User != "alice" {
			t.Errorf("UEM told of user %q, want alice", rep.User)
		}
	}
}

func TestNoCredentialsGetABasicChallenge(t *testing.T) {
	// Issue 18: a request without credentials cannot be keyed: 401 with
	// a Basic challenge, nothing created, the server not asked.
	r := newRig(t)
	a := r.sendAs(t, "NOAUTH1", "alice", "", "")
	if a.code != http.StatusUnauthorized || !strings.HasPrefix(a.header.Get("WWW-Authenticate"), "Basic realm=") {
		t.Fatalf("HTTP %d, WWW-Authenticate %q", a.code, a.header.Get("WWW-Authenticate"))
	}
	r.nothingKept(t)
	if r.up.probeCount() != 0 {
		t.Fatal("a request without credentials was probed")
	}
	if r.stats.GlobalValue(stats.DUnauthenticated) != 1 {
		t.Fatal("d-unauthenticated not counted")
	}
}

func TestBadCredentialsCreateNothing(t *testing.T) {
	// Issue 18: Exchange refuses the credentials of a new device on the
	// probe; the device gets Exchange's challenge and nothing is kept.
	r := newRig(t)
	for _, dev := range []string{"BAD1", "BAD2", "BAD1"} {
		a := r.sendAs(t, dev, "alice", "alice", "wrong")
		if a.code != http.StatusUnauthorized || a.header.Get("WWW-Authenticate") != `Basic realm="upstream"` {
			t.Fatalf("%s: HTTP %d, WWW-Authenticate %q; want Exchange's 401", dev, a.code, a.header.Get("WWW-Authenticate"))
		}
	}
	if r.up.probeCount() != 3 {
		t.Errorf("%d probes, want 3 (refusals are not remembered)", r.up.probeCount())
	}
	if admitted, probing := r.handler.admission.sizes(); admitted != 0 || probing != 0 {
		t.Errorf("admission sets hold %d accepted, %d in flight", admitted, probing)
	}
	r.nothingKept(t)
}

func TestGoodCredentialsAreProbedOnceThenCached(t *testing.T) {
	// A new device is admitted by one probe; once cached it is decided
	// from the cache without asking Exchange first (FLOW-04).
	r := newRig(t)
	for range 3 {
		if a := r.sendAs(t, "GOOD1", "alice", "alice", "secret"); a.code != http.StatusOK || statusOf(a.body) != "1" {
			t.Fatalf("HTTP %d %v", a.code, a.body)
		}
	}
	if r.up.probeCount() != 1 || len(r.up.commands()) != 3 {
		t.Fatalf("%d probes and %v relayed; want 1 and three FolderSyncs", r.up.probeCount(), r.up.commands())
	}
	if d, ok := r.stats.Lookup("GOOD1", "alice"); !ok || d.Get(stats.DHTTPRequests) != 3 {
		t.Fatal("the admitted device has no statistics row")
	}
	// A cached device with a wrong password is Exchange's to refuse.
	if a := r.sendAs(t, "GOOD1", "alice", "alice", "wrong"); a.code != http.StatusUnauthorized {
		t.Fatalf("cached device, wrong password: HTTP %d", a.code)
	}
	if r.up.probeCount() != 1 {
		t.Fatal("a cached device was probed")
	}
}

func TestControlCharactersNeverReachTheCache(t *testing.T) {
	// Issue 18: newline, ESC and NUL in the base64 form's DeviceId and in
	// the Basic user name reached the cache and `ctl device-cache dump`.
	r := newRig(t)
	// The base64 form may leave User out: then only the Basic user names
	// the user.
	noUser := &eas.Query{Base64: true, Version: eas.V141, Cmd: eas.CmdFolderSync, Locale: 0x0409, DeviceID: "CTRL1", DeviceType: "iPhone"}
	for _, login := range []string{"ali\nce", "\x1b[2Jalice", "alice\x00", "ali\u202ece"} {
		if a := r.sendRaw(t, noUser.Encode(true), login, "secret"); a.code != http.StatusBadRequest {
			t.Errorf("Basic user %q: HTTP %d, want 400", login, a.code)
		}
	}
	r.nothingKept(t)
	for _, id := range []string{"dev\nINJECTED", "\x1b[31mred", "a\x00b"} {
		q := &eas.Query{Base64: true, Version: eas.V141, Cmd: eas.CmdFolderSync, Locale: 0x0409, DeviceID: id, DeviceType: "iPhone", User: "alice"}
		if a := r.sendRaw(t, q.Encode(true), "alice", "secret"); a.code != http.StatusOK {
			t.Fatalf("binary device ID %q: HTTP %d", id, a.code)
		}
	}
	r.cache.Range(func(e devicecache.Entry) bool {
		if strings.ContainsFunc(e.DeviceID+e.User, func(c rune) bool { return unicode.IsControl(c) || unicode.Is(unicode.Cf, c) }) {
			t.Errorf("cache key %q / %q holds a control character", e.DeviceID, e.User)
		}
		return true
	})
	if r.cache.Len() != 3 {
		t.Fatalf("%d entries, want the three binary devices under their hex ids", r.cache.Len())
	}
}
