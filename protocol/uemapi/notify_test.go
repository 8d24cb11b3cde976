package uemapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
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
