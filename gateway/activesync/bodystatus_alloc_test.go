//go:build !race

// The race detector makes sync.Pool drop objects at random, so the
// allocation count holds only without it.

package activesync

import "testing"

// TestBodyStatusesAllocationFree: reading the statuses of a FolderSync
// or Sync answer allocates nothing once the scanner pool is warm (the
// tree it replaced cost 15 allocations and 2.8 KB on FolderSync).
func TestBodyStatusesAllocationFree(t *testing.T) {
	for _, name := range []string{"exchange-foldersync-full", "exchange-sync-items", "exchange-sync-two"} {
		doc := fuzzSeed(t, name)
		var buf [8]int
		if n := testing.AllocsPerRun(100, func() { bodyStatuses(doc, buf[:0]) }); n != 0 {
			t.Errorf("%s: %v allocations a call, want 0", name, n)
		}
	}
}
