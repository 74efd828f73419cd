package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/flaw"
	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem"
	"bgwmodel/impl/shmem/memfd"
	"bgwmodel/impl/worker"
)

// Default bounds on the harness's waits.
const (
	// DefaultTimeout bounds a call whose context has no deadline
	// (Start, Connect, a backend request, a control request).
	DefaultTimeout = 30 * time.Second
	// DefaultStopTimeout bounds Stop's wait for an orderly shutdown when
	// its context has no deadline.
	DefaultStopTimeout = 20 * time.Second
	// killGrace bounds the wait after the last-resort SIGKILLs.
	killGrace = 5 * time.Second
)

// Files in [Config.Dir].
const (
	// RecordsFile is the postmaster's record log (JSON lines).
	RecordsFile = "records.jsonl"
	// ServerLogFile receives the standard output and error of every
	// process of the cluster: the server log.
	ServerLogFile = "server.log"
	// ConfigFile is the configuration file Start writes for the
	// postmaster (unless [Config.ConfigFile] names one).
	ConfigFile = "postmaster.json"
)

// Config configures a cluster.
type Config struct {
	// MaxWorkers is max_worker_processes; 0 means
	// pmdriver.DefaultMaxWorkers.
	MaxWorkers int
	// Static are the static workers (shared_preload_libraries'
	// RegisterBackgroundWorker calls), in slots 0.. in order.
	Static []bgworker.Worker
	// ConsistentDelay and RecoveryDelay are how long after PostmasterStart
	// the cluster reaches ConsistentState, and then RecoveryFinished.
	ConsistentDelay, RecoveryDelay time.Duration
	// Flaws selects seed defects to reproduce, in the postmaster and in
	// the backends.
	Flaws flaw.Set
	// SegmentID names the segment in handles; 0 picks a random one.
	SegmentID uint64
	// ConfigFile, if set, is a configuration file for the postmaster to
	// read (see pmdriver.ParseConfig) instead of one written from the
	// fields above, which are then ignored.
	ConfigFile string
	// Dir receives the record log, the server log and the configuration
	// file. "" means a private temporary directory that Stop removes
	// (after reading the records, which Records still returns).
	Dir string
	// Registry, if set, is checked by Start for the static workers'
	// entry points. The cluster's processes use the registry given to
	// [Main] in their own process.
	Registry *worker.Registry
	// Clock, if set, is the region holding the logical clock's word, at
	// ClockOffset: the stress harness passes its own segment so that its
	// histories and the postmaster's records share one clock. Nil means a
	// private 8-byte region. The caller keeps ownership.
	Clock *memfd.Region
	// ClockOffset is the clock word's offset in Clock (8-byte aligned).
	ClockOffset shmem.Offset
	// RemoveDirIfOrphaned lets the supervisor remove Dir, with everything
	// in it, if the harness dies without stopping the cluster (killed by
	// a signal, crashed, or exited without Stop): as it always removes
	// what Start itself made, the socket directory and Dir when it was "".
	// A Dir holding a file named [KeepFile] at that moment is kept
	// whatever this says. Without it the supervisor never removes a Dir
	// the caller gave; Stop never does either way.
	RemoveDirIfOrphaned bool
	// Noise is race-widening noise in the postmaster and the backends
	// (see [Noise]); the zero value is none. Start refuses one that
	// [Noise.Validate] refuses. It applies with ConfigFile too.
	Noise Noise
}

// Cluster is a running cluster, seen from the program that started it
// (the harness): a supervisor process, its postmaster, the postmaster's
// backends and workers. Its methods are safe for concurrent use.
type Cluster struct {
	// Set by Start, read-only afterwards.
	dir, sockDir         string
	ownDir               bool
	recordsPath, logPath string
	supPid, pmPid        int
	segmentID            uint64
	maxWorkers           int
	clockRegion          *memfd.Region
	ownClock             bool
	supDone              chan proc.Exited // receives the supervisor's exit once
	ln                   *net.UnixListener

	clockMu sync.RWMutex
	clock   *Clock // nil once an own clock region is unmapped (Stop)

	acceptWG sync.WaitGroup // the accept loop and the hello handshakes
	ctl      control        // has its own lock

	mu         sync.Mutex // guards the fields below
	nextID     int
	waiters    map[string]chan *Backend // Connects waiting for a hello, by backend id
	backends   map[*Backend]bool        // open Backends, closed by Stop
	handshakes map[net.Conn]bool        // connections still to say hello
	killed     bool                     // Kill was called
	stopped    bool                     // Stop has released everything
	supExit    *proc.Exited             // the supervisor's exit, once seen
	cached     []postmaster.Record      // the records, read at Stop if Dir was Start's

	stopOnce sync.Once
	stopErr  error
}

