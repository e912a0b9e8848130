package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/remla/tagger/deployer"
)

// printPlan prints a dry run: the Helm changes as a diff against the live
// release, the gates, the traffic move and the records it would write.
func printPlan(w io.Writer, p *deployer.Plan) {
	fmt.Fprintf(w, "dry run: %s (nothing changed)\n", p.Operation)
	for _, r := range p.Releases {
		rev := "no live revision"
		if r.Revision > 0 {
			rev = fmt.Sprintf("live revision %d", r.Revision)
		}
		if len(r.Objects) == 0 {
			fmt.Fprintf(w, "helm %s %s (%s): no change to its manifests\n", r.Action, r.Release, rev)
			continue
		}
		fmt.Fprintf(w, "helm %s %s (%s): %s\n", r.Action, r.Release, rev, strings.Join(r.Objects, ", "))
		fmt.Fprint(w, r.Diff)
	}
	if len(p.Gates) > 0 {
		fmt.Fprintln(w, "gates, before traffic moves:")
		for _, g := range p.Gates {
			fmt.Fprintf(w, "  - %s\n", g)
		}
	}
	if p.Traffic != "" {
		fmt.Fprintf(w, "traffic: %s\n", p.Traffic)
	}
	if len(p.Records) > 0 {
		fmt.Fprintln(w, "would record (history, Kubernetes Event, notification):")
		for _, r := range p.Records {
			fmt.Fprintf(w, "  - %s %s %s: %s\n", r.Kind(), r.Color, dash(r.Version), r.Reason)
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}
