package activesync

import (
	"slices"
	"strconv"
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/wbxml"
)

// bodyStatusesTree is the tree-based bodyStatuses the streaming scan
// replaced, kept as the fuzz test's oracle: the top-level Status of an
// answer and those of its Sync collections.
func bodyStatusesTree(b []byte) []int {
	d, err := wbxml.Parse(b, wbxml.Limits{MaxSize: len(b)})
	if err != nil || d.Root == nil {
		return nil
	}
	var out []int
	add := func(n *wbxml.Node) {
		for _, c := range n.Children {
			if c.Tag.Name() == "Status" {
				if v, err := strconv.Atoi(c.Text()); err == nil {
					out = append(out, v)
				}
			}
		}
	}
	add(d.Root)
	for _, c := range d.Root.Children {
		if c.Tag.Name() == "Collections" {
			for _, col := range c.Children {
				add(col)
			}
		}
	}
	return out
}

// Raw WBXML for the seeds, written token by token so that they can be
// what an encoder would not write: split strings, mixed content,
// unbalanced ends.
func wbDoc(parts ...[]byte) []byte {
	return slices.Concat(append([][]byte{{3, 1, 0x6A, 0}}, parts...)...)
}

// wbOpen opens the element "Page:Name" with content, after a page switch.
func wbOpen(name string) []byte {
	t := wbxml.MustTag(name)
	return []byte{0x00, t.Page, t.Token | 0x40}
}

// wbEmpty is the element "Page:Name" without content.
func wbEmpty(name string) []byte {
	t := wbxml.MustTag(name)
	return []byte{0x00, t.Page, t.Token}
}

func wbStr(s string) []byte { return slices.Concat([]byte{0x03}, []byte(s), []byte{0}) }
func wbOpaque(s string) []byte {
	return slices.Concat([]byte{0xC3, byte(len(s))}, []byte(s))
}

var wbEnd = []byte{0x01}

// wbStatus is a Status element holding text.
func wbStatus(page, s string) []byte {
	return slices.Concat(wbOpen(page+":Status"), wbStr(s), wbEnd)
}

// bodyStatusSeeds are the synthetic seeds; testdata/fuzz/FuzzBodyStatuses
// holds answers of the fake Exchange (FolderSync full and with a bad key,
// Sync initial, with mail, with a bad key, with two collections, Ping
// with changes and without folders), truncated ones and one with a byte
// after the root.
func bodyStatusSeeds() [][]byte {
	sync, cols, col := wbOpen("AirSync:Sync"), wbOpen("AirSync:Collections"), wbOpen("AirSync:Collection")
	return [][]byte{
		// Two collections, one error; the top-level Status comes after
		// Collections in the document and first in the answer.
		wbDoc(sync, cols, col, wbStatus("AirSync", "1"), wbEnd, col, wbStatus("AirSync", "8"), wbEnd, wbEnd,
			wbStatus("AirSync", "12"), wbEnd),
		// A status in two strings ("1" "3" is 13), in opaque data, empty,
		// signed, with leading zeros, too large, not a number.
		wbDoc(sync, wbOpen("AirSync:Status"), wbStr("1"), wbStr("3"), wbEnd, wbEnd),
		wbDoc(sync, wbOpen("AirSync:Status"), wbStr(""), wbStr("7"), wbStr(""), wbEnd, wbEnd),
		wbDoc(wbOpen("Ping:Ping"), wbOpen("Ping:Status"), wbOpaque("2"), wbEnd, wbEnd),
		wbDoc(wbOpen("Ping:Ping"), wbOpen("Ping:Status"), wbOpaque("2"), wbOpaque("1"), wbEnd, wbEnd),
		wbDoc(sync, wbEmpty("AirSync:Status"), wbStatus("AirSync", "+4"), wbStatus("AirSync", "-1"),
			wbStatus("AirSync", "0007"), wbStatus("AirSync", "99999999999999999999"), wbStatus("AirSync", " 1"), wbEnd),
		wbDoc(sync, wbOpen("AirSync:Status"), wbStr("123456789012345678901234567890"), wbStr("1"), wbEnd, wbEnd),
		// Text mixed with opaque data, and content mixed with elements.
		wbDoc(sync, wbOpen("AirSync:Status"), wbStr("1"), wbOpaque("2"), wbEnd, wbEnd),
		wbDoc(sync, wbOpen("AirSync:Status"), wbStr("3"), wbEmpty("AirSync:SyncKey"), wbEnd, wbEnd),
		wbDoc(sync, wbOpen("AirSync:Status"), wbEmpty("AirSync:SyncKey"), wbStr("3"), wbEnd, wbEnd),
		wbDoc(sync, wbStr("x"), wbStatus("AirSync", "3"), wbEnd),
		// Status elements where they do not count: nested in another
		// top-level element, deeper in a collection, or the root itself.
		wbDoc(sync, wbOpen("AirSync:Responses"), wbStatus("AirSync", "5"), wbEnd, wbEnd),
		wbDoc(sync, cols, col, wbOpen("AirSync:Commands"), wbStatus("AirSync", "6"), wbEnd, wbEnd, wbEnd, wbEnd),
		wbDoc(wbOpen("AirSync:Status"), wbStr("4"), wbEnd),
		wbDoc(wbEmpty("AirSync:Sync")),
		// Collections and Status of other code pages count by name, as
		// wbxml.Tag.Name compares them.
		wbDoc(wbOpen("GetItemEstimate:GetItemEstimate"), wbOpen("GetItemEstimate:Collections"),
			wbOpen("GetItemEstimate:Collection"), wbStatus("Email", "2"), wbStatus("GetItemEstimate", "3"), wbEnd, wbEnd, wbEnd),
		// A status in the string table.
		{3, 1, 0x6A, 3, 'x', '9', 0, 0x45, 0x4E, 0x83, 1, 0x01, 0x01},
		// Unbalanced ends, an unknown page, attributes, a page switch at
		// the end.
		wbDoc(sync, wbStatus("AirSync", "3"), wbEnd, wbEnd),
		wbDoc(sync, wbStatus("AirSync", "3")),
		wbDoc(sync, []byte{0x00, 0xFE, 0x4E}, wbStr("3"), wbEnd, wbEnd),
		wbDoc(sync, []byte{0xCE}, wbEnd),
		wbDoc(sync, wbStatus("AirSync", "3"), wbEnd, []byte{0x00, 0x01}),
		// Deeper than the scanner's first buffers and than the decoder's
		// limit.
		wbDoc(sync, cols, col, wbStatus("AirSync", "9"), slices.Repeat(wbOpen("AirSync:Add"), 40),
			slices.Repeat(wbEnd, 40), wbEnd, wbEnd, wbEnd),
		wbDoc(slices.Repeat(wbOpen("AirSync:Add"), 70), slices.Repeat(wbEnd, 70)),
		// More collection statuses than the scanner's first buffer.
		wbDoc(sync, cols, slices.Repeat(slices.Concat(col, wbStatus("AirSync", "3"), wbEnd), 20), wbEnd, wbEnd),
		{}, {3}, {3, 1, 0x6A},
		// A Status as deep as a collection's, in another top-level element.
		wbDoc(sync, wbOpen("AirSync:Responses"), wbOpen("AirSync:Add"), wbStatus("AirSync", "6"), wbEnd, wbEnd, wbEnd),
	}
}

