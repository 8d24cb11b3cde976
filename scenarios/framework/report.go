package framework

import (
	"encoding/json"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
)

// DoneMarker is the file written in the results directory when the suite
// ends, however it ends; tools wait for it.
const DoneMarker = "done"

type doneDoc struct {
	Status  string    `json:"status"` // passed, failed, interrupted
	Specs   int       `json:"specs"`
	Failed  int       `json:"failed"`
	Skipped int       `json:"skipped"`
	Time    time.Time `json:"time"`
}

func writeDone(d doneDoc) {
	if TestContext.ResultsDir == "" {
		return
	}
	_ = os.MkdirAll(TestContext.ResultsDir, 0o755)
	b, _ := json.Marshal(d)
	tmp := filepath.Join(TestContext.ResultsDir, DoneMarker+".tmp")
	if os.WriteFile(tmp, append(b, '\n'), 0o644) == nil {
		_ = os.Rename(tmp, filepath.Join(TestContext.ResultsDir, DoneMarker))
	}
}

// WriteDone is the suite's ReportAfterSuite body: the done marker with
// the outcome. Ginkgo runs it after an interrupt too.
func WriteDone(r ginkgo.Report) {
	d := doneDoc{Status: "passed", Time: time.Now().UTC()}
	if !r.SuiteSucceeded {
		d.Status = "failed"
	}
	if r.SpecialSuiteFailureReasons != nil {
		for _, reason := range r.SpecialSuiteFailureReasons {
			if reason == "Interrupted by User" || len(reason) >= 11 && reason[:11] == "Interrupted" {
				d.Status = "interrupted"
			}
		}
	}
	for _, s := range r.SpecReports {
		if s.LeafNodeType != types.NodeTypeIt {
			continue
		}
		d.Specs++
		switch {
		case s.State.Is(types.SpecStateFailureStates):
			d.Failed++
		case s.State == types.SpecStateSkipped || s.State == types.SpecStatePending:
			d.Skipped++
		}
	}
	writeDone(d)
}

// WatchSignals writes an "interrupted" done marker as soon as the process
// is told to stop, in case it dies before ReportAfterSuite runs; the
// report overwrites it when it does run.
func WatchSignals() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ch
		writeDone(doneDoc{Status: "interrupted", Time: time.Now().UTC()})
	}()
}
