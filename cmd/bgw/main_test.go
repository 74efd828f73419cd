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

func TestParseBytes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"2GiB", 2 << 30}, {"512MiB", 512 << 20}, {"1048576", 1 << 20}, {"4096KiB", 4 << 20}, {"2097152B", 2 << 20},
		{"1KiB", 0}, {"0", 0}, {"-5MiB", 0}, {"lots", 0}, {"", 0}, {"1.5GiB", 0}, {"99999999999999GiB", 0},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseBytes(tc.in)
			if (err != nil) != (tc.want == 0) || got != tc.want {
				t.Fatalf("parseBytes(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}
