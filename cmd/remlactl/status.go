package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/remla/tagger/deployer"
)

func newStatusCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each color's standing, version and readiness, which one is active, and what a rollback would do",
		Long: `status shows, per color: whether it is active or standby (warm: all its
replicas, a rollback is instant; cold: scaled down by the standby policy of
remla.yaml, a rollback scales it up first; and when a warm one is due to be
scaled down), its standing (stable,
baking with the time left, failed, unproven) with since when and why, the
version, pod template and image it runs, ready/desired replicas and the rollout
state; and on top, where a rollback would send traffic now or why it would be
refused. A bake window that has passed shows as stable even before any process
records it. Nothing is changed.`,
		Example: `  remlactl status
  remlactl status -o json | jq -r '.colors.green.standing.phase'
  remlactl status -n remla-staging -o yaml`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, st, err := readState(cmd, output)
			if err != nil {
				return err
			}
			return printState(cmd.OutOrStdout(), output, d.Namespace(), st, time.Now())
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or yaml")
	return cmd
}

// printState prints the state; now is the instant baking times are counted from.
func printState(w io.Writer, output, ns string, st *deployer.State, now time.Time) error {
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	case "yaml":
		b, err := yaml.Marshal(st)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if st.Active == "" {
		fmt.Fprintf(w, "namespace %s: not initialized (run remlactl init <version>)\n", ns)
	} else {
		fmt.Fprintf(w, "namespace %s: %s active, %s\n", ns, st.Active, st.Colors[st.Active].Standing.Describe(now))
		if r := st.Rollback; r.To != "" && r.ScaleUp > 0 {
			fmt.Fprintf(w, "rollback: to %s (%s at %s; a cold standby: scaled up to %d replicas and waited for first)\n", r.To, st.Colors[r.To].Standing.Phase, r.Version, r.ScaleUp)
		} else if r.To != "" {
			fmt.Fprintf(w, "rollback: to %s (%s at %s)\n", r.To, st.Colors[r.To].Standing.Phase, r.Version)
		} else {
			fmt.Fprintf(w, "rollback: refused now: %s\n", r.Refused)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLOR\tROLE\tSTANDING\tSINCE\tVERSION\tTEMPLATE\tREADY\tROLLOUT\tIMAGE\tWHY")
	for _, c := range deployer.Colors {
		cs := st.Colors[c]
		role := "standby"
		switch {
		case c == st.Active:
			role = "active"
		case !cs.Deployed:
			role = "absent"
		case cs.Standby != nil:
			role = "standby (" + cs.Standby.Describe(now, cs) + ")"
		}
		since := "-"
		if !cs.Standing.Since.IsZero() {
			since = cs.Standing.Since.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\n", c, role, cs.Standing.Describe(now), since, dash(cs.Version),
			dash(cs.Template), cs.Ready, cs.Desired, dash(cs.Rollout), dash(cs.Image), dash(cs.Standing.Reason))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// readState checks the -o value, then reads the state from the cluster: the
// shared first half of status and history.
func readState(cmd *cobra.Command, output string) (*deployer.Deployer, *deployer.State, error) {
	if output != "table" && output != "json" && output != "yaml" {
		return nil, nil, usageError{fmt.Errorf("unknown output %q: use table, json or yaml", output)}
	}
	d, _, err := setup(cmd)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel, _ := withTimeout(cmd)
	defer cancel()
	st, err := d.Status(ctx)
	if err != nil {
		return nil, nil, err
	}
	return d, st, nil
}
