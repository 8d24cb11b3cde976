package eas

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const secret = "c2VjcmV0LXBhc3N3b3Jk" // stands in for credentials in Authorization

func newRequest(t *testing.T, rawQuery string, headers map[string]string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/Microsoft-Server-ActiveSync", nil)
	r.URL.RawQuery = rawQuery
	for k, v := range headers {
		r.Header[k] = append(r.Header[k], v) // keep the spelling given
	}
	return r
}

func TestParseRequest(t *testing.T) {
	const plain = "Cmd=FolderSync&User=fakename&DeviceId=v140Device&DeviceType=SmartPhone"
	withKey := b64(141, 9, 0x09, 0x04, 4, "dev1", 4, 0x59, 0x2D, 0x04, 0xEB, 2, "PC", 7, 1, 0x02)
	tests := []struct {
		name    string
		query   string
		headers map[string]string
		want    RequestInfo // Query is checked separately
	}{
		{
			// MS-ASHTTP 4.1, canonical header spelling as net/http delivers it.
			name:    "plain with version header",
			query:   plain,
			headers: map[string]string{"Ms-Asprotocolversion": "14.0", "User-Agent": "ASOM"},
			want:    RequestInfo{Version: V140, UserAgent: "ASOM"},
		},
		{
			// MS-ASPROV 4.1.4: the final policy key travels in X-MS-PolicyKey.
			name:    "plain with policy key, spec spelling",
			query:   plain,
			headers: map[string]string{"MS-ASProtocolVersion": "14.0", "X-MS-PolicyKey": "3942919513"},
			want:    RequestInfo{Version: V140, PolicyKey: 3942919513, HasPolicyKey: true},
		},
		{
			name:    "plain with policy key 0 and multipart",
			query:   plain,
			headers: map[string]string{"MS-ASProtocolVersion": "16.1", "X-MS-PolicyKey": "0", "MS-ASAcceptMultiPart": "T"},
			want:    RequestInfo{Version: V161, HasPolicyKey: true, AcceptMultiPart: true},
		},
		{
			// A hand-built map in neither spelling is still read.
			name:    "plain with lower-case keys",
			query:   plain,
			headers: map[string]string{"ms-asprotocolversion": "14.1", "x-ms-policykey": "7"},
			want:    RequestInfo{Version: V141, PolicyKey: 7, HasPolicyKey: true},
		},
		{
			name:    "plain with multipart F",
			query:   plain,
			headers: map[string]string{"MS-ASProtocolVersion": "12.1", "MS-ASAcceptMultiPart": "F"},
			want:    RequestInfo{Version: V121},
		},
		{
			// 0xEB042D59 = 3942919513; the query wins over every header.
			name:  "base64 ignores conflicting headers",
			query: withKey,
			headers: map[string]string{"MS-ASProtocolVersion": "12.1", "X-MS-PolicyKey": "not-a-number",
				"MS-ASAcceptMultiPart": "F"},
			want: RequestInfo{Version: V141, PolicyKey: 3942919513, HasPolicyKey: true, AcceptMultiPart: true},
		},
		{
			name:    "authorization is noted, never kept",
			query:   specBase64Example,
			headers: map[string]string{"Authorization": "basic " + secret},
			want:    RequestInfo{Version: V140, HasAuthorization: true, AuthScheme: "Basic"},
		},
		{
			name:    "authorization without a scheme",
			query:   specBase64Example,
			headers: map[string]string{"Authorization": secret},
			want:    RequestInfo{Version: V140, HasAuthorization: true},
		},
		{
			name:    "unknown authorization scheme",
			query:   specBase64Example,
			headers: map[string]string{"Authorization": "Custom " + secret},
			want:    RequestInfo{Version: V140, HasAuthorization: true},
		},
		{
			name:    "long user agent is cut",
			query:   specBase64Example,
			headers: map[string]string{"User-Agent": strings.Repeat("u", 1000)},
			want:    RequestInfo{Version: V140, UserAgent: strings.Repeat("u", maxUserAgent)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRequest(t, tt.query, tt.headers)
			got, err := ParseRequest(r)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			wantQuery, err := ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Query, wantQuery) {
				t.Errorf("Query = %+v, want %+v", got.Query, wantQuery)
			}
			got.Query = nil
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("RequestInfo =\n%+v\nwant\n%+v", *got, tt.want)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	const plain = "Cmd=Sync&User=u&DeviceId=d1&DeviceType=t"
	tests := []struct {
		name    string
		query   string
		headers map[string]string
		err     error
		mention string
	}{
		{"bad query", "Cmd=Sync", nil, ErrMissingParameter, "User"},
		{"no query", "", nil, ErrMalformedQuery, "empty"},
		{"plain without version", plain, nil, ErrMissingHeader, HeaderProtocolVersion},
		{"plain with 2.5", plain, map[string]string{"MS-ASProtocolVersion": "2.5"}, ErrUnsupportedVersion, HeaderProtocolVersion},
		{"version sent twice", plain, map[string]string{"MS-ASProtocolVersion": "14.0", "Ms-Asprotocolversion": "14.1"}, ErrInvalidHeader, "2 times"},
		{"policy key sent twice", plain, map[string]string{"MS-ASProtocolVersion": "14.0", "X-MS-PolicyKey": "1", "X-Ms-Policykey": "2"}, ErrInvalidHeader, HeaderPolicyKey},
		{"multipart sent twice", plain, map[string]string{"MS-ASProtocolVersion": "14.0", "MS-ASAcceptMultiPart": "T", "Ms-Asacceptmultipart": "T"}, ErrInvalidHeader, HeaderAcceptMultiPart},
		{"policy key not a number", plain, map[string]string{"MS-ASProtocolVersion": "14.0", "X-MS-PolicyKey": "abc"}, ErrInvalidHeader, HeaderPolicyKey},
		{"policy key over 32 bits", plain, map[string]string{"MS-ASProtocolVersion": "14.0", "X-MS-PolicyKey": "4294967296"}, ErrInvalidHeader, HeaderPolicyKey},
		{"negative policy key", plain, map[string]string{"MS-ASProtocolVersion": "14.0", "X-MS-PolicyKey": "-1"}, ErrInvalidHeader, HeaderPolicyKey},
		{"empty policy key", plain, map[string]string{"MS-ASProtocolVersion": "14.0", "X-MS-PolicyKey": ""}, ErrInvalidHeader, HeaderPolicyKey},
		{"multipart yes", plain, map[string]string{"MS-ASProtocolVersion": "14.0", "MS-ASAcceptMultiPart": "yes"}, ErrInvalidHeader, HeaderAcceptMultiPart},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ri, err := ParseRequest(newRequest(t, tt.query, tt.headers))
			if err == nil {
				t.Fatalf("ParseRequest succeeded: %v", ri)
			}
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q, want %q mentioning %q", err, tt.err, tt.mention)
			}
		})
	}
	if _, err := ParseRequest(&http.Request{}); err == nil {
		t.Error("ParseRequest of a request without URL succeeded")
	}
}

