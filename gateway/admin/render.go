package admin

import (
	"fmt"
	"github.com/gatehouse-lab/gatehouse/gateway/upstream"
	"io"
	"text/tabwriter"
	"time"
)

// Legend is printed before every device-cache table (DC-09).
const Legend = `S: Tunnel State {A:Allowed, B:Blocked, P:Policy Pending, W:Wipe Pending}
Vs: EMM Validation State {Y:validated, N:not-validated}
Cn: Connection count
Ver: AppTunnel Version or ActiveSync Version
Time: Timestamp of the last request or connection
Application[/ID]: Application[/ActiveSync Device ID (if application is 'ActiveSync')]
Tunnel-ID: Generic Tunnel ID
`

// RenderEntries prints a device-cache table as the CLI does (DC-08, DC-09).
func RenderEntries(w io.Writer, es []Entry) error {
	if _, err := io.WriteString(w, Legend+"\n"); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 8, 1, '\t', 0)
	fmt.Fprintln(tw, "Index\tUser\tS\tVs\tCn\tVer\tTime\tApplication[/ID]")
	fmt.Fprintln(tw, "\tTunnel-ID")
	for _, e := range es {
		ts := ""
		if !e.Time.IsZero() {
			ts = e.Time.UTC().Format("2006-01-02 15:04:05") + " GMT"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s %s\n", e.Index, Printable(e.User), Printable(e.State), Printable(e.Validated), e.Connections,
			Printable(e.Version), ts, Printable(e.Application), Printable(e.TunnelID))
	}
	return tw.Flush()
}

// javaDate is the CLI's date format (FO-08): "Fri Aug 03 18:55:16 UTC 2012".
func javaDate(t time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	return t.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
}

// RenderStatus prints `show sentry status` (FO-05).
func RenderStatus(w io.Writer, s *Status) error {
	conn := "Not Connected"
	if s.Connected {
		conn = "Connected"
	}
	fo := "Block"
	if s.FailOpen {
		fo = "Allow"
	}
	_, err := fmt.Fprintf(w, `EMM server type : %s
Connectivity to %s: %s
Last connectivity change detected by : %s
Last connectivity change time : %s

%s periodic connectivity check status
Current time : %s
Last successful : %s
Last failed : %s
Next scheduled : %s

EMM server fail-open status : %s
Last fail-open status change detected by : %s
Last fail-open status change time : %s
`, Printable(s.EMMServerType), Printable(s.EMMServerType), conn, Printable(s.LastChangeBy), javaDate(s.LastChange),
		Printable(s.EMMServerType), javaDate(s.CurrentTime), javaDate(s.LastSuccessful), javaDate(s.LastFailed), javaDate(s.NextScheduled),
		fo, Printable(s.FailOpenChangedBy), javaDate(s.FailOpenChangedAt))
	if err == nil && s.UEMState == UEMError {
		// After the seed's lines, which stay as they are (FO-05).
		_, err = fmt.Fprintf(w, "\nEMM server status : Error\nEMM server error : %s\nEMM server error since : %s\n", Printable(s.Reason), javaDate(s.ReasonSince))
	}
	return err
}

// RenderCounters prints `key = value` lines (STA-01).
func RenderCounters(w io.Writer, cs []Counter) error {
	for _, c := range cs {
		if _, err := fmt.Fprintf(w, "%s = %d\n", Printable(c.Name), c.Value); err != nil {
			return err
		}
	}
	return nil
}

// RenderPeaks prints each peak and its peak-date line (STA-07).
func RenderPeaks(w io.Writer, ps []Peak) error {
	for _, p := range ps {
		if _, err := fmt.Fprintf(w, "%s = %g\npeak-date-%s = %s\n", Printable(p.Name), p.Value, Printable(p.Name), javaDate(p.At)); err != nil {
			return err
		}
	}
	return nil
}

// RenderServers prints each service and its servers' state (ASC-13).
func RenderServers(w io.Writer, ss []upstream.ServiceStatus) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "Service\tServer\tState\tDeclared\tFailures\tLast success\tLast failure")
	for _, svc := range ss {
		for _, sv := range svc.Servers {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", Printable(svc.Name), Printable(sv.Address), sv.State(), sv.Declared(), sv.FailureCount, javaDate(sv.LastSuccess), javaDate(sv.LastFailure))
		}
	}
	return tw.Flush()
}
