package cluster

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/proc"
)

// helloTimeout bounds the wait for a connected backend's hello line.
const helloTimeout = 5 * time.Second

// Connect starts a backend (a regular connection: BackendStartup) and
// returns the harness's handle on it: the postmaster starts a process in
// role [RoleBackend], which attaches to the segment, connects to the
// harness's socket and says hello. While a crash restart is under way the
// postmaster refuses connections ([ErrNotAccepting]), and a backend
// started just before one begins dies before it says hello
// ([errNoHello]); Connect then tries again until ctx ends. It blocks until the backend has said hello, or ctx
// ends (or DefaultTimeout passes, if ctx has no deadline).
func (c *Cluster) Connect(ctx context.Context) (*Backend, error) {
	until := deadline(ctx, DefaultTimeout)
	ctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	for {
		b, err := c.connect(ctx)
		if !errors.Is(err, ErrNotAccepting) && !errors.Is(err, errNoHello) {
			return b, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: connect: %w (%w)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// errNoHello: the backend process exited before it said hello.
var errNoHello = errors.New("cluster: backend exited before it said hello")

// connect is one attempt of Connect.
func (c *Cluster) connect(ctx context.Context) (*Backend, error) {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil, errStopped
	}
	c.nextID++
	id := "b" + strconv.Itoa(c.nextID)
	ch := make(chan *Backend, 1)
	c.waiters[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, id)
		c.mu.Unlock()
		select { // a hello that came too late
		case b := <-ch:
			b.conn.Close()
		default:
		}
	}()
	rep, err := c.ctl.call(ctx, pmdriver.ControlRequest{Op: pmdriver.OpStartBackend, ID: id})
	if err != nil {
		return nil, err
	}
	alive := time.NewTicker(10 * time.Millisecond)
	defer alive.Stop()
	for {
		select {
		case b := <-ch:
			return c.adopt(b, id, rep.Pid)
		case <-alive.C:
			// A backend that dies before its hello (SIGQUIT in a crash
			// restart, a failed attach) would leave this wait to ctx.
			if proc.Gone(rep.Pid) {
				return nil, fmt.Errorf("%w (backend %s, pid %d)", errNoHello, id, rep.Pid)
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: connect: backend %s (pid %d) did not say hello: %w", id, rep.Pid, ctx.Err())
		}
	}
}

// adopt checks that the backend that said hello is the one the
// postmaster started, and takes it on.
func (c *Cluster) adopt(b *Backend, id string, pid int) (*Backend, error) {
	if b.pid != pid {
		b.conn.Close()
		return nil, fmt.Errorf("%w: backend %s says it is pid %d, the postmaster started pid %d",
			ErrProtocol, id, b.pid, pid)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		b.conn.Close()
		return nil, errStopped
	}
	c.backends[b] = true
	return b, nil
}

// accept takes the backends' connections until the listener closes.
func (c *Cluster) accept() {
	defer c.acceptWG.Done()
	for {
		conn, err := c.ln.AcceptUnix()
		if err != nil {
			return
		}
		c.mu.Lock()
		if c.stopped {
			c.mu.Unlock()
			conn.Close()
			continue
		}
		c.handshakes[conn] = true
		c.acceptWG.Add(1)
		c.mu.Unlock()
		go c.hello(conn)
	}
}

// hello reads a backend's hello line and hands the connection to the
// Connect waiting for it, or closes it.
func (c *Cluster) hello(conn *net.UnixConn) {
	defer c.acceptWG.Done()
	conn.SetReadDeadline(time.Now().Add(helloTimeout))
	rd := bufio.NewReader(conn)
	line, err := rd.ReadBytes('\n')
	var h helloLine
	if err == nil {
		err = json.Unmarshal(line, &h)
	}
	conn.SetReadDeadline(time.Time{})
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.handshakes, conn)
	ch, ok := c.waiters[h.Hello.ID]
	if err != nil || !ok || c.stopped {
		conn.Close()
		return
	}
	delete(c.waiters, h.Hello.ID)
	ch <- &Backend{c: c, id: h.Hello.ID, pid: h.Hello.Pid, conn: conn, rd: rd}
}
