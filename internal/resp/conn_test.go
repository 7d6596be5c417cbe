package resp

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

// fakeServer answers AUTH with +OK for secret "s3cret" and -WRONGPASS
// otherwise, PING with +PONG, and never answers SLOW.
func fakeServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go serveFake(nc)
		}
	}()
	return ln.Addr().String()
}

func serveFake(nc net.Conn) {
	defer nc.Close()
	c := NewConn(nc)
	for {
		v, err := c.ReadValue()
		if err != nil || len(v.Elems) == 0 {
			return
		}
		switch v.Elems[0].Str {
		case "AUTH":
			if len(v.Elems) == 2 && v.Elems[1].Str == "s3cret" {
				nc.Write([]byte("+OK\r\n"))
			} else {
				nc.Write([]byte("-WRONGPASS invalid password\r\n"))
			}
		case "PING":
			nc.Write([]byte("+PONG\r\n"))
		}
	}
}

func Test_Dial_Auth(t *testing.T) {
	addr := fakeServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, addr, "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if v, err := c.Do(ctx, "PING"); err != nil || v.Str != "PONG" {
		t.Fatalf("PING = %v, %v", v, err)
	}
	_, err = Dial(ctx, addr, "wrong")
	if ErrorCode(err) != "WRONGPASS" {
		t.Fatalf("Dial with a wrong secret: %v", err)
	}
}

func Test_Conn_DoHonoursContext(t *testing.T) {
	addr := fakeServer(t)
	c, err := Dial(context.Background(), addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = c.Do(ctx, "SLOW")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || time.Since(start) > 5*time.Second {
		t.Fatalf("Do after cancel: %v after %v", err, time.Since(start))
	}
	dctx, dcancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer dcancel()
	if _, err := c.Do(dctx, "SLOW"); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Do past a deadline: %v", err)
	}
	// The binding is undone: the connection serves the next command.
	if v, err := c.Do(context.Background(), "PING"); err != nil || v.Str != "PONG" {
		t.Fatalf("PING after a timeout = %v, %v", v, err)
	}
}

// Resize keeps the connection usable and its bounds, and refuses when
// bytes were read but not decoded.
func Test_Conn_Resize(t *testing.T) {
	c, err := Dial(context.Background(), fakeServer(t), "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.MaxArray = 8
	if err := c.Resize(1 << 20); err != nil {
		t.Fatal(err)
	}
	if c.MaxArray != 8 {
		t.Fatalf("bounds lost: MaxArray %d", c.MaxArray)
	}
	if v, err := c.Do(context.Background(), "PING"); err != nil || v.Str != "PONG" {
		t.Fatalf("PING after a resize: %v %v", v, err)
	}
	c.Send("PING")
	c.Reader.br.Peek(1) // a reply read but not decoded
	if err := c.Resize(1 << 20); !errors.Is(err, ErrBuffered) {
		t.Fatalf("resize with a reply buffered: %v", err)
	}
}

// A Reader with a larger buffer still bounds lines to maxLine.
func Test_Reader_SizeKeepsLineBound(t *testing.T) {
	in := "+" + strings.Repeat("x", maxLine) + "\r\n"
	if _, err := NewReaderSize(strings.NewReader(in), 1<<20).ReadValue(); !errors.Is(err, ErrProtocol) {
		t.Fatalf("long line with a 1 MB buffer: %v", err)
	}
}
