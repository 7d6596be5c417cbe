package resp

import (
	"errors"
	"strconv"
	"strings"
)

// Kind is a RESP2 value's type, its leading byte on the wire.
type Kind byte

// The RESP2 kinds.
const (
	SimpleString Kind = '+'
	ErrorReply   Kind = '-'
	Integer      Kind = ':'
	BulkString   Kind = '$'
	Array        Kind = '*'
)

// Value is one decoded RESP2 value.
type Value struct {
	Kind Kind
	// Str is the text of a simple string, an error (without its '-') or a
	// bulk string.
	Str string
	// Int is an integer's value.
	Int int64
	// Null marks a null bulk ($-1) or a null array (*-1).
	Null bool
	// Elems are an array's elements.
	Elems []Value
}

// Err returns the value as an error when it is an error reply (an *Error),
// nil otherwise.
func (v Value) Err() error {
	if v.Kind != ErrorReply {
		return nil
	}
	return &Error{Msg: v.Str}
}

// String renders the value compactly for logs and error messages.
func (v Value) String() string {
	switch {
	case v.Null:
		return "(nil)"
	case v.Kind == Integer:
		return string(v.Kind) + strconv.FormatInt(v.Int, 10)
	case v.Kind == Array:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		return string(v.Kind) + v.Str
	}
}

// Error is an error reply of a RESP server, e.g. "NOAUTH Authentication
// required.". Find it in a wrapped error with errors.As.
type Error struct {
	// Msg is the reply's text without the leading '-'.
	Msg string
}

// Error returns the reply's text.
func (e *Error) Error() string { return e.Msg }

// Code is the reply's first word ("ERR", "NOAUTH", "REDIRECT", …).
func (e *Error) Code() string {
	code, _, _ := strings.Cut(e.Msg, " ")
	return code
}

// ErrorCode returns the code of the error reply err wraps, "" when it wraps
// none.
func ErrorCode(err error) string {
	var re *Error
	if errors.As(err, &re) {
		return re.Code()
	}
	return ""
}