func TestRequestInfoHidesCredentials(t *testing.T) {
	for _, auth := range []string{"Basic " + secret, secret, "Bearer " + secret, "X " + secret} {
		r := newRequest(t, "Cmd=Ping&User=alice&DeviceId=d1&DeviceType=iPhone",
			map[string]string{"MS-ASProtocolVersion": "16.1", "X-MS-PolicyKey": "42", "Authorization": auth, "User-Agent": "Apple-iPhone/1"})
		ri, err := ParseRequest(r)
		if err != nil {
			t.Fatal(err)
		}
		var logged bytes.Buffer
		slog.New(slog.NewJSONHandler(&logged, nil)).Info("request", "req", ri)
		for name, out := range map[string]string{"String": ri.String(), "slog": logged.String(), "fields": fieldsOf(ri)} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows the credentials: %s", name, out)
			}
		}
		for _, want := range []string{"Ping", "alice", "d1", "iPhone", "16.1", "42"} {
			if !strings.Contains(ri.String(), want) || !strings.Contains(logged.String(), want) {
				t.Errorf("String %q or log %q lacks %q", ri.String(), logged.String(), want)
			}
		}
	}
}

func TestRequestInfoZeroValue(t *testing.T) {
	// A zero RequestInfo, as a handler might log before parsing succeeds.
	var ri RequestInfo
	if got := ri.String(); !strings.Contains(got, "version=Version(0)") {
		t.Errorf("String() = %q", got)
	}
	if got := ri.LogValue().Resolve().String(); !strings.Contains(got, "base64=false") {
		t.Errorf("LogValue() = %q", got)
	}
}

