package wbxml

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// syncResponse64K builds a Sync response of about 64 KiB: 40 e-mails with
// headers and 1.4 KiB MIME-ish bodies, as Exchange sends a full window.
func syncResponse64K() *Node {
	t := MustTag
	body := bytes.Repeat([]byte("Lorem ipsum dolor sit amet, consectetur adipiscing elit. "), 25)
	var adds []*Node
	for i := 0; i < 40; i++ {
		adds = append(adds, NewElement(t("AirSync:Add"),
			NewText(t("AirSync:ServerId"), fmt.Sprintf("5:%d", i)),
			NewElement(t("AirSync:ApplicationData"),
				NewText(t("Email:To"), `"Alice" <alice@example.com>`),
				NewText(t("Email:From"), `"Bob" <bob@example.com>`),
				NewText(t("Email:Subject"), fmt.Sprintf("Quarterly report %d", i)),
				NewText(t("Email:DateReceived"), "2026-11-23T10:00:00.000Z"),
				NewText(t("Email:Read"), "0"),
				NewElement(t("AirSyncBase:Body"),
					NewText(t("AirSyncBase:Type"), "1"),
					NewText(t("AirSyncBase:EstimatedDataSize"), fmt.Sprint(len(body))),
					NewText(t("AirSyncBase:Data"), string(body))),
				NewElement(t("AirSyncBase:Attachments"), NewElement(t("AirSyncBase:Attachment"),
					NewText(t("AirSyncBase:DisplayName"), "report.pdf"),
					NewText(t("AirSyncBase:FileReference"), fmt.Sprintf("5%%3a%d%%3a0", i)),
					NewText(t("AirSyncBase:Method"), "1"))),
				NewOpaque(t("Email2:ConversationId"), bytes.Repeat([]byte{byte(i)}, 16)),
			)))
	}
	return NewElement(t("AirSync:Sync"), NewElement(t("AirSync:Collections"), NewElement(t("AirSync:Collection"),
		NewText(t("AirSync:SyncKey"), "1234567890"),
		NewText(t("AirSync:CollectionId"), "5"),
		NewText(t("AirSync:Status"), "1"),
		NewElement(t("AirSync:Commands"), adds...))))
}

// itemOperations5M is an ItemOperations Fetch response carrying a 5 MiB
// attachment as opaque data.
func itemOperations5M() *Node {
	t := MustTag
	payload := bytes.Repeat([]byte{0x25, 0x50, 0x44, 0x46, 0x00, 0xFF, 0x10, 0x7F}, 5<<20/8)
	return NewElement(t("ItemOperations:ItemOperations"),
		NewText(t("ItemOperations:Status"), "1"),
		NewElement(t("ItemOperations:Response"), NewElement(t("ItemOperations:Fetch"),
			NewText(t("ItemOperations:Status"), "1"),
			NewText(t("AirSyncBase:FileReference"), "5%3a1%3a0"),
			NewElement(t("ItemOperations:Properties"),
				NewText(t("AirSyncBase:ContentType"), "application/pdf"),
				NewOpaque(t("ItemOperations:Data"), payload)))))
}

func benchmarkCases(b *testing.B) map[string][]byte {
	out := map[string][]byte{}
	for name, n := range map[string]*Node{"Sync64K": syncResponse64K(), "ItemOperations5M": itemOperations5M()} {
		data, err := Marshal(n)
		if err != nil {
			b.Fatal(err)
		}
		out[name] = data
	}
	return out
}

func BenchmarkParse(b *testing.B) {
	for _, name := range []string{"Sync64K", "ItemOperations5M"} {
		data := benchmarkCases(b)[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(data, Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkTokens(b *testing.B) {
	for _, name := range []string{"Sync64K", "ItemOperations5M"} {
		data := benchmarkCases(b)[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				d, err := NewDecoder(data, Limits{})
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, err := d.Token(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

func BenchmarkMarshal(b *testing.B) {
	for name, n := range map[string]*Node{"Sync64K": syncResponse64K(), "ItemOperations5M": itemOperations5M()} {
		data, _ := Marshal(n)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Marshal(n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestBenchmarkInputsAreRealistic(t *testing.T) {
	s, _ := Marshal(syncResponse64K())
	if len(s) < 60<<10 || len(s) > 70<<10 {
		t.Errorf("Sync response is %d bytes, want about 64 KiB", len(s))
	}
	io5, _ := Marshal(itemOperations5M())
	if len(io5) < 5<<20 {
		t.Errorf("ItemOperations response is %d bytes, want at least 5 MiB", len(io5))
	}
}

// BenchmarkReadDocument includes reading the body from a reader, as a
// gateway does: the one copy the decoder is allowed.
func BenchmarkReadDocument(b *testing.B) {
	for _, name := range []string{"Sync64K", "ItemOperations5M"} {
		data := benchmarkCases(b)[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ReadDocument(bytes.NewReader(data), int64(len(data)), Limits{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
