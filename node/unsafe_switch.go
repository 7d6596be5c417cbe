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

func init() {
	if unsafeAckBeforeSync {
		slog.Warn("BATON_TEST_UNSAFE_ACK_BEFORE_SYNC=1: writes are acknowledged before --sync-replicas; acknowledged writes can be lost (test-only switch)")
	}
}
