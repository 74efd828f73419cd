package proptest

import (
	"fmt"
	"strings"
	"sync"

	"pgregory.net/rapid"
)

// Recorder is a [rapid.TB] that records instead of failing: the stand-in
// *testing.T that lets a test run [rapid.Check] on a property it expects
// to fail and then assert that rapid found a counterexample, without
// failing itself.
//
// rapid.Check reports through the TB it is given: Errorf with the
// shrunk failure and the command that reproduces it, then Logf with the
// draws and log lines of the minimal failing case, then FailNow. Recorder
// keeps all of it. Its Name decides where rapid looks for and writes fail
// files (testdata/rapid/<Name>/). It is safe for concurrent use.
type Recorder struct {
	name string

	mu     sync.Mutex
	failed bool
	errors []string
	logs   []string
}

var _ rapid.TB = (*Recorder)(nil)

// NewRecorder returns a Recorder that rapid knows as name.
func NewRecorder(name string) *Recorder { return &Recorder{name: name} }

// Helper does nothing.
func (r *Recorder) Helper() {}

// Name returns the name given to [NewRecorder].
func (r *Recorder) Name() string { return r.name }

// Logf records a log line.
func (r *Recorder) Logf(format string, args ...any) { r.log(fmt.Sprintf(format, args...)) }

// Log records a log line.
func (r *Recorder) Log(args ...any) { r.log(fmt.Sprint(args...)) }

// Skipf records a log line. rapid.Check never skips its TB.
func (r *Recorder) Skipf(format string, args ...any) { r.log("skip: " + fmt.Sprintf(format, args...)) }

// Skip records a log line. rapid.Check never skips its TB.
func (r *Recorder) Skip(args ...any) { r.log("skip: " + fmt.Sprint(args...)) }

// SkipNow does nothing. rapid.Check never skips its TB.
func (r *Recorder) SkipNow() {}

// Errorf records a failure.
func (r *Recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }

// Error records a failure.
func (r *Recorder) Error(args ...any) { r.fail(fmt.Sprint(args...)) }

// Fatalf records a failure and returns (it does not stop the goroutine).
func (r *Recorder) Fatalf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }

// Fatal records a failure and returns.
func (r *Recorder) Fatal(args ...any) { r.fail(fmt.Sprint(args...)) }

// FailNow marks the recorder failed and returns: rapid calls it last, after
// reporting.
func (r *Recorder) FailNow() { r.Fail() }

// Fail marks the recorder failed.
func (r *Recorder) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}

// Failed reports whether a failure was recorded.
func (r *Recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Errors returns the failure messages, in order.
func (r *Recorder) Errors() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

// Logs returns the log lines, in order.
func (r *Recorder) Logs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.logs...)
}

// Report returns the failure messages followed by the log lines of the
// failing case: what rapid would have printed for a failing test.
func (r *Recorder) Report() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, e := range r.errors {
		b.WriteString(e)
		b.WriteByte('\n')
	}
	for _, l := range r.logs {
		b.WriteString("    ")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

func (r *Recorder) fail(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	r.errors = append(r.errors, msg)
}

func (r *Recorder) log(msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, msg)
}

// Falsify runs [rapid.Check] on prop with a fresh [Recorder] named name
// and returns the recorder: Failed reports whether rapid found (and
// shrank) a counterexample, and Report shows it. The calling test does not
// fail either way. rapid's command-line flags apply as usual (checks,
// seed, fail files under testdata/rapid/<name>/).
func Falsify(name string, prop func(*rapid.T)) *Recorder {
	r := NewRecorder(name)
	rapid.Check(r, prop)
	return r
}
