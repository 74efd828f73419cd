package pmdriver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/shmem/memfd"
)

// runFixture runs Run in the test process with no worker (so it starts
// no process; package cluster tests the loop with real children) and
// gives the test the harness's ends of the control pipes.
type runFixture struct {
	req     *os.File
	replies *bufio.Reader
	log     string
	done    chan error
}

func startRun(t *testing.T, ctx context.Context) *runFixture {
	t.Helper()
	return startRunStamped(t, ctx, nil)
}

// startRunStamped is startRun with the core's logical clock stamp.
func startRunStamped(t *testing.T, ctx context.Context, stamp func() uint64) *runFixture {
	t.Helper()
	seg, err := memfd.Create("run-test", bgworker.ShmemSize(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	logf, err := os.CreateTemp(t.TempDir(), "records")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	reqR, reqW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reqW.Close(); repR.Close(); repW.Close() })
	f := &runFixture{req: reqW, replies: bufio.NewReader(repR), log: logf.Name(), done: make(chan error, 1)}
	go func() {
		f.done <- pmdriver.Run(ctx, pmdriver.RunConfig{
			Config:  postmaster.Config{MaxWorkers: 1, RecoveryDelay: time.Hour, Stamp: stamp},
			Segment: seg, Log: logf, Control: reqR, Replies: repW, Stderr: io.Discard,
		})
	}()
	if rep := f.reply(t); !rep.Ready || rep.Pid != os.Getpid() || rep.MaxWorkers != 1 {
		t.Fatalf("ready line: %+v", rep)
	}
	return f
}

func (f *runFixture) send(t *testing.T, line string) pmdriver.ControlReply {
	t.Helper()
	if _, err := f.req.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
	return f.reply(t)
}

func (f *runFixture) reply(t *testing.T) pmdriver.ControlReply {
	t.Helper()
	line, err := f.replies.ReadBytes('\n')
	var rep pmdriver.ControlReply
	if err == nil {
		err = json.Unmarshal(line, &rep)
	}
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (f *runFixture) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-f.done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return")
	}
	return nil
}

func (f *runFixture) kinds(t *testing.T) string {
	t.Helper()
	recs, err := postmaster.ReadRecords(f.log)
	if err != nil {
		t.Fatal(err)
	}
	var ks []string
	for _, r := range recs {
		ks = append(ks, r.Kind.String())
	}
	return strings.Join(ks, " ")
}

// TestRunControl: the loop answers bad requests without dying, accepts
// fault injection, and shuts down on request, logging every record.
func TestRunControl(t *testing.T) {
	f := startRun(t, context.Background())
	for _, bad := range []string{`nonsense`, `{"op":"dance"}`, `{"op":"start_backend","id":""}`, `{"op":"fail_spawns","n":-1}`, `{"op":"stop_at","n":-2}`} {
		if rep := f.send(t, bad); rep.OK || rep.Code != pmdriver.CodeBadRequest || rep.Error == "" {
			t.Errorf("%s: %+v", bad, rep)
		}
	}
	if rep := f.send(t, `{"op":"fail_spawns","n":2}`); !rep.OK {
		t.Errorf("fail_spawns: %+v", rep)
	}
	if rep := f.send(t, `{"op":"shutdown"}`); !rep.OK {
		t.Errorf("shutdown: %+v", rep)
	}
	if err := f.wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// PostmasterStart and ConsistentState (no delay); RecoveryFinished is an hour away.
	if got, want := f.kinds(t), "init state-reached state-reached shutdown shutdown-done"; got != want {
		t.Errorf("records %q, want %q", got, want)
	}
}

// TestRunDeathPipeClosed: with a clock, the loop stamps the close of the
// postmaster-death pipe, after shutdown-done and before it drains its
// children, so a checker can place the death there.
func TestRunDeathPipeClosed(t *testing.T) {
	var clock atomic.Uint64
	f := startRunStamped(t, context.Background(), func() uint64 { return clock.Add(1) })
	if rep := f.send(t, `{"op":"shutdown"}`); !rep.OK {
		t.Fatalf("shutdown: %+v", rep)
	}
	if err := f.wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := f.kinds(t); !strings.HasSuffix(got, "shutdown shutdown-done death-pipe-closed") {
		t.Fatalf("records %q", got)
	}
	recs, err := postmaster.ReadRecords(f.log)
	if err != nil {
		t.Fatal(err)
	}
	done, closed := recs[len(recs)-2], recs[len(recs)-1]
	if closed.Call == 0 || closed.Call <= done.Return || closed.Return != closed.Call {
		t.Errorf("death-pipe-closed stamped [%d, %d] after shutdown-done's [%d, %d]", closed.Call, closed.Return, done.Call, done.Return)
	}
}

// TestRunControlEOF: the harness going away is a shutdown.
func TestRunControlEOF(t *testing.T) {
	f := startRun(t, context.Background())
	f.req.Close()
	if err := f.wait(t); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := f.kinds(t); !strings.HasSuffix(got, "shutdown shutdown-done") {
		t.Errorf("records %q", got)
	}
}

// TestRunContext: cancelling ctx ends Run with its error.
func TestRunContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	f := startRun(t, ctx)
	cancel()
	if err := f.wait(t); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
}

// TestRunNoSegment: Run refuses a configuration it cannot run.
func TestRunNoSegment(t *testing.T) {
	if err := pmdriver.Run(context.Background(), pmdriver.RunConfig{}); !errors.Is(err, postmaster.ErrConfig) {
		t.Errorf("Run without a segment: %v", err)
	}
}

// TestRunReportsFailure: when the record log cannot be written, Run
// returns the error and has written it to Stderr as a FATAL line first.
func TestRunReportsFailure(t *testing.T) {
	seg, err := memfd.Create("run-test", bgworker.ShmemSize(1))
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	path := filepath.Join(t.TempDir(), "records")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly, err := os.Open(path) // every write fails
	if err != nil {
		t.Fatal(err)
	}
	defer readOnly.Close()
	var stderr bytes.Buffer
	err = pmdriver.Run(context.Background(), pmdriver.RunConfig{
		Config:  postmaster.Config{MaxWorkers: 1},
		Segment: seg, Log: readOnly, Stderr: &stderr,
	})
	if err == nil || !strings.Contains(err.Error(), "record log") {
		t.Fatalf("Run = %v, want a record log error", err)
	}
	if want := "FATAL:  " + err.Error() + "\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}
