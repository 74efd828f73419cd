package postmaster

import (
	"fmt"
	"strings"
	"time"

	"bgwmodel/impl/bgworker"
)

// RecordKind names an entry of the postmaster's log.
type RecordKind uint8

// The records. Those marked "shared" record one operation on shared memory
// and carry its Call and Return stamps around it; the others touch no
// shared memory and are stamped at the moment they happen.
const (
	// RecordInit: BackgroundWorkerShmemInit at start (shared). InUse lists
	// the slots holding static workers; Epoch is 0.
	RecordInit RecordKind = iota + 1
	// RecordStateReached: the cluster reached start state State
	// (PostmasterStateMachine's pmState changes that bgworker_should_start_now
	// reads).
	RecordStateReached
	// RecordAdopt: BackgroundWorkerStateChange adopted the worker in Slot
	// (shared: the stamps span the whole scan). Notify is the notify pid
	// kept, 0 if none was asked for or it was dropped (see
	// RecordDropNotify).
	RecordAdopt
	// RecordReject: BackgroundWorkerStateChange found Slot in use with a
	// worker that fails the sanity check and freed it (shared: the stamps
	// span the whole scan; a checker reads it as a Forget). Notify is the
	// registrant, notified next.
	RecordReject
	// RecordDropNotify: BackgroundWorkerStateChange dropped notify pid Pid of Slot
	// because it names no live backend (PostmasterMarkPIDForWorkerNotify
	// failed). Stamped like the scan.
	RecordDropNotify
	// RecordCorrupt: BackgroundWorkerStateChange found total_slots
	// corrupt and skipped the scan (shared). Detail says what it read.
	RecordCorrupt
	// RecordSpawn: the core asked for a process for Slot's worker
	// (maybe_start_bgworker calling do_start_bgworker).
	RecordSpawn
	// RecordLaunch: ReportBackgroundWorkerPID published Pid (> 0) in Slot
	// (shared).
	RecordLaunch
	// RecordLateSpawn: a spawn succeeded after a crash restart began; the
	// child Pid gets SIGQUIT and is not reported in shared memory.
	RecordLateSpawn
	// RecordSpawnFailed: the spawn for Slot failed (Detail). Decision is
	// what follows (bgworker.DecideSpawnFailure), or 0 with flaw
	// spawn-failure-as-start (retried at once).
	RecordSpawnFailed
	// RecordExited: Slot's worker Pid exited with Exit; Decision (and Delay)
	// is bgworker.DecideRestart's verdict. During a crash restart or a
	// shutdown the worker is only reaped; Detail says so.
	RecordExited
	// RecordReportStopped: ReportBackgroundWorkerPID wrote pid 0 in Slot
	// (shared). Notify is the registrant, if any.
	RecordReportStopped
	// RecordForget: ForgetBackgroundWorker freed Slot (shared). Notify is
	// the registrant; Detail says why and whether it is notified.
	RecordForget
	// RecordNotify: SIGUSR1 sent to Notify, a live backend, for Slot;
	// Reason says why.
	RecordNotify
	// RecordCrashRestart: a crash restart began; Detail names the child
	// and its exit. A bad exit while one is under way only shows in its
	// RecordExited (Decision CrashRestart) or RecordBackendExited.
	RecordCrashRestart
	// RecordReinit: after a crash, BackgroundWorkerShmemInit rebuilt
	// shared memory from the private list (shared). InUse lists the slots
	// in use; Epoch is the new epoch.
	RecordReinit
	// RecordBackendStarted: Pid became a live backend.
	RecordBackendStarted
	// RecordBackendExited: the live backend Pid exited with Exit; it is
	// never notified again.
	RecordBackendExited
	// RecordShutdown: SIGTERM received; no worker starts from now on.
	RecordShutdown
	// RecordShutdownDone: every worker has exited; the postmaster exits.
	RecordShutdownDone
	// RecordIgnored: an event naming nothing the core knows (an unknown
	// pid or spawn token, a duplicate backend); Detail says which.
	RecordIgnored
	// RecordDeathPipeClosed: the OS loop is about to close the
	// postmaster-death pipe, after which every child sees the postmaster
	// as dead (WL_POSTMASTER_DEATH), though the process lives on while it
	// drains them. Stamped just before the close, so a checker can place
	// the postmaster's death no later than that. Written by pmdriver.Run, not by
	// the core.
	RecordDeathPipeClosed
)

var recordNames = [...]string{
	RecordInit: "init", RecordStateReached: "state-reached", RecordAdopt: "adopt",
	RecordReject: "reject", RecordDropNotify: "drop-notify", RecordCorrupt: "corrupt",
	RecordSpawn: "spawn", RecordLaunch: "launch", RecordLateSpawn: "late-spawn",
	RecordSpawnFailed: "spawn-failed", RecordExited: "exited", RecordReportStopped: "report-stopped",
	RecordForget: "forget", RecordNotify: "notify", RecordCrashRestart: "crash-restart",
	RecordReinit: "reinit", RecordBackendStarted: "backend-started", RecordBackendExited: "backend-exited",
	RecordShutdown: "shutdown", RecordShutdownDone: "shutdown-done", RecordIgnored: "ignored",
	RecordDeathPipeClosed: "death-pipe-closed",
}

