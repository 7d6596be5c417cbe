package chaos

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// demux is a local target's front for one address many members dial (a
// node's advertised or replication address): it tells which member each
// connection comes from and forwards it to that member's own toxiproxy
// link, so a fault can cut one member's connection to the address and
// leave another's up (a replica's replication stream, or the
// coordinators' probes beside the proxy's traffic). The member is found
// from the connection's source port: /proc/net/tcp gives the socket's
// inode, and the member whose /proc/PID/fd holds that socket dialled it
// (Linux only; a connection it cannot place goes to the default link).
type demux struct {
	ln net.Listener
	// route maps a member id to the address it is forwarded to; def takes
	// the rest.
	route map[string]string
	def   string
	// pids returns the running members' process ids.
	pids func() map[int]string

	mu    sync.Mutex
	conns map[net.Conn]bool
	wg    sync.WaitGroup
}

// startDemux listens on a free loopback port and forwards connections by
// their member (route) or to def.
func startDemux(route map[string]string, def string, pids func() map[int]string) (*demux, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	d := &demux{ln: ln, route: route, def: def, pids: pids, conns: map[net.Conn]bool{}}
	d.wg.Add(1)
	go d.serve()
	return d, nil
}

// addr is where members dial.
func (d *demux) addr() string { return d.ln.Addr().String() }

// serve accepts until close.
func (d *demux) serve() {
	defer d.wg.Done()
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		if !d.track(c, true) {
			c.Close()
			return
		}
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer d.track(c, false)
			d.forward(c)
		}()
	}
}

// track adds or removes a connection; adding fails once closed.
func (d *demux) track(c net.Conn, add bool) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !add {
		delete(d.conns, c)
		return true
	}
	if d.conns == nil {
		return false
	}
	d.conns[c] = true
	return true
}

// forward pipes c to its member's link until either side closes.
func (d *demux) forward(c net.Conn) {
	defer c.Close()
	to := d.def
	if id := d.member(c); id != "" && d.route[id] != "" {
		to = d.route[id]
	}
	up, err := net.Dial("tcp", to)
	if err != nil {
		return
	}
	if !d.track(up, true) {
		up.Close()
		return
	}
	defer d.track(up, false)
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		// Half-close, so a closed side ends the other direction too.
		dst.Close()
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// member names the member whose socket dialled c, or "".
func (d *demux) member(c net.Conn) string {
	ra, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	la := c.LocalAddr().(*net.TCPAddr)
	inode := socketInode(ra.Port, la.Port)
	if inode == "" {
		return ""
	}
	want := "socket:[" + inode + "]"
	for pid, id := range d.pids() {
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if l, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name())); err == nil && l == want {
				return id
			}
		}
	}
	return ""
}

// socketInode finds, in /proc/net/tcp (and tcp6), the inode of the socket
// whose local port is port and remote port peer ("" if none).
func socketInode(port, peer int) string {
	suffix := fmt.Sprintf(":%04X", port)
	peerSuffix := fmt.Sprintf(":%04X", peer)
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fl := strings.Fields(sc.Text())
			if len(fl) > 9 && strings.HasSuffix(fl[1], suffix) && strings.HasSuffix(fl[2], peerSuffix) && fl[9] != "0" {
				f.Close()
				return fl[9]
			}
		}
		f.Close()
	}
	return ""
}

// close stops accepting and closes every connection.
func (d *demux) close() error {
	err := d.ln.Close()
	d.mu.Lock()
	for c := range d.conns {
		c.Close()
	}
	d.conns = nil
	d.mu.Unlock()
	d.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// pidsOf returns a map from pid to id of the running processes.
func pidsOf(procs map[string]*process) map[int]string {
	out := map[int]string{}
	for id, p := range procs {
		if run := p.current(); run != nil && run.Alive() {
			out[run.PID()] = id
		}
	}
	return out
}
