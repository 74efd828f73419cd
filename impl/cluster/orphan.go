package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"bgwmodel/impl/proc"
)

// KeepFile is the name of a file that keeps a directory from being
// removed when the harness dies: a directory that the supervisor would
// remove on the harness's death (see [Config.RemoveDirIfOrphaned]) is left
// whole, with everything in it, if it holds a file (of any kind) of this
// name at the time. A harness writes it into [Config.Dir] as soon as the
// directory holds evidence worth keeping, such as a violation's history.
const KeepFile = "KEEP"

// envOrphanDirs lists, as a JSON array of absolute paths, the directories
// the supervisor removes if the harness dies without stopping the
// cluster. It is the supervisor's alone: the supervisor does not pass it
// on (it forwards only the BGW_CLUSTER_ and BGW_CLOCK_ variables).
const envOrphanDirs = "BGW_SUPERVISOR_ORPHAN_DIRS"

// orphanDirs returns the directories the supervisor is to remove if the
// harness dies: what Start made (the socket directory, and Dir when cfg
// gave none), and cfg.Dir if the caller opted in. Every path is made
// absolute, since the supervisor must not depend on its working directory.
func (c *Cluster) orphanDirs(cfg *Config) ([]string, error) {
	dirs := []string{c.sockDir}
	if c.ownDir || cfg.RemoveDirIfOrphaned {
		dirs = append(dirs, c.dir)
	}
	for i, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, fmt.Errorf("cluster: start: %w", err)
		}
		dirs[i] = abs
	}
	return dirs, nil
}

// orphanEnv encodes dirs as the supervisor's envOrphanDirs entry.
func orphanEnv(dirs []string) (string, error) {
	b, err := json.Marshal(dirs)
	if err != nil {
		return "", fmt.Errorf("cluster: start: %w", err)
	}
	return envOrphanDirs + "=" + string(b), nil
}

// orphanedWait bounds how long orphaned waits for a dying harness to be
// gone.
const orphanedWait = time.Second

// orphaned reports whether the harness that started this supervisor has
// died: the supervisor's parent is no longer the process that spawned it
// (proc.Command passes the spawning process's pid as
// proc.EnvPostmasterPid; a dead parent's children are reparented), or it
// is exiting. A harness killed with SIGKILL sends the parent-death signal
// as its spawning thread exits, and the supervisor may finish its work
// before the harness's last thread is gone and the supervisor reparented:
// so a harness still the parent is watched for up to orphanedWait, and
// one that exits or becomes a zombie meanwhile is dead. It blocks that
// long at most, only when the harness is alive (Stop's last resort).
func orphaned() bool {
	harness, err := strconv.Atoi(os.Getenv(proc.EnvPostmasterPid))
	if err != nil {
		return false
	}
	for deadline := time.Now().Add(orphanedWait); ; time.Sleep(10 * time.Millisecond) {
		if os.Getppid() != harness || proc.Gone(harness) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// removeOrphanDirs is the supervisor's last act when the harness died
// without stopping the cluster, once nothing is left below it: it removes
// the directories named by envOrphanDirs, except any that holds
// [KeepFile], and says what it did on its standard error (the server
// log). It does not block beyond the file system's calls.
func removeOrphanDirs() {
	v := os.Getenv(envOrphanDirs)
	if v == "" {
		return
	}
	var dirs []string
	if err := json.Unmarshal([]byte(v), &dirs); err != nil {
		fmt.Fprintf(os.Stderr, "supervisor: %s=%q: %v\n", envOrphanDirs, v, err)
		return
	}
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			fmt.Fprintf(os.Stderr, "supervisor: the harness died: not removing %q: not an absolute path\n", d)
			continue
		}
		if _, err := os.Lstat(filepath.Join(d, KeepFile)); err == nil {
			fmt.Fprintf(os.Stderr, "supervisor: the harness died: keeping %s: it holds %s\n", d, KeepFile)
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(os.Stderr, "supervisor: the harness died: keeping %s: %v\n", d, err)
			continue
		}
		fmt.Fprintf(os.Stderr, "supervisor: the harness died: removing %s\n", d)
		if err := os.RemoveAll(d); err != nil {
			fmt.Fprintf(os.Stderr, "supervisor: %v\n", err)
		}
	}
}
