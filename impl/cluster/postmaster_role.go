package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"bgwmodel/impl/bgworker"
	"bgwmodel/impl/pmdriver"
	"bgwmodel/impl/postmaster"
	"bgwmodel/impl/proc"
	"bgwmodel/impl/shmem"
	"bgwmodel/impl/shmem/memfd"
	"bgwmodel/impl/worker"
)

// Exit codes of the postmaster process.
const (
	// ExitOK: an orderly shutdown.
	ExitOK = 0
	// ExitFailure: the postmaster failed while running (see the server
	// log).
	ExitFailure = 1
	// ExitBadConfig: the configuration file was refused; the server log's
	// last line names the file and the field.
	ExitBadConfig = 2
)

// postmasterMain is the postmaster process: it reads its configuration
// file (exit 2 with a one-line message naming file and field if it is
// refused), creates the segment, and runs the OS loop.
func postmasterMain(reg *worker.Registry) int {
	path := os.Getenv(EnvConfig)
	cfg, err := loadConfig(path, reg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return ExitBadConfig
	}
	if err := runPostmaster(cfg); err != nil {
		if !errors.Is(err, errRunFailed) { // Run wrote its own FATAL line
			fmt.Fprintf(os.Stderr, "FATAL:  %v\n", err)
		}
		return ExitFailure
	}
	return ExitOK
}

// loadConfig reads the configuration file and checks that every static
// worker's entry point is in reg.
func loadConfig(path string, reg *worker.Registry) (postmaster.Config, error) {
	if path == "" {
		return postmaster.Config{}, &pmdriver.ConfigError{File: "(none)",
			Err: fmt.Errorf("%s not set: no configuration file", EnvConfig)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return postmaster.Config{}, &pmdriver.ConfigError{File: path, Err: errors.Unwrap(err)}
	}
	cfg, err := pmdriver.ParseConfig(path, data)
	if err != nil {
		return cfg, err
	}
	if reg != nil {
		for i := range cfg.Static {
			if err := reg.Check(&cfg.Static[i]); err != nil {
				ce := &pmdriver.ConfigError{File: path,
					Field: fmt.Sprintf("static_workers[%d].%s", i, bgworker.FieldFunctionName), Err: err}
				return cfg, ce.Locate(data)
			}
		}
	}
	return cfg, nil
}

// errRunFailed marks an error of pmdriver.Run, which has written it to
// the server log already: before it ended the children, so that their
// dying words cannot bury it.
var errRunFailed = errors.New("postmaster loop failed")

// runPostmaster sets up the postmaster's resources and runs the loop.
func runPostmaster(cfg postmaster.Config) error {
	n, err := strconv.Atoi(os.Getenv(proc.EnvFiles))
	if err != nil || n != nPMFiles {
		return fmt.Errorf("cluster: postmaster: %s=%q, want %d files", proc.EnvFiles, os.Getenv(proc.EnvFiles), nPMFiles)
	}
	var files [nPMFiles]*os.File
	for i, name := range [nPMFiles]string{"control", "replies", "records", "clock"} {
		if files[i], err = proc.OpenInherited(fdControl+i, name); err != nil {
			return fmt.Errorf("cluster: postmaster: %w", err)
		}
	}
	replies, records := files[fdReplies-fdControl], files[fdRecords-fdControl]
	defer replies.Close()
	defer records.Close()
	clockRegion, err := memfd.Attach(files[fdClock-fdControl])
	if err != nil {
		return fmt.Errorf("cluster: postmaster: clock: %w", err)
	}
	defer clockRegion.Close()
	off, err := strconv.ParseUint(os.Getenv(EnvClockOffset), 10, 32)
	if err != nil {
		return fmt.Errorf("cluster: postmaster: %s: %w", EnvClockOffset, err)
	}
	clock, err := NewClock(clockRegion, shmem.Offset(off))
	if err != nil {
		return err
	}
	cfg.Stamp = clock.Stamp
	noise, err := noiseFromEnv()
	if err != nil {
		return err
	}
	noiseVar, err := noiseEnv(noise)
	if err != nil {
		return err
	}
	var beforeAccess func(shmem.Access)
	if z := newNoiser(noise, noisePostmaster); z != nil {
		beforeAccess = z.access
	}
	seg, err := memfd.Create("bgw-segment", bgworker.ShmemSize(cfg.MaxWorkers))
	if err != nil {
		return err
	}
	defer seg.Close()
	socket := os.Getenv(EnvSocket)
	err = pmdriver.Run(context.Background(), pmdriver.RunConfig{
		Config:     cfg,
		Segment:    seg,
		Log:        records,
		Control:    files[0],
		Replies:    replies,
		ChildFiles: []*os.File{clockRegion.File()},
		ChildEnv: []string{
			EnvFlaws + "=" + cfg.Flaws.String(),
			EnvClockOffset + "=" + strconv.FormatUint(off, 10),
		},
		BackendRole: RoleBackend,
		BackendEnv: func(id string) []string {
			return append([]string{EnvSocket + "=" + socket, EnvBackendID + "=" + id}, noiseVar...)
		},
		BeforeAccess: beforeAccess,
	})
	if err != nil {
		return fmt.Errorf("%w: %w", errRunFailed, err)
	}
	return nil
}
