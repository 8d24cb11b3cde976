package activesync

import (
	"testing"
	"unsafe"
)

// The exchange of a request lives as long as the request, a held Ping's
// for up to its heartbeat: it is kept in the 288-byte size class (it was
// 424 bytes, the 448-byte class, with the Provision's whole
// DeviceInformation set inline; docs/performance.md, "Held Ping memory").
func TestHeldPingExchangeSize(t *testing.T) {
	if n := unsafe.Sizeof(exchange{}); n > 288 {
		t.Fatalf("exchange is %d bytes, over the 288-byte size class", n)
	}
}
