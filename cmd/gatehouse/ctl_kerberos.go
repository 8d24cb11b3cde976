package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/gatehouse-lab/gatehouse/gateway/admin"
)

// kerberosCmds are the Kerberos reports and debug commands (KRB-07,
// KRB-11 to KRB-15): `ctl kerberos …` and `ctl kerberos-cache purge`.
func kerberosCmds(client func() (*admin.Client, error), emit func(io.Writer, any, func() error) error) []*cobra.Command {
	run := func(f func(cmd *cobra.Command, c *admin.Client, a []string) error) func(*cobra.Command, []string) error {
		return func(cmd *cobra.Command, a []string) error {
			c, err := client()
			if err != nil {
				return err
			}
			return f(cmd, c, a)
		}
	}
	k := &cobra.Command{Use: "kerberos", Short: "Kerberos constrained delegation (KRB items)", Args: cobra.NoArgs,
		RunE: run(func(cmd *cobra.Command, c *admin.Client, _ []string) error {
			i, err := c.KerberosInfo(cmd.Context())
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), i, func() error { return admin.RenderKerberosInfo(cmd.OutOrStdout(), i) })
		})}
	cache := &cobra.Command{Use: "cache", Short: "Service ticket cache"}
	cache.AddCommand(
		&cobra.Command{Use: "dump [upn-filter]", Short: "Cached tickets, optionally for a full or partial UPN", Args: cobra.MaximumNArgs(1),
			RunE: run(func(cmd *cobra.Command, c *admin.Client, a []string) error {
				f := ""
				if len(a) == 1 {
					f = a[0]
				}
				es, err := c.KerberosCache(cmd.Context(), f)
				if err != nil {
					return err
				}
				return emit(cmd.OutOrStdout(), es, func() error { return admin.RenderKerberosCache(cmd.OutOrStdout(), es) })
			})},
		&cobra.Command{Use: "upn <upn>", Short: "Cached tickets of one UPN", Args: cobra.ExactArgs(1),
			RunE: run(func(cmd *cobra.Command, c *admin.Client, a []string) error {
				es, err := c.KerberosCacheUPN(cmd.Context(), a[0])
				if err != nil {
					return err
				}
				return emit(cmd.OutOrStdout(), es, func() error { return admin.RenderKerberosUPN(cmd.OutOrStdout(), a[0], es) })
			})},
	)
	k.AddCommand(cache,
		&cobra.Command{Use: "kdc <host> [port]", Short: "Check that a KDC accepts TCP connections (port 88 by default)", Args: cobra.RangeArgs(1, 2),
			RunE: run(func(cmd *cobra.Command, c *admin.Client, a []string) error {
				port := 0
				if len(a) == 2 {
					p, err := strconv.Atoi(a[1])
					if err != nil {
						return fmt.Errorf("port %q: %w", a[1], err)
					}
					port = p
				}
				r, err := c.KerberosKDC(cmd.Context(), a[0], port)
				if err != nil {
					return err
				}
				return emit(cmd.OutOrStdout(), r, func() error {
					for _, l := range r.Lines {
						fmt.Fprintln(cmd.OutOrStdout(), admin.Printable(l))
					}
					return nil
				})
			})},
		&cobra.Command{Use: "init", Short: "Initialise Kerberos now (does nothing when initialised)", Args: cobra.NoArgs,
			RunE: run(func(cmd *cobra.Command, c *admin.Client, _ []string) error {
				r, err := c.KerberosInit(cmd.Context())
				if err != nil {
					return err
				}
				return emit(cmd.OutOrStdout(), r, func() error {
					fmt.Fprintln(cmd.OutOrStdout(), admin.Printable(r.Message))
					if r.Error != "" {
						fmt.Fprintln(cmd.OutOrStdout(), admin.Printable(r.Error))
					}
					return nil
				})
			})},
	)
	kc := &cobra.Command{Use: "kerberos-cache", Short: "Kerberos service ticket cache debug commands"}
	kc.AddCommand(&cobra.Command{Use: "purge <upn>", Short: "Drop the cached tickets of a UPN (KRB-14)", Args: cobra.ExactArgs(1),
		RunE: run(func(cmd *cobra.Command, c *admin.Client, a []string) error {
			n, err := c.KerberosPurge(cmd.Context(), a[0])
			if err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), n, func() error { _, err := fmt.Fprintln(cmd.OutOrStdout(), admin.Printable(n.Message)); return err })
		})})
	return []*cobra.Command{k, kc}
}
