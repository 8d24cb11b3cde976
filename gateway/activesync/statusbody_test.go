package activesync

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/iotest"
)

// TestReadStatusBodyMatchesReadAll: the pooled read gives what
// io.ReadAll(io.LimitReader(r, maxStatusBody)) gave, bytes and error,
// whatever the reader does.
func TestReadStatusBodyMatchesReadAll(t *testing.T) {
	boom := errors.New("boom")
	for name, mk := range map[string]func() io.Reader{
		"empty":         func() io.Reader { return bytes.NewReader(nil) },
		"small":         func() io.Reader { return bytes.NewReader([]byte("folder sync")) },
		"byte by byte":  func() io.Reader { return iotest.OneByteReader(bytes.NewReader(bytes.Repeat([]byte("ab"), 700))) },
		"exactly limit": func() io.Reader { return bytes.NewReader(bytes.Repeat([]byte{7}, maxStatusBody)) },
		"over limit":    func() io.Reader { return bytes.NewReader(bytes.Repeat([]byte{7}, maxStatusBody+5)) },
		"data and EOF":  func() io.Reader { return iotest.DataErrReader(bytes.NewReader([]byte("xyz"))) },
		"error midway":  func() io.Reader { return io.MultiReader(bytes.NewReader([]byte("part")), iotest.ErrReader(boom)) },
		"timeout":       func() io.Reader { return iotest.TimeoutReader(bytes.NewReader(bytes.Repeat([]byte{1}, 300))) },
	} {
		want, wantErr := io.ReadAll(io.LimitReader(mk(), maxStatusBody))
		buf, got, err := readStatusBody(mk())
		if !bytes.Equal(got, want) || !errors.Is(err, wantErr) || (err == nil) != (wantErr == nil) {
			t.Errorf("%s: %d bytes, %v; io.ReadAll: %d bytes, %v", name, len(got), err, len(want), wantErr)
		}
		if (buf == nil) != (err != nil) {
			t.Errorf("%s: buffer %v with error %v", name, buf != nil, err)
		}
	}
}

// TestStatusBodyClose: the relayed body reads the answer, sets
// Content-Length, and once closed reads nothing, however often it is
// closed, so that its buffer can serve the next answer.
func TestStatusBodyClose(t *testing.T) {
	buf, b, err := readStatusBody(bytes.NewReader([]byte("status answer")))
	if err != nil {
		t.Fatal(err)
	}
	resp := &http.Response{Header: http.Header{"Content-Length": {"99"}}}
	setStatusBody(resp, buf, b)
	if resp.ContentLength != 13 || resp.Header.Get("Content-Length") != "13" {
		t.Errorf("Content-Length %d, header %q, want 13", resp.ContentLength, resp.Header.Get("Content-Length"))
	}
	var out bytes.Buffer
	if _, err := io.Copy(&out, resp.Body); err != nil || out.String() != "status answer" {
		t.Errorf("body %q, %v", out.String(), err)
	}
	resp.Body.Close()
	resp.Body.Close()
	if n, err := resp.Body.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Errorf("read after Close: %d, %v; want 0, EOF", n, err)
	}
}
