package loadgen

import "testing"

// The soak's heap figures use only samples measured by a collection
// inside the steady part: the live heap is as the last collection found
// it, and the first ones can be minutes old (here 1.3 MB from start-up).
func TestSoakSummaryUsesFreshLiveHeapSamples(t *testing.T) {
	sample := func(t int, live, cycles float64) SoakSample {
		return SoakSample{T: t, OpsPerS: 100, P99ms: 10, HeapMB: 200, HeapLiveMB: live, GCCycles: cycles}
	}
	rep := SoakReport{IntervalS: 60, SteadyFromS: 10, Samples: []SoakSample{
		sample(60, 1.3, 1), // not steady yet
		sample(120, 1.3, 1), sample(180, 26.7, 2), sample(240, 26.0, 3), sample(300, 26.0, 3), sample(360, 26.5, 4),
	}}
	rep.summarise()
	if rep.HeapFirstMB != 26.7 || rep.HeapLastMB != 26.5 {
		t.Fatalf("heap first/last %v/%v, want 26.7/26.5 (the stale 1.3 left out)", rep.HeapFirstMB, rep.HeapLastMB)
	}
	if rep.HeapSlopeMBPerH < -10 || rep.HeapSlopeMBPerH > 10 {
		t.Fatalf("slope %v MB/h on a flat live heap", rep.HeapSlopeMBPerH)
	}

	// A leak: the live heap rises by 1 MB a minute.
	rep = SoakReport{IntervalS: 60, SteadyFromS: 10}
	for i := range 6 {
		rep.Samples = append(rep.Samples, sample(60*(i+1), 20+float64(i), float64(i+1)))
	}
	rep.summarise()
	if rep.HeapSlopeMBPerH != 60 {
		t.Fatalf("slope %v MB/h, want 60", rep.HeapSlopeMBPerH)
	}

	// A gateway without the live-heap metrics: heap in use, every sample.
	rep = SoakReport{IntervalS: 60, SteadyFromS: 10, Samples: []SoakSample{
		{T: 120, OpsPerS: 1, HeapMB: 100}, {T: 180, OpsPerS: 1, HeapMB: 100}}}
	rep.summarise()
	if rep.HeapFirstMB != 100 || rep.HeapSlopeMBPerH != 0 {
		t.Fatalf("without live heap: %+v", rep)
	}
}