// fieldsOf prints every field, to show that the secret is not merely left
// out by String but absent from the struct.
func fieldsOf(ri *RequestInfo) string {
	return fmt.Sprintf("%#v %#v", *ri, *ri.Query)
}

func TestOptionsHeadersRoundTrip(t *testing.T) {
	tests := []struct {
		name     string
		versions []Version
		commands []Command
	}{
		{"everything", Versions(), Commands()},
		{"limited to 14.1", []Version{V121, V140, V141}, []Command{CmdSync, CmdFolderSync, CmdProvision, CmdPing}},
		{"one of each", []Version{V161}, []Command{CmdFind}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := OptionsHeaders(tt.versions, tt.commands)
			if got := h.Values(HeaderProtocolVersions); len(got) != 1 {
				t.Fatalf("%s = %v", HeaderProtocolVersions, got)
			}
			if got := h.Values("Allow"); !slices.Equal(got, []string{"OPTIONS,POST"}) {
				t.Errorf("Allow = %v", got)
			}
			newest := slices.Max(tt.versions)
			if got := h.Values(HeaderServerActiveSync); !slices.Equal(got, []string{newest.String()}) {
				t.Errorf("%s = %v, want %v", HeaderServerActiveSync, got, newest)
			}
			o, err := ParseOptionsHeaders(h)
			if err != nil {
				t.Fatal(err)
			}
			want := &Options{Versions: tt.versions, Commands: tt.commands, Server: newest.String()}
			if !reflect.DeepEqual(o, want) {
				t.Errorf("ParseOptionsHeaders = %+v, want %+v", o, want)
			}
			// Through a real server and client.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				maps.Copy(w.Header(), h)
			}))
			defer srv.Close()
			req, _ := http.NewRequest(http.MethodOptions, srv.URL+"/Microsoft-Server-ActiveSync", nil)
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if o, err := ParseOptionsHeaders(resp.Header); err != nil || !reflect.DeepEqual(o, want) {
				t.Errorf("over HTTP: %+v, %v", o, err)
			}
		})
	}
}

func TestOptionsHeadersFormat(t *testing.T) {
	h := OptionsHeaders([]Version{V121, V140, 7, V141}, []Command{CmdSync, "Bogus", CmdSendMail})
	if got := h.Values(HeaderProtocolVersions); !slices.Equal(got, []string{"12.1,14.0,14.1"}) {
		t.Errorf("versions = %q", got)
	}
	if got := h.Values(HeaderProtocolCommands); !slices.Equal(got, []string{"Sync,SendMail"}) {
		t.Errorf("commands = %q", got)
	}
	if got := OptionsHeaders(nil, nil).Values(HeaderServerActiveSync); got != nil {
		t.Error("MS-Server-ActiveSync set with no versions")
	}
}

