package node

import (
	"log/slog"
	"os"
)

// unsafeAckBeforeSync is a TEST-ONLY switch that breaks Baton on purpose:
// with BATON_TEST_UNSAFE_ACK_BEFORE_SYNC=1 in a node's environment, a write
// is acknowledged without waiting for its --sync-replicas acknowledgements,
// so a kill -9 of the primary can lose acknowledged writes. It exists only
// so the chaos suite can prove its checkers catch that (integration test
// Test_Chaos_CheckersCatchUnsafeAck). Off by default; never set it in a
// deployment.
var unsafeAckBeforeSync = os.Getenv("BATON_TEST_UNSAFE_ACK_BEFORE_SYNC") == "1"

// unsafeIgnoreLease is a TEST-ONLY switch that breaks Baton on purpose:
// with BATON_TEST_UNSAFE_IGNORE_LEASE=1 in a node's environment, a
// coordinated primary executes commands without a valid write lease (the
// fence never refuses), so a primary cut off from the coordinators keeps
// writing after they promoted another node: split brain. It exists only so
// the chaos suite can prove its executed-writes checker catches that
// (integration test Test_Chaos_CheckersCatchSplitBrain). Off by default;
// never set it in a deployment.
var unsafeIgnoreLease = os.Getenv("BATON_TEST_UNSAFE_IGNORE_LEASE") == "1"

func init() {
	if unsafeAckBeforeSync {
		slog.Warn("BATON_TEST_UNSAFE_ACK_BEFORE_SYNC=1: writes are acknowledged before --sync-replicas; acknowledged writes can be lost (test-only switch)")
	}
	if unsafeIgnoreLease {
		slog.Warn("BATON_TEST_UNSAFE_IGNORE_LEASE=1: the primary executes commands without a write lease; two nodes can write at once (test-only switch)")
	}
}
