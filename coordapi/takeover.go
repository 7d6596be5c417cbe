package coordapi

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/batonkv/baton/internal/resp"
)

// Takeover steps as recorded in Topology.Takeover.Step. Each is committed in
// Raft before it is acted on, so a new leader knows how far one got.
const (
	// StepHold: the takeover is recorded; proxies hold new commands.
	StepHold = "hold"
	// StepParity: the old primary is frozen (TAKEN_OVER) at a final LSN;
	// the target is catching up to it.
	StepParity = "parity"
)

// Outcomes of a takeover (TakeoverReport.Outcome).
const (
	OutcomeCommitted  = "committed"
	OutcomeRolledBack = "rolled_back"
)

// DefaultTakeoverTimeout bounds a whole takeover up to its commit when
// BATON.TAKEOVER names no TIMEOUT.
const DefaultTakeoverTimeout = 5 * time.Second

// TakeoverStep is one step of a takeover and how long it took.
type TakeoverStep struct {
	Name string  `json:"name"`
	Ms   float64 `json:"ms"`
}

// TakeoverReport is what a takeover did: the operator's summary (baton ctl
// takeover prints it) and the reply of BATON.TAKEOVER.
type TakeoverReport struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Outcome is OutcomeCommitted or OutcomeRolledBack.
	Outcome string `json:"outcome"`
	// FailedStep and Reason say why a takeover rolled back.
	FailedStep string `json:"failed_step,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Epoch is the epoch after the takeover (unchanged on rollback).
	Epoch uint64 `json:"epoch"`
	// LSN is the old primary's final LSN, which the target matched.
	LSN uint64 `json:"lsn"`
	// ForceClosed counts connections of the old primary that missed the
	// checkpoint within the grace period and were closed.
	ForceClosed int64          `json:"force_closed"`
	Steps       []TakeoverStep `json:"steps"`
	TotalMs     float64        `json:"total_ms"`
}

// ReportFromReply decodes BATON.TAKEOVER's reply: a bulk string of the
// report's JSON.
func ReportFromReply(v resp.Value) (TakeoverReport, error) {
	var rep TakeoverReport
	if v.Kind != resp.BulkString || v.Null {
		return rep, fmt.Errorf("%s: unexpected reply %q", CmdTakeover, v)
	}
	if err := json.Unmarshal([]byte(v.Str), &rep); err != nil {
		return rep, fmt.Errorf("%s: decode report: %w", CmdTakeover, err)
	}
	return rep, nil
}
