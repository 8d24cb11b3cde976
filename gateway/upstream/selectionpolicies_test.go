package upstream

import (
	"testing"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

func TestASC15_PriorityUsesTheFirstAvailableServerOnly(t *testing.T) {
	a, b, c := newExchange(t, "a", false), newExchange(t, "b", false), newExchange(t, "c", false)
	r := newRouter(t, asConfig(service("default", a, b, c)), defaultMgmt(), defaultTimeouts(), Options{})
	for range 30 {
		mustDo(t, r, easRequest("gw", "Sync", ""))
	}
	if a.hits.Load() != 30 || b.hits.Load() != 0 || c.hits.Load() != 0 {
		t.Fatalf("hits a=%d b=%d c=%d, want 30/0/0", a.hits.Load(), b.hits.Load(), c.hits.Load())
	}
	// With the first gone, the second takes everything (not the third).
	a.kill()
	for range 30 {
		mustDo(t, r, easRequest("gw", "Sync", ""))
	}
	if b.hits.Load() != 30 || c.hits.Load() != 0 {
		t.Fatalf("after a died: b=%d c=%d, want 30/0", b.hits.Load(), c.hits.Load())
	}
}

func TestASC15_RoundRobinUsesEachServerInTurn(t *testing.T) {
	a, b, c := newExchange(t, "a", false), newExchange(t, "b", false), newExchange(t, "c", false)
	m := defaultMgmt()
	m.Scheduling = uemapi.ScheduleRoundRobin
	r := newRouter(t, asConfig(service("default", a, b, c)), m, defaultTimeouts(), Options{})
	var order []string
	for range 30 {
		_, body := mustDo(t, r, easRequest("gw", "Sync", ""))
		order = append(order, body)
	}
	if a.hits.Load() != 10 || b.hits.Load() != 10 || c.hits.Load() != 10 {
		t.Fatalf("hits a=%d b=%d c=%d, want 10 each", a.hits.Load(), b.hits.Load(), c.hits.Load())
	}
	for i := 3; i < len(order); i++ {
		if order[i] != order[i-3] {
			t.Fatalf("not in turn: %v", order)
		}
	}
}
