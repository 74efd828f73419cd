package stress

import (
	"testing"

	"bgwmodel/impl/cluster"
	"bgwmodel/impl/proc/proctest"
)

func TestMain(m *testing.M) {
	cluster.Main(Registry())
	proctest.Main(m, nil)
}