// String returns the record kind's name, such as "report-stopped".
func (k RecordKind) String() string {
	if int(k) < len(recordNames) && recordNames[k] != "" {
		return recordNames[k]
	}
	return fmt.Sprintf("RecordKind(%d)", uint8(k))
}

// NotifyReason says why a registrant was sent SIGUSR1.
type NotifyReason uint8

// The reasons of [RecordNotify].
const (
	// NotifyLaunched: its worker started (ReportBackgroundWorkerPID, pid > 0).
	NotifyLaunched NotifyReason = iota + 1
	// NotifyStopped: its worker exited (ReportBackgroundWorkerPID, pid 0).
	NotifyStopped
	// NotifyForgotten: its worker's slot was freed (ForgetBackgroundWorker).
	NotifyForgotten
	// NotifyRejected: its registration failed the postmaster's sanity
	// check and the slot was freed.
	NotifyRejected
)

// String returns the reason's name, such as "forgotten".
func (r NotifyReason) String() string {
	switch r {
	case NotifyLaunched:
		return "launched"
	case NotifyStopped:
		return "stopped"
	case NotifyForgotten:
		return "forgotten"
	case NotifyRejected:
		return "rejected"
	}
	return fmt.Sprintf("NotifyReason(%d)", uint8(r))
}

// Record is one entry of the postmaster's log, what a policy validator and
// a linearizability checker read. Only the fields its Kind documents are
// meaningful; Slot is -1 when the record names no slot.
type Record struct {
	// Kind says what the record is about.
	Kind RecordKind
	// Now is the core's time when the record was made.
	Now time.Duration
	// Call and Return are [Config.Stamp] readings: immediately before the
	// first and after the last shared-memory access of the record's
	// operation, or both at the moment of a record that touches none. Zero
	// without Config.Stamp.
	Call, Return uint64
	// Epoch is the number of crash re-initializations so far.
	Epoch uint64
	// Slot is the worker's slot, or -1.
	Slot int
	// Pid is the process the record is about, or 0.
	Pid int32
	// Name is the worker's bgw_name.
	Name string
	// RestartTime is the worker's bgw_restart_time.
	RestartTime int32
	// Flags is the worker's bgw_flags (on records that name a worker), so
	// that a validator can apply the restart rule itself.
	Flags bgworker.Flags
	// Exit is how the process ended (RecordExited, RecordBackendExited).
	Exit bgworker.ExitStatus
	// Decision is what happens after an exit or a failed spawn.
	Decision bgworker.RestartAction
	// Delay is the restart delay of a RestartAfter decision.
	Delay time.Duration
	// Notify is the registrant (bgw_notify_pid) concerned, or 0.
	Notify int32
	// Reason is why Notify is signalled (RecordNotify).
	Reason NotifyReason
	// State is the start state reached (RecordStateReached).
	State bgworker.StartTime
	// InUse lists the slots in use after BackgroundWorkerShmemInit
	// (RecordInit, RecordReinit).
	InUse []int
	// Detail is a human-readable explanation.
	Detail string
}

// String returns a one-line description for logs and test failures.
func (r Record) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v %v e%d", r.Now, r.Kind, r.Epoch)
	if r.Slot >= 0 {
		fmt.Fprintf(&b, " s%d", r.Slot)
	}
	if r.Name != "" {
		fmt.Fprintf(&b, " %q", r.Name)
	}
	if r.Pid != 0 {
		fmt.Fprintf(&b, " pid=%d", r.Pid)
	}
	switch r.Kind {
	case RecordExited, RecordBackendExited:
		fmt.Fprintf(&b, " %v", r.Exit)
	case RecordStateReached:
		fmt.Fprintf(&b, " %v", r.State)
	case RecordInit, RecordReinit:
		fmt.Fprintf(&b, " in_use=%v", r.InUse)
	}
	if r.Decision != 0 {
		fmt.Fprintf(&b, " %v", r.Decision)
		if r.Decision == bgworker.RestartAfter {
			fmt.Fprintf(&b, "(%v)", r.Delay)
		}
	}
	if r.Notify != 0 {
		fmt.Fprintf(&b, " notify=%d", r.Notify)
	}
	if r.Reason != 0 {
		fmt.Fprintf(&b, " (%v)", r.Reason)
	}
	if r.Call != 0 || r.Return != 0 {
		fmt.Fprintf(&b, " [%d,%d]", r.Call, r.Return)
	}
	if r.Detail != "" {
		fmt.Fprintf(&b, ": %s", r.Detail)
	}
	return b.String()
}
