package chaos

import (
	"bufio"
	"net"
	"os"
	"testing"
)

// tagServer answers every connection with its tag and closes it.
func tagServer(t *testing.T, tag string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(tag + "\n"))
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestDemuxRoutesByProcess: a connection from a known member's process
// (this test's own) goes to that member's route; with no member known it
// goes to the default.
func TestDemuxRoutesByProcess(t *testing.T) {
	mine, other := tagServer(t, "mine"), tagServer(t, "default")
	for _, tc := range []struct {
		name string
		pids map[int]string
		want string
	}{
		{"known member", map[int]string{os.Getpid(): "me"}, "mine"},
		{"unknown process", map[int]string{}, "default"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := startDemux(map[string]string{"me": mine}, other, func() map[int]string { return tc.pids })
			if err != nil {
				t.Fatal(err)
			}
			defer d.close()
			c, err := net.Dial("tcp", d.addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || line != tc.want+"\n" {
				t.Fatalf("read %q, %v; want %q", line, err, tc.want)
			}
		})
	}
}
