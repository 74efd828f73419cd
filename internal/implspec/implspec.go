// Package implspec converts the implementation's values to the
// specification's: workers, handles, statuses, fields, exits and restart
// decisions.
//
// The specification (package spec) is the independent oracle and never
// imports impl, and impl never imports spec; every checker that judges
// impl by spec (the property tests, the explorer's scenarios, the stress
// harness) needs the same field-by-field translation, so it lives here,
// once. Nothing is validated or normalized on the way.
package implspec

import (
	"fmt"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/postmaster"
	"bgwmodel/spec"
)

// fieldNames maps every [bgworker.Field] (the seed's C field names, such
// as "bgw_flags") to the [spec.Field] naming the same worker field. It is
// written out in full rather than derived by trimming the "bgw_" prefix, so
// that a renamed constant on either side is a compile error or a failed
// lookup, never a silent match.
var fieldNames = map[bgworker.Field]spec.Field{
	bgworker.FieldName:         spec.FieldName,
	bgworker.FieldFlags:        spec.FieldFlags,
	bgworker.FieldStartTime:    spec.FieldStartTime,
	bgworker.FieldRestartTime:  spec.FieldRestartTime,
	bgworker.FieldLibraryName:  spec.FieldLibraryName,
	bgworker.FieldFunctionName: spec.FieldFunctionName,
	bgworker.FieldNotifyPid:    spec.FieldNotifyPid,
}

// Field returns the [spec.Field] that f names, and false for a field
// name the specification does not know.
func Field(f bgworker.Field) (spec.Field, bool) {
	sf, ok := fieldNames[f]
	return sf, ok
}

// Worker converts an implementation worker definition to the
// specification's, field by field. Nothing is validated or normalized.
func Worker(w bgworker.Worker) spec.Worker {
	return spec.Worker{
		Name:         w.Name,
		Flags:        spec.Flags(w.Flags),
		StartTime:    spec.StartTime(w.StartTime),
		RestartTime:  w.RestartTime,
		LibraryName:  w.LibraryName,
		FunctionName: w.FunctionName,
		MainArg:      w.MainArg,
		NotifyPid:    w.NotifyPid,
	}
}

// Handle converts an implementation handle {Segment, Epoch, Slot,
// Generation} to the specification's {Slot, Generation, Epoch}. The
// segment has no counterpart: the specification models one segment.
func Handle(h bgworker.Handle) spec.Handle {
	return spec.Handle{Slot: h.Slot, Generation: h.Generation, Epoch: h.Epoch}
}

// Status converts an implementation status to the specification's. It
// returns false for a value that is no BgwHandleStatus (the zero Status,
// for one).
func Status(s bgworker.Status) (spec.Status, bool) {
	switch s {
	case bgworker.Started:
		return spec.Started, true
	case bgworker.NotYetStarted:
		return spec.NotYetStarted, true
	case bgworker.Stopped:
		return spec.Stopped, true
	case bgworker.PostmasterDied:
		return spec.PostmasterDied, true
	}
	return 0, false
}

// Exit converts an implementation exit status to the specification's.
func Exit(e bgworker.ExitStatus) spec.Exit {
	return spec.Exit{Code: e.Code, Signaled: e.Signaled}
}

// Action converts an implementation restart action to the
// specification's. It returns false for a value that is no action.
func Action(a bgworker.RestartAction) (spec.Action, bool) {
	switch a {
	case bgworker.RestartNow:
		return spec.RestartNow, true
	case bgworker.RestartAfter:
		return spec.RestartAfter, true
	case bgworker.Forget:
		return spec.Forget, true
	case bgworker.CrashRestart:
		return spec.CrashRestart, true
	}
	return 0, false
}

// Decision converts an implementation restart decision to the
// specification's, or reports why it cannot.
func Decision(d bgworker.RestartDecision) (spec.Decision, error) {
	a, ok := Action(d.Action)
	if !ok {
		return spec.Decision{}, fmt.Errorf("implspec: restart action %v has no counterpart in spec", d.Action)
	}
	return spec.Decision{Action: a, Delay: d.Delay}, nil
}

// RecordWorker is the part of a worker definition that a postmaster
// record carries (name, flags, restart time): enough for the spec's
// restart rule ([spec.Restart], [spec.SpawnFailed]).
func RecordWorker(r postmaster.Record) spec.Worker {
	return spec.Worker{Name: r.Name, Flags: spec.Flags(r.Flags), RestartTime: r.RestartTime}
}

// Op returns the specification's postmaster operation that a record of
// the postmaster's log stands for, and false for a record that is none:
// RecordLaunch is Launch(slot, pid), RecordReportStopped is Exit(slot),
// RecordForget and RecordReject are Forget(slot) (a rejection frees the
// slot as ForgetBackgroundWorker does), and RecordReinit is Reinit(in
// use). The stamps are the record's; the caller places the operation.
func Op(r postmaster.Record) (spec.Input, bool) {
	switch r.Kind {
	case postmaster.RecordLaunch:
		return spec.Input{Kind: spec.OpLaunch, Slot: r.Slot, Pid: spec.Pid(r.Pid)}, true
	case postmaster.RecordReportStopped:
		return spec.Input{Kind: spec.OpExit, Slot: r.Slot}, true
	case postmaster.RecordForget, postmaster.RecordReject:
		return spec.Input{Kind: spec.OpForget, Slot: r.Slot}, true
	case postmaster.RecordReinit:
		return spec.Input{Kind: spec.OpReinit, InUse: append([]int(nil), r.InUse...)}, true
	}
	return spec.Input{}, false
}
