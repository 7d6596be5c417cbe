package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/batonkv/baton/internal/metricshttp"
)

// runHealthcheck runs `baton healthcheck`: it GETs a /healthz and exits 0
// for a 200, 1 otherwise, so container healthchecks work in scratch images
// (no shell, no curl). With neither flag it checks BATON_HTTP_ADDR, the
// variable that gave the container's node, proxy or coordinator its
// --http-addr.
func runHealthcheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("healthcheck", stderr)
	url := fs.String("url", "", "the /healthz URL to check (e.g. http://127.0.0.1:9100/healthz)")
	httpAddr := fs.String("http-addr", "", "host:port a process serves /healthz on (its --http-addr; an unspecified host means 127.0.0.1), checked when --url is empty")
	timeout := fs.Duration("timeout", 2*time.Second, "how long to wait for the answer")
	quiet := fs.Bool("quiet", false, "print nothing, only set the exit code")
	if err := parseWithEnv(fs, args); err != nil {
		return 2
	}
	target := *url
	if target == "" {
		if *httpAddr == "" {
			fmt.Fprintln(stderr, "baton healthcheck: --url or --http-addr is required")
			return 2
		}
		target = "http://" + localAddr(*httpAddr) + "/healthz"
	}
	body, err := metricshttp.Check(context.Background(), target, *timeout)
	if err != nil {
		if !*quiet {
			fmt.Fprintf(stderr, "baton healthcheck: %s: %v\n", target, err)
		}
		return 1
	}
	if !*quiet {
		fmt.Fprint(stdout, body)
	}
	return 0
}

// localAddr turns a listen address into one to dial: an unspecified host
// (":9100", "0.0.0.0:9100", "[::]:9100") becomes 127.0.0.1.
func localAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
