package command

import (
	"bytes"
	"strings"

	"github.com/batonkv/baton/coordapi"
)

// Result is a command's outcome for the per-command counters: ResultOK, or
// the kind of error reply, by the reply's first word ("ERR",
// "WRONGTYPE"...). The set is fixed, so a metric label's cardinality is
// bounded.
type Result uint8

// Command results, in the order of Results.
const (
	ResultOK Result = iota
	ResultErr
	ResultWrongType
	ResultNoAuth
	ResultReadonly
	ResultTryAgain
	ResultTakenOver
	ResultExecAbort
	ResultUnblocked
	ResultOtherError
	// NumResults is the number of results.
	NumResults
)

// resultNames are the values of the result label, by result.
var resultNames = [NumResults]string{
	"ok", "err", "wrongtype", "noauth", "readonly", "tryagain", "takenover", "execabort", "unblocked", "other_error",
}

// ErrorResult classifies an error reply (without its leading '-') by its
// first word. It runs on the error path only.
func ErrorResult(msg string) Result {
	kind := msg
	if i := strings.IndexByte(msg, ' '); i >= 0 {
		kind = msg[:i]
	}
	switch kind {
	case "ERR":
		return ResultErr
	case "WRONGTYPE":
		return ResultWrongType
	case "NOAUTH":
		return ResultNoAuth
	case "READONLY":
		return ResultReadonly
	case coordapi.ErrCodeTryAgain:
		return ResultTryAgain
	case coordapi.ErrCodeTakenOver:
		return ResultTakenOver
	case "EXECABORT":
		return ResultExecAbort
	case "UNBLOCKED":
		return ResultUnblocked
	}
	return ResultOtherError
}

// Results are the values of the result label of the command counters (the
// node's and the proxy's): "ok", then the kinds of error reply, indexed by
// Result. Callers must not modify the slice.
func Results() []string { return resultNames[:] }

// ReplyResult classifies a raw RESP reply for the command counters: its
// index in Results (0, ok, for anything but an error reply).
func ReplyResult(reply []byte) int {
	if len(reply) < 2 || reply[0] != '-' {
		return int(ResultOK)
	}
	word := reply[1:]
	if i := bytes.IndexAny(word, " \r"); i >= 0 {
		word = word[:i]
	}
	return int(ErrorResult(string(word)))
}
