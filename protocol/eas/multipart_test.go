package eas

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

func TestMultipartBuildParse(t *testing.T) {
	wb := corpusWBXML(t)["30-itemoperations-response-multipart"]
	pdf := []byte("%PDF-1.4\x00\xff binary attachment")
	mime := []byte("From: a@contoso.com\r\n\r\nbody\r\n")
	body, err := BuildMultipart([][]byte{wb, pdf, mime, {}})
	if err != nil {
		t.Fatal(err)
	}
	// Header: count 4, then (offset, length) pairs; the first part starts
	// right after the 4+4*8 = 36-byte header.
	if got := binary.LittleEndian.Uint32(body); got != 4 {
		t.Fatalf("part count %d", got)
	}
	if off, n := binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint32(body[8:]); off != 36 || int(n) != len(wb) {
		t.Fatalf("part 0 at %d+%d, want 36+%d", off, n, len(wb))
	}
	parts, err := ParseMultipart(body, MultipartLimits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][]byte{wb, pdf, mime, {}} {
		if !bytes.Equal(parts[i], want) {
			t.Errorf("part %d = %q, want %q", i, parts[i], want)
		}
	}
	// Part 0 is the WBXML response that points at the others.
	msg, err := Decode(parts[0], wbxml.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	r := msg.(*ItemOperationsResponse)
	if p := r.Response.Fetch[0].Properties.Part; p != 1 || !bytes.Equal(parts[p], pdf) {
		t.Errorf("Fetch 0 Part = %d", p)
	}
	if p := r.Response.Fetch[1].Properties.Unknown; len(p) != 1 {
		t.Errorf("Fetch 1 properties: %d elements, want the Body", len(p))
	}
}

func le(vals ...int32) []byte {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
	}
	return b
}

func TestMultipartErrorsNameTheProblem(t *testing.T) {
	for _, tc := range []struct {
		name string
		body []byte
		lim  MultipartLimits
		want string
	}{
		{"short", []byte{1, 0}, MultipartLimits{}, "too short for the part count"},
		{"zero parts", le(0), MultipartLimits{}, "part count 0 is not positive"},
		{"negative count", le(-5), MultipartLimits{}, "part count -5 is not positive"},
		{"over MaxParts", le(100), MultipartLimits{MaxParts: 10}, "part count 100 exceeds the limit of 10"},
		{"header past end", le(3, 28, 0), MultipartLimits{}, "part count 3 needs a 28-byte header, body has 12 bytes"},
		{"offset in header", append(le(1, 4, 1), 'x'), MultipartLimits{}, "part 0: offset 4 lies inside the 12-byte header"},
		{"negative length", append(le(1, 12, -1), 'x'), MultipartLimits{}, "part 0: negative offset 12 or length -1"},
		{"past end", append(le(2, 20, 1, 20, 9), 'x', 'y'), MultipartLimits{}, "part 1: offset 20 + length 9 runs past the end of the 22-byte body"},
		{"over MaxSize", make([]byte, 100), MultipartLimits{MaxSize: 64}, "body of 100 bytes exceeds the limit of 64"},
	} {
		_, err := ParseMultipart(tc.body, tc.lim)
		if !errors.Is(err, ErrMultipart) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want ErrMultipart saying %q", tc.name, err, tc.want)
		}
	}
}

// A forged part count is rejected from the header size before the parts
// slice (24 GiB here) is allocated: only the error message is.
func TestMultipartHugeCountDoesNotAllocate(t *testing.T) {
	body := le(1<<30, 0)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < 10; i++ {
		if _, err := ParseMultipart(body, MultipartLimits{MaxParts: 1<<31 - 1}); err == nil {
			t.Fatal("accepted a count larger than the body")
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Errorf("%d bytes allocated rejecting a forged count ten times", d)
	}
}

func TestBuildMultipartNeedsAPart(t *testing.T) {
	if _, err := BuildMultipart(nil); !errors.Is(err, ErrMultipart) {
		t.Fatalf("err = %v", err)
	}
}