func TestParseOptionsHeadersFromExchange(t *testing.T) {
	// The OPTIONS response example of MS-ASHTTP 4.x (Exchange 2010), header
	// line folds included, which advertises versions and commands this
	// package does not model.
	h := http.Header{
		"Ms-Server-Activesync":  {"14.00.0536.000"},
		"Ms-Asprotocolversions": {"2.0,2.1,2.5,12.0,12.1,14.0"},
		"Ms-Asprotocolcommands": {"Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy, CreateCollection,DeleteCollection,MoveCollection,FolderSync,FolderCreate, FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search, Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert"},
	}
	o, err := ParseOptionsHeaders(h)
	if err != nil {
		t.Fatal(err)
	}
	want := &Options{
		Versions:        []Version{V121, V140},
		UnknownVersions: []string{"2.0", "2.1", "2.5", "12.0"},
		Commands: []Command{CmdSync, CmdSendMail, CmdSmartForward, CmdSmartReply, CmdGetAttachment, CmdFolderSync, CmdFolderCreate,
			CmdFolderDelete, CmdFolderUpdate, CmdMoveItems, CmdGetItemEstimate, CmdMeetingResponse, CmdSearch, CmdSettings, CmdPing,
			CmdItemOperations, CmdProvision, CmdResolveRecipients, CmdValidateCert},
		UnknownCommands: []string{"GetHierarchy", "CreateCollection", "DeleteCollection", "MoveCollection"},
		Server:          "14.00.0536.000",
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("got  %+v\nwant %+v", o, want)
	}
}

func TestParseOptionsHeadersErrors(t *testing.T) {
	tests := []struct {
		name    string
		h       http.Header
		err     error
		mention string
	}{
		{"no versions", http.Header{"Ms-Asprotocolcommands": {"Sync"}}, ErrMissingHeader, HeaderProtocolVersions},
		{"no commands", http.Header{"Ms-Asprotocolversions": {"14.1"}}, ErrMissingHeader, HeaderProtocolCommands},
		{"too many entries", http.Header{"Ms-Asprotocolversions": {"14.1"},
			"Ms-Asprotocolcommands": {strings.Repeat("Sync,", maxOptionsEntries+1)}}, ErrInvalidHeader, "entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := ParseOptionsHeaders(tt.h)
			if !errors.Is(err, tt.err) || !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("ParseOptionsHeaders = %+v, %v; want %v mentioning %q", o, err, tt.err, tt.mention)
			}
		})
	}
	// Lists may be split over header lines and padded with blanks.
	o, err := ParseOptionsHeaders(http.Header{
		"Ms-Asprotocolversions": {"14.0, ", " ,16.1"},
		"Ms-Asprotocolcommands": {"Sync", ",,Ping"},
	})
	if err != nil || !slices.Equal(o.Versions, []Version{V140, V161}) || !slices.Equal(o.Commands, []Command{CmdSync, CmdPing}) {
		t.Errorf("multi-line lists = %+v, %v", o, err)
	}
}

