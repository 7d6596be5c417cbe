package resp

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func read(t *testing.T, in string) (Value, error) {
	t.Helper()
	return NewReader(strings.NewReader(in)).ReadValue()
}

func Test_Reader_Values(t *testing.T) {
	cases := []struct {
		in   string
		want Value
	}{
		{"+OK\r\n", Value{Kind: SimpleString, Str: "OK"}},
		{"-ERR bad thing\r\n", Value{Kind: ErrorReply, Str: "ERR bad thing"}},
		{":-42\r\n", Value{Kind: Integer, Int: -42}},
		{"$5\r\nhe\r\no\r\n", Value{Kind: BulkString, Str: "he\r\no"}},
		{"$0\r\n\r\n", Value{Kind: BulkString}},
		{"$-1\r\n", Value{Kind: BulkString, Null: true}},
		{"*-1\r\n", Value{Kind: Array, Null: true}},
		{"*0\r\n", Value{Kind: Array, Elems: []Value{}}},
		{"*3\r\n:1\r\n*2\r\n$1\r\na\r\n-E x\r\n$-1\r\n", Value{Kind: Array, Elems: []Value{
			{Kind: Integer, Int: 1},
			{Kind: Array, Elems: []Value{{Kind: BulkString, Str: "a"}, {Kind: ErrorReply, Str: "E x"}}},
			{Kind: BulkString, Null: true},
		}}},
	}
	for _, c := range cases {
		got, err := read(t, c.in)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("ReadValue(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
}

func Test_Reader_Hostile(t *testing.T) {
	cases := map[string]struct {
		in   string
		want error
	}{
		"bad type byte":          {"?x\r\n", ErrProtocol},
		"no CR":                  {"+OK\n", ErrProtocol},
		"empty line":             {"\r\n", ErrProtocol},
		"bad integer":            {":12a\r\n", ErrProtocol},
		"negative bulk":          {"$-2\r\n", ErrProtocol},
		"bulk length not int":    {"$x\r\n", ErrProtocol},
		"huge bulk":              {"$99999999999\r\n", ErrProtocol},
		"bulk over max":          {"$536870913\r\n", ErrProtocol},
		"huge array":             {"*99999999999\r\n", ErrProtocol},
		"array over max":         {"*1048577\r\n", ErrProtocol},
		"bulk without CRLF":      {"$2\r\nabXY", ErrProtocol},
		"too deep":               {strings.Repeat("*1\r\n", DefaultMaxDepth+1) + ":1\r\n", ErrProtocol},
		"line too long":          {"+" + strings.Repeat("x", maxLine) + "\r\n", ErrProtocol},
		"truncated line":         {"+OK", io.ErrUnexpectedEOF},
		"truncated bulk":         {"$10\r\nabc", io.ErrUnexpectedEOF},
		"truncated array":        {"*3\r\n:1\r\n", io.ErrUnexpectedEOF},
		"declared 512MB, sent 3": {"$536870912\r\nabc", io.ErrUnexpectedEOF},
		"empty stream":           {"", io.EOF},
	}
	for name, c := range cases {
		if _, err := read(t, c.in); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
	}
}

// A peer announcing the largest allowed bulk and sending a few bytes must
// cost about what it sent, not the announced size.
func Test_Reader_HugeDeclaredLengthDoesNotAllocate(t *testing.T) {
	in := "*1048576\r\n$536870912\r\nabc"
	var ms, ms2 runtimeMem
	ms.read()
	for range 5 {
		read(t, in)
	}
	ms2.read()
	if perRun := (ms2.total - ms.total) / 5; perRun > 8<<20 {
		t.Fatalf("reading a truncated huge value allocated %d bytes per run", perRun)
	}
}

func Test_Reader_Limits(t *testing.T) {
	r := NewReader(strings.NewReader("$4\r\nabcd\r\n*3\r\n:1\r\n:2\r\n:3\r\n"))
	r.MaxBulk, r.MaxArray = 3, 2
	if _, err := r.ReadValue(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("bulk over MaxBulk: err = %v", err)
	}
	r = NewReader(strings.NewReader("*3\r\n:1\r\n:2\r\n:3\r\n"))
	r.MaxArray = 2
	if _, err := r.ReadValue(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("array over MaxArray: err = %v", err)
	}
}

func Test_Reader_ReadRaw(t *testing.T) {
	in := "*2\r\n$3\r\nfoo\r\n:7\r\n+OK\r\n"
	r := NewReader(strings.NewReader(in))
	got, err := r.ReadRaw([]byte("x"))
	if err != nil || string(got) != "x*2\r\n$3\r\nfoo\r\n:7\r\n" {
		t.Fatalf("ReadRaw = %q, %v", got, err)
	}
	if got, err = r.ReadRaw(nil); err != nil || string(got) != "+OK\r\n" {
		t.Fatalf("second ReadRaw = %q, %v", got, err)
	}
}

func Test_Value_Err(t *testing.T) {
	if (Value{Kind: SimpleString, Str: "OK"}).Err() != nil {
		t.Fatal("a simple string is not an error")
	}
	err := (Value{Kind: ErrorReply, Str: "REDIRECT 10.0.0.1:7000"}).Err()
	if err == nil || err.Error() != "REDIRECT 10.0.0.1:7000" || ErrorCode(wrap(err)) != "REDIRECT" {
		t.Fatalf("Err() = %v, code %q", err, ErrorCode(wrap(err)))
	}
	if ErrorCode(errors.New("REDIRECT x")) != "" {
		t.Fatal("a plain error carries no reply code")
	}
}

func wrap(err error) error { return errors.Join(errors.New("context"), err) }
