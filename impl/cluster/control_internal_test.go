package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/proc/proctest"
)

// fakePostmaster is the other end of a control channel, driven by the
// test: it passes on each request it reads, and writes the replies the
// test tells it to.
type fakePostmaster struct {
	ct   *control
	reqs chan pmdriver.ControlRequest // closed at end-of-file
	repW *os.File
}

// newFakePostmaster opens a control channel to a fake postmaster, whose
// pid is this process's: it is running.
func newFakePostmaster(t *testing.T) *fakePostmaster {
	t.Helper()
	f := &fakePostmaster{ct: &control{pid: os.Getpid()}, reqs: make(chan pmdriver.ControlRequest, 16)}
	reqR, repW, err := f.ct.open()
	if err != nil {
		t.Fatal(err)
	}
	f.repW = repW
	go func() {
		defer close(f.reqs)
		rd := bufio.NewReader(reqR)
		for {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				return
			}
			var req pmdriver.ControlRequest
			if json.Unmarshal(line, &req) == nil {
				f.reqs <- req
			}
		}
	}()
	t.Cleanup(func() {
		f.ct.close()
		for range f.reqs { // until the reader has seen end-of-file
		}
		reqR.Close()
		repW.Close()
	})
	return f
}

// request waits for the next request to arrive: the call is then waiting
// for its reply.
func (f *fakePostmaster) request(t *testing.T) pmdriver.ControlRequest {
	t.Helper()
	select {
	case req := <-f.reqs:
		return req
	case <-time.After(10 * time.Second):
		t.Fatal("no request within 10 s")
		return pmdriver.ControlRequest{}
	}
}

// reply writes s, the reply to a request whose N was n, or a part of it.
func (f *fakePostmaster) write(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(f.repW, s); err != nil {
		t.Fatal(err)
	}
}

// replyTo is the fake's reply to a request: its N, as accesses.
func replyTo(n int) string { return fmt.Sprintf(`{"ok":true,"accesses":%d}`+"\n", n) }

// pending is a call running in a goroutine.
type pending struct {
	rep    pmdriver.ControlReply
	err    error
	done   chan struct{}
	cancel context.CancelFunc
}

// start makes a call with request N n in a goroutine, under a context
// with the given timeout (0: none), and waits until the fake has its
// request.
func (f *fakePostmaster) start(t *testing.T, n int, timeout time.Duration) *pending {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(context.Background(), timeout)
	}
	p := &pending{done: make(chan struct{}), cancel: cancel}
	go func() {
		defer close(p.done)
		p.rep, p.err = f.ct.call(ctx, pmdriver.ControlRequest{Op: pmdriver.OpFailSpawns, N: n})
	}()
	if req := f.request(t); req.N != n {
		t.Fatalf("fake got request %+v, want n=%d", req, n)
	}
	return p
}

// wait waits for the call to return.
func (p *pending) wait(t *testing.T) (pmdriver.ControlReply, error) {
	t.Helper()
	select {
	case <-p.done:
		p.cancel()
		return p.rep, p.err
	case <-time.After(10 * time.Second):
		t.Fatal("call did not return within 10 s")
		return pmdriver.ControlReply{}, nil
	}
}

// own makes a call with request N n and a fresh context, answers it with
// the fake, and checks that it got its own reply.
func (f *fakePostmaster) own(t *testing.T, n int) {
	t.Helper()
	p := f.start(t, n, 0)
	f.write(t, replyTo(n))
	rep, err := p.wait(t)
	if err != nil || rep.Accesses != uint64(n) {
		t.Fatalf("call %d: reply %+v, %v; want its own reply (accesses %d)", n, rep, err, n)
	}
}

// TestControlGiveUp: a control call that gives up waiting for its reply
// (cancelled, or its deadline passed, even with half the reply read) fails
// alone: the next call with a fresh context gets its own reply, never the
// late one. End-of-file, on the other hand, is for good.
func TestControlGiveUp(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, f *fakePostmaster)
	}{{"cancelled, late reply", func(t *testing.T, f *fakePostmaster) {
		p := f.start(t, 1, 0)
		p.cancel()
		if _, err := p.wait(t); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled call: %v, want context.Canceled", err)
		}
		f.write(t, replyTo(1)) // the late reply
		f.own(t, 2)
	}}, {"cancelled, reply after the next request", func(t *testing.T, f *fakePostmaster) {
		p := f.start(t, 1, 0)
		p.cancel()
		p.wait(t)
		q := f.start(t, 2, 0)
		f.write(t, replyTo(1)+replyTo(2))
		if rep, err := q.wait(t); err != nil || rep.Accesses != 2 {
			t.Fatalf("call 2: %+v, %v; want its own reply", rep, err)
		}
		f.own(t, 3)
	}}, {"two cancelled", func(t *testing.T, f *fakePostmaster) {
		for n := 1; n <= 2; n++ {
			p := f.start(t, n, 0)
			p.cancel()
			p.wait(t)
		}
		f.write(t, replyTo(1)+replyTo(2))
		f.own(t, 3)
	}}, {"deadline, reply cut mid-line", func(t *testing.T, f *fakePostmaster) {
		p := f.start(t, 1, 300*time.Millisecond)
		half := replyTo(1)[:10]
		f.write(t, half)
		_, err := p.wait(t)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call past its deadline: %v, want context.DeadlineExceeded", err)
		}
		// The fake's pid is this process's: running, or sleeping. The
		// bound is what was left of the 300 ms when the call began.
		want := regexp.MustCompile(fmt.Sprintf(`^cluster: control: the postmaster \(pid %d\) did not answer fail_spawns within (\d+)ms: it is (running|sleeping) \(state [RS]\)$`, os.Getpid()))
		m := want.FindStringSubmatch(err.Error())
		if m == nil {
			t.Fatalf("call past its deadline: %q, want %s", err, want)
		}
		if ms, _ := strconv.Atoi(m[1]); ms < 200 || ms > 300 {
			t.Errorf("call past its deadline: %q: want a bound of at most the 300ms given", err)
		}
		f.write(t, replyTo(1)[len(half):])
		f.own(t, 2)
	}}, {"end-of-file is for good", func(t *testing.T, f *fakePostmaster) {
		p := f.start(t, 1, 0)
		f.repW.Close()
		_, err := p.wait(t)
		if !errors.Is(err, io.EOF) || !strings.Contains(err.Error(), "hung up") {
			t.Fatalf("call at end-of-file: %v", err)
		}
		if _, err2 := f.ct.call(context.Background(), pmdriver.ControlRequest{Op: pmdriver.OpFailSpawns}); err2 != err {
			t.Fatalf("call after end-of-file: %v, want %v", err2, err)
		}
	}}} {
		t.Run(tc.name, func(t *testing.T) {
			proctest.Clean(t)
			tc.run(t, newFakePostmaster(t))
		})
	}
}
