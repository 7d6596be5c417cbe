package proc

import (
	"fmt"
	"net"
)

// Ports are free loopback ports held open (listening) until Release, so
// nothing else can take them while the caller plans with their addresses.
type Ports struct {
	lns []net.Listener
}

// Reserve listens on n distinct free ports of 127.0.0.1; the caller
// releases them just before the processes that use them start.
func Reserve(n int) (*Ports, error) {
	r := &Ports{}
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			r.Release()
			return nil, fmt.Errorf("reserve a free port: %w", err)
		}
		r.lns = append(r.lns, ln)
	}
	return r, nil
}

// Addrs returns the reserved addresses, host:port.
func (r *Ports) Addrs() []string {
	out := make([]string, len(r.lns))
	for i, ln := range r.lns {
		out[i] = ln.Addr().String()
	}
	return out
}

// Numbers returns the reserved port numbers.
func (r *Ports) Numbers() []int {
	out := make([]int, len(r.lns))
	for i, ln := range r.lns {
		out[i] = ln.Addr().(*net.TCPAddr).Port
	}
	return out
}

// Release closes the listeners, freeing the ports for their processes.
func (r *Ports) Release() {
	for _, ln := range r.lns {
		ln.Close()
	}
	r.lns = nil
}

// FreeAddrs returns n distinct loopback addresses nothing listens on: all
// are held until the last is picked, so no port is handed out twice.
func FreeAddrs(n int) ([]string, error) {
	r, err := Reserve(n)
	if err != nil {
		return nil, err
	}
	defer r.Release()
	return r.Addrs(), nil
}

// FreePorts is FreeAddrs for callers that need port numbers (a
// redis-server --port flag).
func FreePorts(n int) ([]int, error) {
	r, err := Reserve(n)
	if err != nil {
		return nil, err
	}
	defer r.Release()
	return r.Numbers(), nil
}
