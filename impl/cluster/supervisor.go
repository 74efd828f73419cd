package cluster

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"bgwmodel/impl/proc"
)

// exitSupervisorSetup is the supervisor's exit code when it cannot start
// the postmaster at all.
const exitSupervisorSetup = 3

// supervisorMain is the supervisor process: the postmaster's parent, as
// pg_ctl's shell is, and the child subreaper of everything below it. It
// starts the postmaster with the files and environment the harness gave
// it, then reaps: the postmaster, and every process orphaned when the
// postmaster dies (which the kernel reparents to the supervisor). It exits
// once the postmaster has exited and no process is left below it, so the
// harness, waiting for the supervisor alone, knows the whole cluster is
// gone. Its exit code is the postmaster's, or 128+N if the postmaster was
// killed by signal N. SIGTERM to the supervisor kills every process below
// it with SIGKILL, and keeps killing the orphans reparented to it until
// none is left: the harness's last resort, and what happens when the
// harness dies (the supervisor's parent-death signal). If the harness has
// died, the supervisor's last act is to remove the directories the
// harness named for that (see removeOrphanDirs).
func supervisorMain() int {
	term := proc.Notify(syscall.SIGTERM)
	defer term.Stop()
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	chld := proc.NotifyChildExit()
	defer chld.Stop()
	if err := proc.SetChildSubreaper(); err != nil {
		fmt.Fprintf(os.Stderr, "FATAL:  supervisor: %v\n", err)
		return exitSupervisorSetup
	}
	n, err := strconv.Atoi(os.Getenv(proc.EnvFiles))
	if err != nil || n < 0 || n > 16 {
		fmt.Fprintf(os.Stderr, "FATAL:  supervisor: %s=%q\n", proc.EnvFiles, os.Getenv(proc.EnvFiles))
		return exitSupervisorSetup
	}
	files := make([]*os.File, 0, n)
	for fd := 3; fd < 3+n; fd++ {
		f, err := proc.OpenInherited(fd, "inherited-"+strconv.Itoa(fd))
		if err != nil {
			fmt.Fprintf(os.Stderr, "FATAL:  supervisor: %v\n", err)
			return exitSupervisorSetup
		}
		files = append(files, f)
	}
	// proc.Spawn passes no BGW_ variable on by itself: forward the
	// cluster's.
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "BGW_CLUSTER_") || strings.HasPrefix(kv, "BGW_CLOCK_") {
			env = append(env, kv)
		}
	}
	pm, err := (&proc.Command{Role: RolePostmaster, Env: env, Files: files}).Start()
	for _, f := range files {
		f.Close()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "FATAL:  supervisor: %v\n", err)
		return exitSupervisorSetup
	}
	code := -1
	killing := false
	poll := time.NewTicker(100 * time.Millisecond) // SIGCHLDs coalesce; look now and then
	defer poll.Stop()
	for {
		if killing {
			// The postmaster's children lead sessions of their own: they
			// are reached only once orphaned and reparented here.
			kids, _ := proc.ChildPids()
			proc.KillAll(kids, syscall.SIGKILL)
		}
		exits, err := proc.Reap()
		if err != nil {
			fmt.Fprintf(os.Stderr, "supervisor: %v\n", err)
		}
		for _, e := range exits {
			if e.Pid != pm {
				continue
			}
			code = e.Status.Code
			if e.Status.Signaled {
				code = 128 + int(e.Signal)
			}
		}
		if code >= 0 {
			if kids, err := proc.ChildPids(); err == nil && len(kids) == 0 {
				if orphaned() {
					removeOrphanDirs()
				}
				return code
			}
		}
		select {
		case <-chld.C():
		case <-poll.C:
		case <-term.C():
			killing = true
		}
	}
}
