package uem

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// maxDeliveries bounds the delivery log.
const maxDeliveries = 10000

// notifier pushes notifications to gateway entries: one FIFO queue and one
// worker per gateway, retries with exponential backoff, never to a
// disabled entry (ENT-03).
type notifier struct {
	cfg    NotifyConfig
	hc     *http.Client
	log    *slog.Logger
	faults *faultState
	now    func() time.Time
	st     *store

	mu         sync.Mutex
	ctx        context.Context
	queues     map[string]*queue
	seq        int64
	deliveries []Delivery
	wg         sync.WaitGroup
}

type queue struct {
	items []uemapi.Notification
	wake  chan struct{}
}

func newNotifier(cfg NotifyConfig, hc *http.Client, log *slog.Logger, f *faultState, now func() time.Time) *notifier {
	return &notifier{cfg: cfg, hc: hc, log: log, faults: f, now: now, queues: map[string]*queue{}}
}

// enqueue implements sink. It never blocks.
func (n *notifier) enqueue(gatewayID string, msg uemapi.Notification) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.seq++
	msg.ID = "n-" + strconv.FormatInt(n.seq, 10) + "-" + randomHex(4)
	msg.GatewayID = gatewayID
	msg.Time = n.now().UTC()
	q := n.queues[gatewayID]
	if q == nil {
		q = &queue{wake: make(chan struct{}, 1)}
		n.queues[gatewayID] = q
		if n.ctx != nil {
			n.startWorker(gatewayID, q)
		}
	}
	q.items = append(q.items, msg)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// start runs the workers until ctx is done.
func (n *notifier) start(ctx context.Context) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ctx = ctx
	for id, q := range n.queues {
		n.startWorker(id, q)
	}
}

func (n *notifier) startWorker(id string, q *queue) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		for {
			msg, ok := n.pop(q)
			if !ok {
				select {
				case <-n.ctx.Done():
					return
				case <-q.wake:
					continue
				}
			}
			n.deliver(n.ctx, id, msg)
		}
	}()
}

func (n *notifier) pop(q *queue) (uemapi.Notification, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(q.items) == 0 {
		return uemapi.Notification{}, false
	}
	msg := q.items[0]
	q.items[0] = uemapi.Notification{}
	q.items = q.items[1:]
	return msg, true
}

func (n *notifier) wait() { n.wg.Wait() }

// errPartition is what a push fails with under a UEM → gateway partition.
var errPartition = errors.New("network partition (fault injection): gateway unreachable")

func (n *notifier) deliver(ctx context.Context, gatewayID string, msg uemapi.Notification) {
	rec := Delivery{ID: msg.ID, Type: string(msg.Type), GatewayID: gatewayID}
	delay := n.cfg.BaseDelay
	for {
		url, secret, enabled, ok := n.st.target(gatewayID)
		if !ok || !enabled {
			rec.Status = DeliveryDisabled
			n.record(rec)
			return
		}
		if n.faults.Get().DropNotifications {
			rec.Status = DeliveryDropped
			n.record(rec)
			return
		}
		rec.Attempts++
		err := n.post(ctx, url, secret, msg)
		if err == nil {
			rec.Status, rec.LastError = DeliveryDelivered, ""
			n.record(rec)
			n.st.recordPush(gatewayID, msg, nil)
			return
		}
		rec.LastError = err.Error()
		n.log.Warn("notification push failed", "gateway", gatewayID, "type", msg.Type, "id", msg.ID, "attempt", rec.Attempts, "error", err)
		if rec.Attempts >= n.cfg.Attempts || ctx.Err() != nil {
			rec.Status = DeliveryFailed
			n.record(rec)
			n.st.recordPush(gatewayID, msg, fmt.Errorf("after %d attempts: %w", rec.Attempts, err))
			return
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		delay = min(delay*2, n.cfg.MaxDelay)
	}
}

func (n *notifier) post(ctx context.Context, url string, secret []byte, msg uemapi.Notification) error {
	if n.faults.Get().PartitionUEMToGateway {
		return errPartition
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := n.now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(uemapi.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(uemapi.HeaderSignature, uemapi.Sign(secret, ts, body))
	req.Header.Set(uemapi.HeaderDelivery, msg.ID)
	resp, err := n.hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("gateway answered HTTP %d", resp.StatusCode)
	}
	return nil
}

func (n *notifier) record(d Delivery) {
	d.Time = n.now().UTC()
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.deliveries) >= maxDeliveries {
		n.deliveries = slices.Delete(n.deliveries, 0, len(n.deliveries)-maxDeliveries+1)
	}
	n.deliveries = append(n.deliveries, d)
}

func (n *notifier) list() []Delivery {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.deliveries)
}
