package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"bgwmodel/explore/litmus"
)

func runLitmus(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("litmus", "litmus [-model sc|tso|view] [-json]", stderr)
	model := fs.String("model", "all", "memory model: sc, tso, view or all")
	asJSON := fs.Bool("json", false, `print one JSON object per test and model: {"test": NAME, "model": MODEL, "allowed": BOOL}`)
	if code := parseFlags(fs, args, false); code >= 0 {
		return code
	}
	models, err := parseModels(*model, true)
	if err != nil {
		return badInput(fs, err)
	}
	var results []litmus.Result
	for _, m := range models {
		rs, err := litmus.Run(string(m))
		if err != nil {
			fmt.Fprintf(stderr, "bgw litmus: %s\n", oneLine(trimPackage(err.Error())))
			return exitUsage
		}
		results = append(results, rs...)
	}
	mismatches := 0
	for _, r := range results {
		if !r.Match() {
			mismatches++
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		for _, r := range results {
			enc.Encode(struct {
				Test    string `json:"test"`
				Model   string `json:"model"`
				Allowed bool   `json:"allowed"`
			}{r.Test, string(r.Model), r.Allowed})
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TEST\tMODEL\tVERDICT\tEXPECTED\tEXECUTIONS\tWITNESS")
		for _, r := range results {
			mark := "✓"
			if !r.Match() {
				mark = "✗ " + litmus.Verdict(r.Expected)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", r.Test, r.Model, litmus.Verdict(r.Allowed), mark, r.Executions, r.Witness)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "\n%d verdicts computed by exhaustive exploration, %d differ from the literature\n", len(results), mismatches)
	}
	if mismatches > 0 {
		fmt.Fprintf(stderr, "bgw litmus: %d verdicts differ from the expected ones\n", mismatches)
		return exitViolation
	}
	return exitOK
}
