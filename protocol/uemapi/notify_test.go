package uemapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func signedRequest(secret []byte, ts int64, body []byte) *http.Request {
	r := httptest.NewRequest("POST", "/uem/v1/notifications", bytes.NewReader(body))
	r.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(HeaderSignature, Sign(secret, ts, body))
	return r
}

func TestVerifyNotification(t *testing.T) {
	secret := []byte("s3cret-s3cret-s3cret")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"n-1","type":"purge","gateway_id":"gw1","time":"2027-01-15T08:00:00Z","purge":{"eas_device_id":"E1","user":"u","association_id":"a1"}}`)
	cases := []struct {
		name string
		req  func() *http.Request
		want error
	}{
		{"valid", func() *http.Request { return signedRequest(secret, now.Unix(), body) }, nil},
		{"wrong secret", func() *http.Request { return signedRequest([]byte("other"), now.Unix(), body) }, ErrBadSignature},
		{"tampered body", func() *http.Request {
			r := signedRequest(secret, now.Unix(), body)
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte("E1"), []byte("E2"), 1)))
			return r
		}, ErrBadSignature},
		{"stale", func() *http.Request { return signedRequest(secret, now.Add(-6*time.Minute).Unix(), body) }, ErrStale},
		{"future", func() *http.Request { return signedRequest(secret, now.Add(6*time.Minute).Unix(), body) }, ErrStale},
		{"no timestamp", func() *http.Request {
			r := signedRequest(secret, now.Unix(), body)
			r.Header.Del(HeaderTimestamp)
			return r
		}, ErrStale},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := VerifyNotification(c.req(), secret, now, 0)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if c.want == nil && (n.Type != NotifyPurge || n.Purge == nil || n.Purge.EASDeviceID != "E1") {
				t.Fatalf("decoded %+v", n)
			}
		})
	}
	t.Run("body too large", func(t *testing.T) {
		big := bytes.Repeat([]byte("x"), MaxNotificationBody+1)
		_, err := VerifyNotification(signedRequest(secret, now.Unix(), big), secret, now, 0)
		if !IsCode(err, CodeBodyTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
}

// readGuard fails the test if the body is read: the headers alone must
// refuse the request.
type readGuard struct{ t *testing.T }

func (g readGuard) Read([]byte) (int, error) {
	g.t.Error("the body was read before the signature headers were checked")
	return 0, io.EOF
}

// Issue 18: no secret, no notifications; headers are checked before the
// body is read; the body is bounded; the JSON is strict.
func TestVerifyNotificationRefusesBeforeReading(t *testing.T) {
	secret := []byte("s3cret-s3cret-s3cret")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":"n-1","type":"purge","gateway_id":"gw1","time":"2027-01-15T08:00:00Z","purge":{"eas_device_id":"E1","user":"u","association_id":"a1"}}`)
	for _, key := range [][]byte{nil, {}, []byte("short-secret")} {
		// An empty key verifies a signature anyone can compute.
		r := signedRequest(key, now.Unix(), body)
		if _, err := VerifyNotification(r, key, now, 0); !errors.Is(err, ErrNoSecret) {
			t.Errorf("secret %q: err = %v, want ErrNoSecret", key, err)
		}
	}
	guarded := func(ts string, sig string, length int64) *http.Request {
		r := httptest.NewRequest("POST", "/uem/v1/notifications", io.NopCloser(readGuard{t}))
		r.ContentLength = length
		if ts != "" {
			r.Header.Set(HeaderTimestamp, ts)
		}
		if sig != "" {
			r.Header.Set(HeaderSignature, sig)
		}
		return r
	}
	good := Sign(secret, now.Unix(), body)
	tsNow := strconv.FormatInt(now.Unix(), 10)
	for name, c := range map[string]struct {
		r    *http.Request
		want func(error) bool
	}{
		"no timestamp":        {guarded("", good, 100), func(err error) bool { return errors.Is(err, ErrStale) }},
		"stale":               {guarded(strconv.FormatInt(now.Add(-time.Hour).Unix(), 10), good, 100), func(err error) bool { return errors.Is(err, ErrStale) }},
		"no signature":        {guarded(tsNow, "", 100), func(err error) bool { return errors.Is(err, ErrBadSignature) }},
		"signature not v1":    {guarded(tsNow, "v2="+good[3:], 100), func(err error) bool { return errors.Is(err, ErrBadSignature) }},
		"signature not hex":   {guarded(tsNow, "v1="+strings.Repeat("zz", 32), 100), func(err error) bool { return errors.Is(err, ErrBadSignature) }},
		"signature truncated": {guarded(tsNow, good[:40], 100), func(err error) bool { return errors.Is(err, ErrBadSignature) }},
		"declared too large":  {guarded(tsNow, good, MaxNotificationBody+1), func(err error) bool { return IsCode(err, CodeBodyTooLarge) }},
	} {
		if _, err := VerifyNotification(c.r, secret, now, 0); !c.want(err) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	strict := map[string]struct {
		body  string
		field string
	}{
		"unknown top-level field": {`{"id":"n-2","type":"purge","purge":{"eas_device_id":"E1","user":"u"},"devcie":{}}`, "devcie"},
		"unknown nested field":    {`{"id":"n-3","type":"device.state","device":{"eas_device_id":"E1","user":"u","stat":"allowed"}}`, "stat"},
		"id too long":             {`{"id":"` + strings.Repeat("x", MaxNotificationID+1) + `","type":"purge"}`, "id"},
	}
	for name, c := range strict {
		_, err := VerifyNotification(signedRequest(secret, now.Unix(), []byte(c.body)), secret, now, 0)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalidField || !strings.Contains(e.Field, c.field) {
			t.Errorf("%s: err = %v, want invalid_field %q", name, err, c.field)
		}
	}
	if _, err := VerifyNotification(signedRequest(secret, now.Unix(), append(append([]byte(nil), body...), body...)), secret, now, 0); !IsCode(err, CodeInvalidJSON) {
		t.Errorf("two JSON values: err = %v", err)
	}
	r := signedRequest(secret, now.Unix(), body)
	r.Header.Set(HeaderDelivery, "n-other")
	if _, err := VerifyNotification(r, secret, now, 0); !IsCode(err, CodeInvalidField) {
		t.Errorf("delivery header naming another id: err = %v", err)
	}
}
