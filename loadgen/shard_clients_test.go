package loadgen

import (
	"net/http"
	"testing"
)

// TestShardSpreadsItsDevicesOverAllClients: each shard's devices use every
// client (source address) evenly, so MaxConns (divided among the clients)
// bounds the shard's connections as a whole. By fleet index, 4 shards over
// 8 clients used two clients each: 5 % of a 20,000-device run waited for a
// connection until their Provision timed out.
func TestShardSpreadsItsDevicesOverAllClients(t *testing.T) {
	const clients, perClient = 8, 3
	for _, sh := range []Shard{{0, 1}, {1, 4}, {3, 4}, {2, 6}, {5, 8}} {
		cs := make([]*http.Client, clients)
		for i := range cs {
			cs[i] = &http.Client{}
		}
		r := &runner{opt: Options{Shard: sh}, clients: cs}
		used := map[*http.Client]int{}
		for k := range clients * perClient {
			used[r.clientOf(sh.I+k*sh.N)]++
		}
		if len(used) != clients {
			t.Errorf("shard %d/%d: its %d devices used %d of %d clients", sh.I, sh.N, clients*perClient, len(used), clients)
		}
		for _, n := range used {
			if n != perClient {
				t.Errorf("shard %d/%d: a client holds %d devices, want %d", sh.I, sh.N, n, perClient)
			}
		}
	}
}
