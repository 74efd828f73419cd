package linearizability

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// WriteHTML writes porcupine's interactive visualization of info (from a
// [Verdict], or from porcupine.CheckOperationsVerbose with model) to
// path: the operations of each partition on one row per client, the
// longest partial linearizations with the state after each step
// (model's DescribeState), and, for a violation, where they get stuck.
// Hovering an operation shows its process.
//
// h, if not nil, adds annotations on a "crash" row: a mark at the call of
// every operation cut short (its output is unknown), so the crash is easy
// to find.
func WriteHTML(path string, model porcupine.Model, h History, info porcupine.LinearizationInfo) error {
	var notes []porcupine.Annotation
	for _, op := range h {
		if op.Output.Unknown {
			notes = append(notes, porcupine.Annotation{
				Tag:         "crash",
				Start:       op.Call.time(),
				Description: "cut short",
				Details:     op.String(),
			})
		}
	}
	if len(notes) > 0 {
		info.AddAnnotations(notes)
	}
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return fmt.Errorf("linearizability: write %s: %w", path, err)
	}
	return nil
}

// WriteHTML writes the visualization of v's violation (or undecided
// window) to path, as [WriteHTML] does; h, the checked history, may be
// nil. Only the operations of h called within the window v shows are
// annotated. It fails if v kept no linearization info.
func (v *Verdict) WriteHTML(path string, h History) error {
	if v.Info == nil {
		return fmt.Errorf("linearizability: %s check (%v) kept nothing to visualize", v.Check, v.Result)
	}
	if v.span != [2]int64{} {
		var in History
		for _, op := range h {
			if t := op.Call.time(); t >= v.span[0] && t <= v.span[1] {
				in = append(in, op)
			}
		}
		h = in
	}
	return WriteHTML(path, v.Model, h, *v.Info)
}
