package dashboard

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/gatehouse-lab/gatehouse/lab"
)

// demoRun plays lab.RunDemo and splits its narration into its steps.
type demoRun struct {
	mu      sync.Mutex
	started bool
	running bool
	steps   []demoStep
	cur     int // index of the running step, -1 before the first
	err     string
	buf     bytes.Buffer // an unfinished narration line
}

type demoStep struct {
	lab.DemoStep
	Status string   `json:"status"` // pending, running, done, failed
	Lines  []string `json:"lines"`
}

type demoState struct {
	Started bool       `json:"started"`
	Running bool       `json:"running"`
	Done    bool       `json:"done"`
	Error   string     `json:"error,omitempty"`
	Steps   []demoStep `json:"steps"`
}

func (d *demoRun) state() demoState {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := demoState{Started: d.started, Running: d.running, Error: d.err, Done: d.started && !d.running && d.err == ""}
	if d.steps == nil {
		for _, s := range lab.DemoSteps {
			st.Steps = append(st.Steps, demoStep{DemoStep: s, Status: "pending"})
		}
		return st
	}
	for _, s := range d.steps {
		s.Lines = append([]string(nil), s.Lines...)
		st.Steps = append(st.Steps, s)
	}
	return st
}

// play starts the demo once; false when it already ran.
func (d *demoRun) play(ctx context.Context, l *lab.Lab, wg *sync.WaitGroup) bool {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return false
	}
	d.started, d.running, d.cur = true, true, -1
	d.steps = nil
	for _, s := range lab.DemoSteps {
		d.steps = append(d.steps, demoStep{DemoStep: s, Status: "pending"})
	}
	d.mu.Unlock()
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := lab.RunDemo(ctx, l, d)
		d.mu.Lock()
		defer d.mu.Unlock()
		d.running = false
		if err != nil {
			d.err = err.Error()
			if d.cur >= 0 {
				d.steps[d.cur].Status = "failed"
			}
			return
		}
		if d.cur >= 0 {
			d.steps[d.cur].Status = "done"
		}
	}()
	return true
}

var stepLine = regexp.MustCompile(`^demo: (\d+)\. `)

// Write takes the narration: "demo: N. ..." starts step N, the lines
// after it are its outcome.
func (d *demoRun) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.buf.Write(p)
	for {
		line, err := d.buf.ReadString('\n')
		if err != nil {
			d.buf.Reset()
			d.buf.WriteString(line)
			return len(p), nil
		}
		d.line(strings.TrimRight(line, "\n"))
	}
}

func (d *demoRun) line(line string) {
	if m := stepLine.FindStringSubmatch(line); m != nil {
		n, _ := strconv.Atoi(m[1])
		if n >= 1 && n <= len(d.steps) {
			if d.cur >= 0 {
				d.steps[d.cur].Status = "done"
			}
			d.cur = n - 1
			d.steps[d.cur].Status = "running"
		}
	}
	if d.cur >= 0 {
		d.steps[d.cur].Lines = append(d.steps[d.cur].Lines, strings.TrimSpace(strings.TrimPrefix(line, "demo:")))
	}
}
