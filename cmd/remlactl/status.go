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
		Short: "Show each color's version, readiness, and which one is active",
		Long: `status shows, per color, the version and image it runs, ready/desired
replicas, whether it is active or standby, and when and why it last became
active. Nothing is changed.`,
		Example: `  remlactl status
  remlactl status -o json | jq -r .active
  remlactl status -n remla-staging -o yaml`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, st, err := readState(cmd, output)
			if err != nil {
				return err
			}
			return printState(cmd.OutOrStdout(), output, d.Namespace(), st)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or yaml")
	return cmd
}

func printState(w io.Writer, output, ns string, st *deployer.State) error {
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
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COLOR\tROLE\tVERSION\tREADY\tROLLOUT\tIMAGE\tACTIVE SINCE\tREASON")
	for _, c := range deployer.Colors {
		cs := st.Colors[c]
		role := "standby"
		switch {
		case c == st.Active:
			role = "active"
		case !cs.Deployed:
			role = "absent"
		}
		if c == st.LastGood && c != st.Active {
			role += ",last-good"
		}
		since := "-"
		if !cs.ActiveSince.IsZero() {
			since = cs.ActiveSince.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", c, role, dash(cs.Version), cs.Ready, cs.Desired, dash(cs.Rollout), dash(cs.Image), since, dash(cs.ActiveReason))
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
