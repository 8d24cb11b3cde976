package eas

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// MultipartContentType is the Content-Type of a multipart response, which a
// client asks for with MS-ASAcceptMultiPart: T (or the AcceptMultiPart
// query parameter) on ItemOperations.
const MultipartContentType = "application/vnd.ms-sync.multipart"

// The multipart body (MS-ASCMD 2.2.2.9.1) is:
//
//	PartCount int32 little-endian
//	PartCount × (Offset int32, Length int32) little-endian, offsets from
//	the start of the body
//	the parts
//
// Part 0 is the WBXML ItemOperations response; FetchProperties.Part and
// Body.Part index the others.

// MultipartLimits bound what ParseMultipart accepts.
type MultipartLimits struct {
	MaxParts int // 0 means DefaultMultipartLimits.MaxParts
	MaxSize  int // bytes of body; 0 means DefaultMultipartLimits.MaxSize
}

// DefaultMultipartLimits allow far more parts than any real response has.
var DefaultMultipartLimits = MultipartLimits{MaxParts: 4096, MaxSize: 256 << 20}

// ErrMultipart is wrapped by every error ParseMultipart returns.
var ErrMultipart = errors.New("eas: multipart")

func multipartErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMultipart, fmt.Sprintf(format, args...))
}

// ParseMultipart splits a multipart response body into its parts. The parts
// alias data. Every count, offset and length is checked against the limits
// and the body's size before anything is allocated; parts may not overlap
// the header but may share bytes with each other, as the format allows.
func ParseMultipart(data []byte, lim MultipartLimits) ([][]byte, error) {
	if lim.MaxParts <= 0 {
		lim.MaxParts = DefaultMultipartLimits.MaxParts
	}
	if lim.MaxSize <= 0 {
		lim.MaxSize = DefaultMultipartLimits.MaxSize
	}
	if len(data) > lim.MaxSize {
		return nil, multipartErr("body of %d bytes exceeds the limit of %d", len(data), lim.MaxSize)
	}
	if len(data) < 4 {
		return nil, multipartErr("body of %d bytes is too short for the part count", len(data))
	}
	count := int32(binary.LittleEndian.Uint32(data))
	switch {
	case count < 1:
		return nil, multipartErr("part count %d is not positive", count)
	case int64(count) > int64(lim.MaxParts):
		return nil, multipartErr("part count %d exceeds the limit of %d", count, lim.MaxParts)
	}
	header := 4 + 8*int64(count)
	if header > int64(len(data)) {
		return nil, multipartErr("part count %d needs a %d-byte header, body has %d bytes", count, header, len(data))
	}
	parts := make([][]byte, count)
	for i := range parts {
		p := data[4+8*i:]
		off := int32(binary.LittleEndian.Uint32(p))
		n := int32(binary.LittleEndian.Uint32(p[4:]))
		switch {
		case off < 0 || n < 0:
			return nil, multipartErr("part %d: negative offset %d or length %d", i, off, n)
		case int64(off) < header:
			return nil, multipartErr("part %d: offset %d lies inside the %d-byte header", i, off, header)
		case int64(off)+int64(n) > int64(len(data)):
			return nil, multipartErr("part %d: offset %d + length %d runs past the end of the %d-byte body", i, off, n, len(data))
		}
		parts[i] = data[off : off+n : off+n]
	}
	return parts, nil
}

// BuildMultipart lays parts out one after another behind the header. parts[0]
// should be the WBXML response.
func BuildMultipart(parts [][]byte) ([]byte, error) {
	if len(parts) == 0 {
		return nil, multipartErr("no parts")
	}
	total := 4 + 8*int64(len(parts))
	for _, p := range parts {
		total += int64(len(p))
	}
	if total > math.MaxInt32 {
		return nil, multipartErr("body of %d bytes does not fit 32-bit offsets", total)
	}
	out := make([]byte, 4+8*len(parts), total)
	binary.LittleEndian.PutUint32(out, uint32(len(parts)))
	off := len(out)
	for i, p := range parts {
		binary.LittleEndian.PutUint32(out[4+8*i:], uint32(off))
		binary.LittleEndian.PutUint32(out[8+8*i:], uint32(len(p)))
		off += len(p)
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, nil
}
