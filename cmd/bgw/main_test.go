package main

import (
	"testing"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/proc/proctest"
	"bgwmodel/stress"
)

// TestMain runs the cluster role of a re-executed test binary (bgw stress
// starts its cluster from this binary, as main does), or bgw itself under
// a file size limit (roleCLI), and otherwise the tests, which call run
// in-process.
func TestMain(m *testing.M) {
	cluster.Main(stress.Registry())
	proctest.Main(m, proctest.Roles{roleCLI: cliRole})
}
