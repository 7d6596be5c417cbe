package resp

import (
	"context"
	"errors"
	"net"
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
