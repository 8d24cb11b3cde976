package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gatehouse-lab/gatehouse/gateway/alerts"
	"github.com/gatehouse-lab/gatehouse/gateway/uemsync"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"github.com/gatehouse-lab/gatehouse/internal/httpapi"
)

// DiagnosisRow is one row of Service Diagnosis (SVD-01): the service
// (EMM, EAS, DNS, NTP), when it was tested, Success / Failure / Not
// Performed, the message and the test (always "Verify").
type DiagnosisRow struct {
	Service string    `json:"service"`
	Date    time.Time `json:"date"`
	Status  string    `json:"status"`
	Message string    `json:"message"`
	Test    string    `json:"test"`
}

// diagnoseTimeout bounds each service's check.
const diagnoseTimeout = 5 * time.Second

// diagnoseServices are the rows of Verify All, in the seed's order.
var diagnoseServices = []string{"EMM", "EAS", "DNS", "NTP"}

// diagnoseRoutes registers Service Diagnosis (SVD-01..04).
func (a *api) diagnoseRoutes(mux *httpapi.Mux) {
	mux.HandleFunc("POST "+Prefix+"diagnose", a.diagnoseAll)
	mux.HandleFunc("POST "+Prefix+"diagnose/{service}", a.diagnoseOne)
}

// diagnoseAll is "Verify All".
func (a *api) diagnoseAll(w http.ResponseWriter, r *http.Request) {
	out := make([]DiagnosisRow, 0, len(diagnoseServices))
	for _, s := range diagnoseServices {
		out = append(out, a.diagnose(r.Context(), s))
	}
	writeJSON(w, out)
}

// diagnoseOne is "Verify" on one service.
func (a *api) diagnoseOne(w http.ResponseWriter, r *http.Request) {
	s := strings.ToUpper(r.PathValue("service"))
	if s == "UEM" {
		s = "EMM"
	}
	for _, known := range diagnoseServices {
		if s == known {
			writeJSON(w, []DiagnosisRow{a.diagnose(r.Context(), s)})
			return
		}
	}
	writeErr(w, http.StatusNotFound, fmt.Errorf("no service %q; services are EMM, EAS, DNS, NTP", r.PathValue("service")))
}

func (a *api) diagnose(ctx context.Context, service string) DiagnosisRow {
	ctx, cancel := context.WithTimeout(ctx, diagnoseTimeout)
	defer cancel()
	row := DiagnosisRow{Service: service, Date: a.d.Now(), Test: "Verify"}
	switch service {
	case "EMM":
		row.Status, row.Message = a.diagnoseUEM(ctx)
	case "EAS":
		if a.d.Diagnose == nil {
			row.Status, row.Message = upstream.DiagnosisNotPerformed, "Sentry not configured."
		} else {
			d := a.d.Diagnose(ctx)
			row.Status, row.Message = d.Status, d.Message
		}
	case "DNS":
		row.Status, row.Message = probeEach(ctx, "DNS", a.d.DNSServers, probeDNS)
	case "NTP":
		row.Status, row.Message = probeEach(ctx, "NTP", a.d.NTPServers, probeNTP)
		if row.Status == upstream.DiagnosisFailure { // ALR-04: the seeds' NTPERROR
			a.d.Alerts.Raise(alerts.Alert{ID: alerts.IDNTPError, Level: alerts.Error, Service: "NTP", Description: row.Message})
		}
	}
	return row
}

// diagnoseUEM makes the link check the UEM now, updating the
// connectivity state (SVD-03), and says why it is not reachable (SVD-04).
func (a *api) diagnoseUEM(ctx context.Context) (status, msg string) {
	if a.d.Link == nil {
		return upstream.DiagnosisNotPerformed, "EMM not configured."
	}
	host := a.d.UEMHost
	err := a.d.Link.Check(ctx, uemsync.ByVerify)
	st := a.d.Link.Status()
	switch {
	case st.Refusal != "":
		return upstream.DiagnosisFailure, fmt.Sprintf("EMM server %s is reachable but refuses this Sentry: %s", host, st.Refusal)
	case err == nil && st.Connected:
		return upstream.DiagnosisSuccess, fmt.Sprintf("EMM server %s is reachable", host)
	}
	why := st.LastError
	if why == "" && err != nil {
		why = err.Error()
	}
	return upstream.DiagnosisFailure, fmt.Sprintf("EMM server %s is not reachable: %s", host, why)
}

// probeEach runs probe on every server; one sentence per server (SVD-02).
func probeEach(ctx context.Context, kind string, servers []string, probe func(context.Context, string) error) (status, msg string) {
	if len(servers) == 0 {
		return upstream.DiagnosisNotPerformed, kind + " server not configured."
	}
	status = upstream.DiagnosisSuccess
	var lines []string
	for _, s := range servers {
		if err := probe(ctx, s); err != nil {
			status = upstream.DiagnosisFailure
			lines = append(lines, fmt.Sprintf("%s server %s is not reachable: %v.", kind, s, err))
			continue
		}
		lines = append(lines, fmt.Sprintf("%s server %s is reachable.", kind, s))
	}
	return status, strings.Join(lines, " ")
}

// probeDNS asks server (host:port) for a name that cannot exist: any
// answer, NXDOMAIN included, shows the server is reachable.
func probeDNS(ctx context.Context, server string) error {
	res := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, server)
	}}
	_, err := res.LookupHost(ctx, "gatehouse-service-diagnosis.invalid")
	var de *net.DNSError
	if err == nil || (errors.As(err, &de) && de.IsNotFound) {
		return nil
	}
	return fmt.Errorf("dns: %w", err)
}

// probeNTP sends one SNTP client request (RFC 4330) to server (host:port)
// and wants a server-mode answer.
func probeNTP(ctx context.Context, server string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", server)
	if err != nil {
		return fmt.Errorf("ntp: %w", err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	req := make([]byte, 48)
	req[0] = 0x1B // LI 0, version 3, mode 3 (client)
	if _, err := c.Write(req); err != nil {
		return fmt.Errorf("ntp: %w", err)
	}
	resp := make([]byte, 512)
	n, err := c.Read(resp)
	if err != nil {
		return fmt.Errorf("ntp: %w", err)
	}
	if n < 48 || resp[0]&0x7 != 4 {
		return errors.New("ntp: not an NTP server answer")
	}
	return nil
}
