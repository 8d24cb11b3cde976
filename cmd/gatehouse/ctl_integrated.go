package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/integrated"
)

// integratedCtlCmd is `ctl integrated state|resync` against a running
// integrated connector (--admin is its ctl URL).
func integratedCtlCmd(f *ctlFlags) *cobra.Command {
	call := func(cmd *cobra.Command, method, path string, in, out any) error {
		if f.token == "" {
			f.token = os.Getenv("GATEHOUSE_ADMIN_TOKEN")
		}
		hc, err := tlsClientFor(f.caFile, f.insecure)
		if err != nil {
			return err
		}
		var body io.Reader
		if in != nil {
			b, _ := json.Marshal(in)
			body = bytes.NewReader(b)
		}
		req, err := http.NewRequestWithContext(cmd.Context(), method, f.addr+path, body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+f.token)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if resp.StatusCode/100 != 2 {
			var e struct{ Error string }
			_ = json.Unmarshal(raw, &e)
			return fmt.Errorf("%s: %s", resp.Status, e.Error)
		}
		return json.Unmarshal(raw, out)
	}
	root := &cobra.Command{Use: "integrated", Short: "The integrated connector's sync state and manual resync (INT-09, INT-11)"}
	state := &cobra.Command{Use: "state", Short: "Sync state: running sync, last full and differential, batch position, errors", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var st integrated.State
			if err := call(cmd, http.MethodGet, integrated.PathState, nil, &st); err != nil {
				return err
			}
			return f.emit(cmd.OutOrStdout(), st, func() error { return renderIntegratedState(cmd.OutOrStdout(), &st) })
		}}
	var kind string
	resync := &cobra.Command{Use: "resync", Short: "Start a sync now: --kind differential (recommended) or full; dropped while one runs", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var out map[string]string
			if err := call(cmd, http.MethodPost, integrated.PathResync, integrated.ResyncRequest{Kind: integrated.Kind(kind)}, &out); err != nil {
				return err
			}
			_, err := fmt.Fprintln(cmd.OutOrStdout(), out["status"])
			return err
		}}
	resync.Flags().StringVar(&kind, "kind", "differential", "differential or full")
	root.AddCommand(state, resync)
	return root
}

func renderIntegratedState(w io.Writer, st *integrated.State) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	t := func(x time.Time) string {
		if x.IsZero() {
			return "never"
		}
		return x.UTC().Format(time.RFC3339)
	}
	running := string(st.Running)
	if running == "" {
		running = "no"
	}
	fmt.Fprintf(tw, "running\t%s\nexchange server\t%s\nlast full\t%s\nlast differential\t%s\nlast success\t%s\n", running, st.Server, t(st.LastFull), t(st.LastDifferential), t(st.LastSuccess))
	fmt.Fprintf(tw, "mailboxes\t%d\ndevices\t%d\ndecisions pushed\t%d\ndropped resyncs\t%d\n", st.Mailboxes, st.Devices, st.Pushed, st.Dropped)
	if st.Phase != "" {
		fmt.Fprintf(tw, "full sync to resume\t%s batch %d (cursor %q)\n", st.Phase, st.Batch+1, st.Cursor)
	}
	if st.NeedFull != "" {
		fmt.Fprintf(tw, "next sync is full\t%s\n", st.NeedFull)
	}
	if st.LastError != "" {
		fmt.Fprintf(tw, "last error\t%s\n", st.LastError)
	}
	return tw.Flush()
}