// FuzzBodyStatuses holds the streaming bodyStatuses to the tree-based
// one it replaced: the same statuses in the same order for every input.
// The seeds run with the package's tests; to search further:
//
//	go test -run '^$' -fuzz FuzzBodyStatuses -fuzztime 60s ./gateway/activesync/
func FuzzBodyStatuses(f *testing.F) {
	for _, s := range bodyStatusSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := bodyStatusesTree(b)
		got := bodyStatuses(b, nil)
		if !slices.Equal(got, want) {
			t.Fatalf("bodyStatuses = %v, the tree-based one %v", got, want)
		}
		// With room given, and with something already in it, the same.
		var buf [2]int
		if got := bodyStatuses(b, append(buf[:0], -7)); !slices.Equal(got, append([]int{-7}, want...)) {
			t.Fatalf("bodyStatuses after -7 = %v, want -7 and %v", got, want)
		}
	})
}

// TestBodyStatusesSeeds checks what the seeds hold, so that the fuzz
// test's oracle is not only compared with itself.
func TestBodyStatusesSeeds(t *testing.T) {
	seeds := bodyStatusSeeds()
	for i, want := range map[int][]int{0: {12, 1, 8}, 1: {13}, 2: {7}, 3: {2}, 4: {21}, 5: {4, -1, 7}, 6: nil, 7: nil,
		8: nil, 9: nil, 10: nil, 11: nil, 12: nil, 13: nil, 14: nil, 15: {2, 3}, 16: {9}, 17: nil, 19: nil, 22: {9}, 23: nil,
		24: slices.Repeat([]int{3}, 20), 28: nil} {
		if got := bodyStatuses(seeds[i], nil); !slices.Equal(got, want) {
			t.Errorf("seed %d: bodyStatuses = %v, want %v", i, got, want)
		}
	}
	for name, want := range map[string][]int{"exchange-foldersync-full": {1}, "exchange-foldersync-badkey": {9},
		"exchange-sync-two": {1, 3}, "exchange-ping-changes": {2}, "truncated-sync-two": nil} {
		if got := bodyStatuses(fuzzSeed(t, name), nil); !slices.Equal(got, want) {
			t.Errorf("%s: bodyStatuses = %v, want %v", name, got, want)
		}
	}
}

// BenchmarkBodyStatuses compares the streaming scan with the tree it
// replaced on the fake Exchange's FolderSync answer (290 bytes) and a Sync
// with two mails (1,666 bytes); cpu-ns/op is the process's CPU a call,
// which the other work on a shared machine does not inflate:
//
//	go test -run '^$' -bench BodyStatuses ./gateway/activesync/
func BenchmarkBodyStatuses(b *testing.B) {
	for _, name := range []string{"exchange-foldersync-full", "exchange-sync-items"} {
		doc := fuzzSeed(b, name)
		b.Run(name+"/tree", func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				bodyStatusesTree(doc)
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
		b.Run(name+"/stream", func(b *testing.B) {
			b.ReportAllocs()
			var buf [8]int
			cpu0 := processCPU()
			for b.Loop() {
				bodyStatuses(doc, buf[:0])
			}
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}