// FuzzParseRequest checks that ParseRequest never panics, that what it
// accepts is consistent with its query, and that no credential reaches
// String or LogValue.
func FuzzParseRequest(f *testing.F) {
	const plain = "Cmd=Sync&User=u&DeviceId=d1&DeviceType=t"
	f.Add(plain, "14.1", "3942919513", "T", "Basic")
	f.Add(specBase64Example, "12.1", "x", "F", "Bearer")
	f.Add(plain, "", "", "", "")
	f.Add(plain, "2.5", "-1", "yes", "NTLM")
	f.Fuzz(func(t *testing.T, rawQuery, version, policyKey, multipart, scheme string) {
		const cred = "zz-credential-zz"
		r := &http.Request{Method: http.MethodPost, URL: &url.URL{RawQuery: rawQuery}, Header: http.Header{}}
		for name, v := range map[string]string{HeaderProtocolVersion: version, HeaderPolicyKey: policyKey, HeaderAcceptMultiPart: multipart} {
			if v != "" {
				r.Header.Set(name, v)
			}
		}
		r.Header.Set("Authorization", scheme+" "+cred)
		ri, err := ParseRequest(r)
		if err != nil {
			if ri != nil {
				t.Fatalf("ParseRequest returned %+v with error %v", ri, err)
			}
			return
		}
		q := ri.Query
		if !ri.Version.Valid() || !ri.HasAuthorization {
			t.Fatalf("accepted request with version %v, auth %v", ri.Version, ri.HasAuthorization)
		}
		if q.Base64 && (ri.Version != q.Version || ri.PolicyKey != q.PolicyKey || ri.HasPolicyKey != q.HasPolicyKey || ri.AcceptMultiPart != q.AcceptMultiPart) {
			t.Fatalf("base64 query values lost: %+v vs %+v", ri, q)
		}
		if !q.Base64 && ri.Version.String() != strings.TrimSpace(version) {
			t.Fatalf("version %v from header %q", ri.Version, version)
		}
		if strings.Contains(rawQuery, cred) || strings.Contains(scheme, cred) {
			return // the fuzzer put the marker where it may legitimately show
		}
		var logged bytes.Buffer
		slog.New(slog.NewTextHandler(&logged, nil)).Info("r", "req", ri)
		if strings.Contains(ri.String(), cred) || strings.Contains(logged.String(), cred) || strings.Contains(fieldsOf(ri), cred) {
			t.Fatalf("credential shown: %s / %s", ri.String(), logged.String())
		}
	})
}

func ExampleOptionsHeaders() {
	// A gateway that limits devices to 14.1 rewrites the upstream's list.
	upstream := OptionsHeaders(Versions(), []Command{CmdSync, CmdFolderSync, CmdProvision})
	o, err := ParseOptionsHeaders(upstream)
	if err != nil {
		fmt.Println(err)
		return
	}
	var keep []Version
	for _, v := range o.Versions {
		if v <= V141 {
			keep = append(keep, v)
		}
	}
	h := OptionsHeaders(keep, o.Commands)
	fmt.Println(h.Get(HeaderProtocolVersions))
	fmt.Println(h.Get(HeaderProtocolCommands))
	fmt.Println(h.Get(HeaderServerActiveSync))
	// Output:
	// 12.1,14.0,14.1
	// Sync,FolderSync,Provision
	// 14.1
}

// FuzzHeaderLookup checks the lookup that skips the fold scan when every
// key is canonical against the plain definition: the canonical key's
// values, the name's own, and, when neither exists, those of every key
// equal to the name but for case.
func FuzzHeaderLookup(f *testing.F) {
	f.Add("Ms-Asprotocolversion", "MS-ASProtocolVersion", "ms-asprotocolversion", HeaderProtocolVersion)
	f.Add("X-Ms-Policykey", "User-Agent", "Authorization", HeaderPolicyKey)
	f.Add("x-ms-policykey", "X-MS-POLICYKEY", "Other", HeaderPolicyKey)
	f.Fuzz(func(t *testing.T, k1, k2, k3, name string) {
		if !isToken(name) {
			return // callers look up fixed, valid header names
		}
		h := http.Header{}
		for i, k := range []string{k1, k2, k3} {
			h[k] = append(h[k], fmt.Sprint(i))
		}
		got := slices.Sorted(slices.Values(headerValues(h, name)))
		want := slices.Sorted(slices.Values(foldedValues(h, name)))
		if !slices.Equal(got, want) {
			t.Fatalf("keys %q, %q, %q: values(%q) = %q, want %q", k1, k2, k3, name, got, want)
		}
	})
}

func foldedValues(h http.Header, name string) []string {
	canonical := http.CanonicalHeaderKey(name)
	vals := slices.Clone(h[canonical])
	if name != canonical {
		vals = append(vals, h[name]...)
	}
	if vals != nil {
		return vals
	}
	for k, v := range h {
		if k != canonical && k != name && asciiLower(k) == asciiLower(name) {
			vals = append(vals, v...)
		}
	}
	return vals
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