// ExitError reports that the postmaster exited when it should not have:
// before it was ready (a bad configuration file: Code is [ExitBadConfig])
// or, seen by Stop, with a failure.
type ExitError struct {
	// Code is the postmaster's exit code, or 128+N if signal N killed it.
	Code int
	// Message is the last line of the server log: the postmaster's
	// complaint.
	Message string
}

// Error returns "cluster: postmaster exited with code N: MESSAGE".
func (e *ExitError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("cluster: postmaster exited with code %d", e.Code)
	}
	return fmt.Sprintf("cluster: postmaster exited with code %d: %s", e.Code, e.Message)
}

// deadline returns ctx's deadline, or now+def.
func deadline(ctx context.Context, def time.Duration) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d
	}
	return time.Now().Add(def)
}

// Start starts a cluster (pg_ctl start): it writes the configuration file,
// starts the supervisor, which starts the postmaster (both re-executions
// of this binary, in roles [RoleSupervisor] and [RolePostmaster]), and
// returns once the postmaster is up and has asked for its static workers.
// A configuration the postmaster refuses is an error naming file and field:
// from Start itself for the fields of cfg, or an [*ExitError] with code
// [ExitBadConfig] for cfg.ConfigFile. The program must have called [Main]
// first: a re-executed process that reaches Start exits at once, and the
// harness's Start returns [ErrMainNotCalled]. The program must not reap
// children of its own with wait4(-1) (proc.Reap) while the cluster runs:
// that would take the supervisor's exit, which Stop waits for by pid. It
// blocks until the postmaster is ready, it fails, or ctx ends (or
// DefaultTimeout passes, if ctx has no deadline).
func Start(ctx context.Context, cfg Config) (_ *Cluster, err error) {
	refuseReexecuted()
	if err := cfg.Noise.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{waiters: map[string]chan *Backend{}, backends: map[*Backend]bool{},
		handshakes: map[net.Conn]bool{}, supDone: make(chan proc.Exited, 1)}
	var cleanup []func()
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()
	c.dir = cfg.Dir
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "bgw-cluster-"); err != nil {
			return nil, fmt.Errorf("cluster: start: %w", err)
		}
		c.ownDir = true
		cleanup = append(cleanup, func() { os.RemoveAll(c.dir) })
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: start: %w", err)
	}
	configPath := cfg.ConfigFile
	if configPath == "" {
		if configPath, err = writeConfig(c.dir, &cfg); err != nil {
			return nil, err
		}
	}
	// The socket lives in a private directory (mode 0700) with a short
	// path: sun_path holds 108 bytes.
	if c.sockDir, err = os.MkdirTemp("", "bgw-"); err != nil {
		return nil, fmt.Errorf("cluster: start: %w", err)
	}
	cleanup = append(cleanup, func() { os.RemoveAll(c.sockDir) })
	sock := filepath.Join(c.sockDir, "backend.sock")
	if c.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"}); err != nil {
		return nil, fmt.Errorf("cluster: start: %w", err)
	}
	cleanup = append(cleanup, func() { c.ln.Close(); c.acceptWG.Wait() })
	c.acceptWG.Add(1)
	go c.accept()

	c.clockRegion = cfg.Clock
	if c.clockRegion == nil {
		if c.clockRegion, err = memfd.Create("bgw-clock", 8); err != nil {
			return nil, fmt.Errorf("cluster: start: %w", err)
		}
		c.ownClock = true
		cleanup = append(cleanup, func() { c.clockRegion.Close() })
	}
	if c.clock, err = NewClock(c.clockRegion, cfg.ClockOffset); err != nil {
		return nil, err
	}
	orphanDirs, err := c.orphanDirs(&cfg)
	if err != nil {
		return nil, err
	}
	if err := c.startSupervisor(configPath, sock, cfg.ClockOffset, cfg.Noise, orphanDirs); err != nil {
		return nil, err
	}
	cleanup = append(cleanup, func() { c.ctl.close() })
	ready, err := c.ctl.readReady(ctx)
	if err != nil {
		return nil, c.startFailed(err)
	}
	c.pmPid, c.segmentID, c.maxWorkers = ready.Pid, ready.SegmentID, ready.MaxWorkers
	return c, nil
}

