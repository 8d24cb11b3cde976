package alerts

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Notifier mails alerts as Config says (ALR-07..09) and posts them to the
// webhook. Delivery runs on its own goroutine: the request that raised an
// alert never waits for a mail server.
type Notifier struct {
	cfg  Config
	pass string // the SMTP password, read from its file once
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	hour    time.Time // the clock hour `sent` counts in (ALR-08)
	sent    int
	pending []Alert // the batch (ALR-09)

	jobs    chan func()
	stop    chan struct{}
	done    sync.WaitGroup
	Dropped atomic.Int64 // alerts over Alerts Per Hour, or a full queue
}

// queueLen bounds the deliveries waiting; past it they are dropped.
const queueLen = 256

// NewNotifier starts cfg's delivery and, for batches, its interval timer.
// now is the clock (nil: time.Now); cfg must be validated.
func NewNotifier(cfg Config, password string, log *slog.Logger, now func() time.Time) *Notifier {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Notifier{cfg: cfg, pass: password, log: log, now: now, jobs: make(chan func(), queueLen), stop: make(chan struct{})}
	n.done.Add(2)
	go n.deliver()
	go n.batchLoop(time.Duration(cfg.BatchMinutes) * time.Minute)
	return n
}

// action is what the e-mail notification does with an alert ID: its
// override, else the Default (ALR-09).
func (n *Notifier) action(id string) Action {
	if a, ok := n.cfg.Overrides[id]; ok {
		return a
	}
	return n.cfg.Default
}

// Notify hands a to the webhook and, as configured, to e-mail.
func (n *Notifier) Notify(a Alert) {
	if n.cfg.Webhook != "" {
		n.enqueue(func() { n.postWebhook(a) })
	}
	if !n.cfg.SendNotifications {
		return
	}
	act := n.action(a.ID)
	if act == Discard {
		return
	}
	n.mu.Lock()
	if h := n.now().Truncate(time.Hour); !h.Equal(n.hour) { // the clock resets at the top of each hour
		n.hour, n.sent = h, 0
	}
	if n.cfg.AlertsPerHour > 0 && n.sent >= n.cfg.AlertsPerHour {
		n.mu.Unlock()
		n.Dropped.Add(1)
		return
	}
	n.sent++
	if act == Batch {
		n.pending = append(n.pending, a)
		n.mu.Unlock()
		return
	}
	n.mu.Unlock()
	n.enqueue(func() { n.mail([]Alert{a}) })
}

// Flush mails the batch now, as the Batch Time Interval's end does.
func (n *Notifier) Flush() {
	n.mu.Lock()
	batch := n.pending
	n.pending = nil
	n.mu.Unlock()
	if len(batch) > 0 {
		n.enqueue(func() { n.mail(batch) })
	}
}

func (n *Notifier) enqueue(job func()) {
	select {
	case n.jobs <- job:
	default:
		n.Dropped.Add(1)
		n.log.Warn("alert notification queue full: notification dropped")
	}
}

func (n *Notifier) deliver() {
	defer n.done.Done()
	for {
		select {
		case job := <-n.jobs:
			job()
		case <-n.stop:
			for { // what was queued before Close still goes out
				select {
				case job := <-n.jobs:
					job()
				default:
					return
				}
			}
		}
	}
}

func (n *Notifier) batchLoop(every time.Duration) {
	defer n.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			n.Flush()
		case <-n.stop:
			return
		}
	}
}

// Close mails the pending batch and waits for queued deliveries.
func (n *Notifier) Close() {
	n.Flush()
	close(n.stop)
	n.done.Wait()
}
