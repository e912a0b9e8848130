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

func newHistoryCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the switches, rollbacks and changes of standing, newest first",
		Long: `history lists the records kept on the active Service (the last 100 by default,
see historyLimit in remla.yaml), newest first: when, what (Deployed,
DeployFailed, Switched, RolledBack, RollbackRefused, Promoted, MarkedFailed,
Undeployed), the color and version it concerns and its standing after it,
where traffic moved, who (operator:<user>@<host>, alert:<alertname>,
alert-actor:<user>@<host>), why, and the alert incident. The same records are
Kubernetes Events on the active Service (kubectl describe service remla).`,
		Example: `  remlactl history
  remlactl history -o json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, st, err := readState(cmd, output)
			if err != nil {
				return err
			}
			return printHistory(cmd.OutOrStdout(), output, st.History)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table, json or yaml")
	return cmd
}

func printHistory(w io.Writer, output string, h []deployer.Record) error {
	if h == nil {
		h = []deployer.Record{}
	}
	switch output {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(h)
	case "yaml":
		b, err := yaml.Marshal(h)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tCOLOR\tVERSION\tSTANDING\tTRAFFIC\tBY\tREASON\tINCIDENT")
	for _, r := range h {
		traffic := "-"
		if r.To != "" {
			traffic = orNone(r.From) + ">" + string(r.To)
		}
		event := string(r.Kind())
		if r.Override {
			event += "(override)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.UTC().Format(time.RFC3339), event, dash(string(r.Color)), dash(r.Version),
			dash(string(r.Standing)), traffic, dash(r.By), dash(r.Reason), dash(r.Incident))
	}
	return tw.Flush()
}