// writeConfig checks cfg and writes it as the postmaster's configuration
// file in dir.
func writeConfig(dir string, cfg *Config) (string, error) {
	pc := postmaster.Config{MaxWorkers: cfg.MaxWorkers, Static: cfg.Static, ConsistentDelay: cfg.ConsistentDelay,
		RecoveryDelay: cfg.RecoveryDelay, Flaws: cfg.Flaws, SegmentID: cfg.SegmentID}
	if pc.MaxWorkers == 0 {
		pc.MaxWorkers = pmdriver.DefaultMaxWorkers
	}
	for pc.SegmentID == 0 {
		var b [8]byte
		rand.Read(b[:])
		pc.SegmentID = binary.LittleEndian.Uint64(b[:])
	}
	data, err := pmdriver.MarshalConfig(pc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, ConfigFile)
	// Refuse here what the postmaster would refuse, with the same message.
	parsed, err := pmdriver.ParseConfig(path, data)
	if err != nil {
		return "", err
	}
	if cfg.Registry != nil {
		for i := range parsed.Static {
			if err := cfg.Registry.Check(&parsed.Static[i]); err != nil {
				return "", &pmdriver.ConfigError{File: path,
					Field: fmt.Sprintf("static_workers[%d].%s", i, bgworker.FieldFunctionName), Err: err}
			}
		}
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("cluster: start: %w", err)
	}
	return path, nil
}

// startSupervisor starts the supervisor with the control pipes, the record
// log and the clock, and a goroutine that waits for it. noise is passed
// on to the postmaster; orphanDirs are the directories the supervisor
// removes if the harness dies.
func (c *Cluster) startSupervisor(configPath, sock string, clockOff shmem.Offset, noise Noise, orphanDirs []string) error {
	orphanVar, err := orphanEnv(orphanDirs)
	if err != nil {
		return err
	}
	noiseVar, err := noiseEnv(noise)
	if err != nil {
		return err
	}
	c.recordsPath = filepath.Join(c.dir, RecordsFile)
	c.logPath = filepath.Join(c.dir, ServerLogFile)
	const mode = os.O_WRONLY | os.O_CREATE | os.O_TRUNC | os.O_APPEND
	records, err := os.OpenFile(c.recordsPath, mode, 0o600)
	if err != nil {
		return fmt.Errorf("cluster: start: %w", err)
	}
	defer records.Close()
	serverLog, err := os.OpenFile(c.logPath, mode, 0o600)
	if err != nil {
		return fmt.Errorf("cluster: start: %w", err)
	}
	defer serverLog.Close()
	reqR, repW, err := c.ctl.open()
	if err != nil {
		return err
	}
	defer reqR.Close()
	defer repW.Close()
	pid, err := (&proc.Command{
		Role: RoleSupervisor,
		Env: append([]string{EnvConfig + "=" + configPath, EnvSocket + "=" + sock,
			EnvClockOffset + "=" + strconv.FormatUint(uint64(clockOff), 10), orphanVar}, noiseVar...),
		Files:  []*os.File{reqR, repW, records, c.clockRegion.File()},
		Stdout: serverLog, Stderr: serverLog,
		// If the harness dies without stopping the cluster (kill -9, a
		// crash), the supervisor kills everything below it (a stopped
		// postmaster would not see its control pipe close) and removes
		// orphanDirs.
		ParentDeathSignal: syscall.SIGTERM,
	}).Start()
	if err != nil {
		c.ctl.close()
		return fmt.Errorf("cluster: start: %w", err)
	}
	c.supPid = pid
	go func() {
		e, err := proc.WaitPid(pid)
		if err != nil {
			e = proc.Exited{Pid: pid, Status: bgworker.ExitStatus{Code: -1}}
		}
		c.supDone <- e
	}()
	return nil
}

// startFailed cleans up after a postmaster that did not become ready and
// explains why.
func (c *Cluster) startFailed(cause error) error {
	e, ok := c.waitSupervisor(time.Now().Add(killGrace))
	if !ok {
		c.forceKill()
		return fmt.Errorf("cluster: start: %w", cause)
	}
	code, msg := exitCode(e), lastLine(c.logPath)
	if code == exitMainNotCalled && msg == ErrMainNotCalled.Error() {
		return ErrMainNotCalled
	}
	return &ExitError{Code: code, Message: msg}
}

// exitCode is the supervisor's exit code (the postmaster's).
func exitCode(e proc.Exited) int {
	if e.Status.Signaled {
		return 128 + int(e.Signal)
	}
	return e.Status.Code
}

// lastLine returns the last non-empty line of the file at path.
func lastLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	return string(bytes.TrimSpace(lines[len(lines)-1]))
}

// errStopped is returned by calls after Stop.
var errStopped = errors.New("cluster: stopped")
