package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"bgwmodel/impl/flaw"
)

func runFlaws(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("flaws", "flaws [-json]", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per flaw")
	if code := parseFlags(fs, args, false); code >= 0 {
		return code
	}
	entries := flaw.Catalogue()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, e := range entries {
			enc.Encode(struct {
				Name     string `json:"name"`
				Seed     string `json:"seed"`
				Fixed    string `json:"fixed"`
				Shows    string `json:"shows"`
				Weak     bool   `json:"weak_memory"`
				CaughtBy string `json:"caught_by"`
			}{e.Name, e.Seed, e.Fixed, e.Shows, e.Weak, e.CaughtBy})
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAW\tSEED BEHAVIOUR\tFIXED UPSTREAM\tCAUGHT BY")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, e.Seed, e.Fixed, e.CaughtBy)
	}
	tw.Flush()
	fmt.Fprintln(stdout, "\nhow each shows:")
	for _, e := range entries {
		fmt.Fprintf(stdout, "  %-24s %s\n", e.Name, e.Shows)
	}
	return exitOK
}
