package proc

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// childEnv selects what the test binary does when re-executed as a child
// (see runChild); unset, it runs the tests.
const childEnv = "PROC_TEST_CHILD"

// TestMain turns the test binary into the child program when childEnv is
// set, so the tests need no prebuilt binary.
func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	os.Exit(m.Run())
}

// runChild is the child program: "listen" serves until SIGTERM,
// "stubborn" ignores SIGTERM, "fail" exits at once with an error,
// "silent" prints nothing, "chatty" prints a line that is no address.
func runChild(mode string) int {
	switch mode {
	case "fail":
		fmt.Fprintln(os.Stderr, "child: bad flag --frobnicate")
		return 3
	case "silent":
		time.Sleep(time.Hour)
		return 0
	case "chatty":
		fmt.Println("hello, not an address")
		time.Sleep(time.Hour)
		return 0
	}
	terms := make(chan os.Signal, 1)
	signal.Notify(terms, syscall.SIGTERM)
	if mode == "stubborn" {
		signal.Ignore(syscall.SIGTERM)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "child: serving")
	fmt.Printf("%s%s\n", Listening("test"), ln.Addr())
	<-terms
	fmt.Fprintln(os.Stderr, "child: terminated")
	return 0
}

// childConfig is a Config that re-executes this test binary in mode.
func childConfig(t *testing.T, mode string) Config {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Config{Name: "child-" + mode, Bin: bin, Args: []string{"-test.run=^$"},
		Env: []string{childEnv + "=" + mode}, AddrPrefix: Listening("test"), StartTimeout: 10 * time.Second}
}

// startChild starts the child in mode; it is killed when the test ends.
func startChild(t *testing.T, mode string) *Process {
	t.Helper()
	p, err := Start(context.Background(), childConfig(t, mode))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Kill() })
	return p
}
