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
		Short: "List the traffic switches, newest first",
		Long: `history lists every recorded switch of traffic (the last 100 by default,
see historyLimit in remla.yaml), newest first: when, from, to, why and who
(operator:<user>@<host> or alert:<alertname>).`,
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

func printHistory(w io.Writer, output string, h []deployer.SwitchRecord) error {
	if h == nil {
		h = []deployer.SwitchRecord{}
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
	fmt.Fprintln(tw, "TIME\tFROM\tTO\tBY\tREASON\tINCIDENT")
	for _, r := range h {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Time.Format(time.RFC3339), orNone(r.From), r.To, dash(r.By), dash(r.Reason), dash(r.Incident))
	}
	return tw.Flush()
}
