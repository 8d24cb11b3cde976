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
	// stepwise pauses before each step after the first until next is
	// signalled (the page's "Next step"); waiting says it is paused.
	stepwise bool
	waiting  bool
	next     chan struct{}
	ctx      context.Context
}

type demoStep struct {
	lab.DemoStep
	Status string   `json:"status"` // pending, running, done, failed
	Lines  []string `json:"lines"`
}

type demoState struct {
	Started bool       `json:"started"`
	Running bool       `json:"running"`
	Waiting bool       `json:"waiting"` // step by step: paused before the next step
	Done    bool       `json:"done"`
	Error   string     `json:"error,omitempty"`
	Steps   []demoStep `json:"steps"`
}

func (d *demoRun) state() demoState {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := demoState{Started: d.started, Running: d.running, Waiting: d.waiting, Error: d.err, Done: d.started && !d.running && d.err == ""}
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

// play starts the demo once; false when it already ran. Stepwise, it
// pauses before each step after the first until advance.
func (d *demoRun) play(ctx context.Context, l *lab.Lab, wg *sync.WaitGroup, stepwise bool) bool {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return false
	}
	d.started, d.running, d.cur = true, true, -1
	d.stepwise, d.next, d.ctx = stepwise, make(chan struct{}, 1), ctx
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

// advance lets a stepwise demo go on to its next step; false when it is
// not waiting.
func (d *demoRun) advance() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.waiting {
		return false
	}
	select {
	case d.next <- struct{}{}:
	default:
	}
	return true
}

// Write takes the narration: "demo: N. ..." starts step N, the lines
// after it are its outcome. Stepwise, it blocks before step N > 1 until
// advance (RunDemo writes from its own goroutine, so the demo waits).
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
		line = strings.TrimRight(line, "\n")
		if m := stepLine.FindStringSubmatch(line); m != nil && m[1] != "1" && d.stepwise {
			if err := d.pause(); err != nil {
				return 0, err
			}
		}
		d.line(line)
	}
}

// pause waits, with d.mu released, for advance or the end of the demo's
// context; the step before is done by then.
func (d *demoRun) pause() error {
	if d.cur >= 0 {
		d.steps[d.cur].Status = "done"
	}
	d.waiting = true
	d.mu.Unlock()
	var err error
	select {
	case <-d.next:
	case <-d.ctx.Done():
		err = d.ctx.Err()
	}
	d.mu.Lock()
	d.waiting = false
	return err
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
