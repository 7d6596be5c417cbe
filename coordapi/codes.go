package coordapi

import (
	"errors"
	"strings"

	"github.com/batonkv/baton/internal/resp"
)

// The coordinators' commands. Leader-only ones are answered by a follower
// with -REDIRECT <api-addr>, or -NOLEADER during an election.
const (
	// CmdTopology [LOCAL]: the committed record as JSON (leader only;
	// LOCAL: the member's applied record, from any member).
	CmdTopology = "BATON.TOPOLOGY"
	// CmdRegister node-id addr [repl-addr]: a node joins or updates its
	// addresses; the reply is the record (leader only).
	CmdRegister = "BATON.REGISTER"
	// CmdDeregister node-id: remove a node that is not the primary.
	CmdDeregister = "BATON.DEREGISTER"
	// CmdLease node-id epoch [acked-lsn]: the primary renews its write
	// lease, reporting the highest LSN its --sync-replicas replicas
	// acknowledged; the reply is its length in ms, or -NOTPRIMARY (leader
	// only).
	CmdLease = "BATON.LEASE"
	// CmdWatch: the connection becomes a push stream of
	// ["topology", json] (any member).
	CmdWatch = "BATON.WATCH"
	// CmdFailover [node-id]: move the primary role now (leader only).
	CmdFailover = "BATON.FAILOVER"
	// CmdTakeover [TO id] [TIMEOUT ms] [GRACE ms]: a planned handover;
	// the reply is a TakeoverReport as JSON (leader only). Never resent.
	CmdTakeover = "BATON.TAKEOVER"
	// CmdJoin id raft-addr api-addr: add a coordinator (leader only).
	CmdJoin = "BATON.JOIN"
	// CmdRemove id: remove a coordinator (leader only).
	CmdRemove = "BATON.REMOVE"
	// CmdMembers: the Raft servers, one "id raft-addr suffrage [leader]"
	// line each.
	CmdMembers = "BATON.MEMBERS"
)

// PushTopology is the first element of every BATON.WATCH push.
const PushTopology = "topology"

// Error codes: the first word of an error reply of a coordinator (or, for
// TAKENOVER, TRYAGAIN and NOREPL, of a node), which callers branch on.
const (
	// ErrCodeRedirect: a follower names the leader's API address.
	ErrCodeRedirect = "REDIRECT"
	// ErrCodeNoLeader: no leader is elected (or it was lost mid-command).
	ErrCodeNoLeader = "NOLEADER"
	// ErrCodeNotPrimary: a lease was asked by a node that is not (or no
	// longer) the primary of that epoch.
	ErrCodeNotPrimary = "NOTPRIMARY"
	// ErrCodeNoAuth and ErrCodeWrongPass: the cluster secret is missing or
	// wrong.
	ErrCodeNoAuth    = "NOAUTH"
	ErrCodeWrongPass = "WRONGPASS"
	// ErrCodeTakenOver: a node frozen by a takeover refuses the command;
	// retry on the new primary.
	ErrCodeTakenOver = "TAKENOVER"
	// ErrCodeTryAgain: a node without its write lease refuses a write.
	ErrCodeTryAgain = "TRYAGAIN"
	// ErrCodeNoRepl: a write (or read) was not acknowledged by enough
	// replicas in time.
	ErrCodeNoRepl = "NOREPL"
)

// HasCode reports whether err carries the error code: an error reply
// (resp.Error, wrapped or not) or, from other RESP clients, an error whose
// text starts with the code.
func HasCode(err error, code string) bool {
	if err == nil {
		return false
	}
	if c := resp.ErrorCode(err); c != "" {
		return c == code
	}
	first, _, _ := strings.Cut(err.Error(), " ")
	return first == code
}

// Redirected reports whether err is a follower's -REDIRECT or -NOLEADER: the
// command did not run and another coordinator may take it.
func Redirected(err error) bool {
	return HasCode(err, ErrCodeRedirect) || HasCode(err, ErrCodeNoLeader)
}

// RedirectAddr returns the leader address a -REDIRECT error names.
func RedirectAddr(err error) (string, bool) {
	if !HasCode(err, ErrCodeRedirect) {
		return "", false
	}
	_, rest, _ := strings.Cut(err.Error(), " ")
	return strings.TrimSpace(rest), true
}

// ErrNotPrimary is the coordinator's NOTPRIMARY as Client returns it: the
// node asked for a lease of an epoch in which it is not (or no longer) the
// primary.
var ErrNotPrimary = errors.New("coordinator: not the primary of that epoch")

// ErrNoLeader means no coordinator answered as leader (NOLEADER
// everywhere, or none reachable).
var ErrNoLeader = errors.New("coordinator: no leader reachable")

// ErrAuth means a coordinator refused the cluster secret.
var ErrAuth = errors.New("coordinator: authentication failed")
