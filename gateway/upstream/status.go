package upstream

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse-lab/gatehouse/protocol/uemapi"
)

// ServiceStatus is one service of `show sentry server status` (ASC-25).
type ServiceStatus struct {
	Name        string
	Scheduling  uemapi.Scheduling
	HealthCheck bool // Active Background Health Check: Enabled
	Servers     []ServerStatus
}

// ServerStatus is one server's row: the ActiveSync server status
// Reachable or Unreachable (SVD, ASC-14) and the `show sentry server
// status` columns.
type ServerStatus struct {
	Address      string // host:port
	TLS          bool
	Reachable    bool      // live; false while dead
	DeadSince    time.Time // zero unless dead
	LastSuccess  time.Time // zero: never
	LastFailure  time.Time // zero: never
	FailureCount uint64
	InFlight     int64
}

// State is "Reachable" or "Unreachable", as the service diagnosis shows it.
func (s ServerStatus) State() string {
	if s.Reachable {
		return "Reachable"
	}
	return "Unreachable"
}

// Declared is the Declared Status column: "Live" or "Dead".
func (s ServerStatus) Declared() string {
	if s.Reachable {
		return "Live"
	}
	return "Dead"
}

// Status returns a snapshot of every service and server. A dead server
// whose time is up is revived first, so the snapshot is current.
func (r *Router) Status() []ServiceStatus {
	t := r.table.Load()
	out := make([]ServiceStatus, 0, len(t.services))
	for _, svc := range t.services {
		ss := ServiceStatus{Name: svc.cfg.Name, Scheduling: t.set.scheduling, HealthCheck: svc.cfg.HealthCheck.Enabled}
		for _, srv := range svc.servers {
			svc.available(srv)
			ss.Servers = append(ss.Servers, srv.snapshot())
		}
		out = append(out, ss)
	}
	return out
}

// Diagnosis is one row of the Service Diagnosis page (SVD-01, SVD-02).
type Diagnosis struct {
	Service string // "EAS"
	Date    time.Time
	Status  string // "Success", "Failure" or "Not Performed"
	Message string
}

// Diagnosis statuses.
const (
	DiagnosisSuccess      = "Success"
	DiagnosisFailure      = "Failure"
	DiagnosisNotPerformed = "Not Performed"
)

// VerifyEAS is the EAS row's Verify: it sends one health check to every
// server of every service now and reports one sentence per server, as the
// DNS row does ("ActiveSync server mail.example.com:443 is reachable.").
// Success means every server answered. The checks count in the hc-*
// statistics but do not change the servers' health. Without ActiveSync
// it reports "Not Performed" with the seeds' "Sentry not configured.".
func (r *Router) VerifyEAS(ctx context.Context) Diagnosis {
	t := r.table.Load()
	d := Diagnosis{Service: "EAS", Date: r.opts.Now()}
	if len(t.services) == 0 {
		d.Status, d.Message = DiagnosisNotPerformed, "Sentry not configured."
		return d
	}
	type row struct {
		srv *Server
		err error
	}
	var rows []*row
	seen := map[string]bool{}
	for _, svc := range t.services {
		for _, srv := range svc.servers {
			if k := serverKey("", srv.addr); !seen[k] {
				seen[k] = true
				rows = append(rows, &row{srv: srv})
			}
		}
	}
	var wg sync.WaitGroup
	for _, rw := range rows {
		wg.Go(func() { rw.err = r.probe(ctx, t.set, rw.srv) })
	}
	wg.Wait()
	d.Status = DiagnosisSuccess
	var msg []string
	for _, rw := range rows {
		if rw.err != nil {
			d.Status = DiagnosisFailure
			msg = append(msg, "ActiveSync server "+rw.srv.addr.hostport+" is not reachable.")
		} else {
			msg = append(msg, "ActiveSync server "+rw.srv.addr.hostport+" is reachable.")
		}
	}
	d.Message = strings.Join(msg, " ")
	return d
}
