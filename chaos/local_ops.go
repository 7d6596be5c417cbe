package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/batonkv/baton/internal/coordapi"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/batonkv/baton/chaos/check"
)

// Name implements Target.
func (l *Local) Name() string { return "local" }

// ClientAddr implements Target: the client→proxy link.
func (l *Local) ClientAddr() string { return l.clientLink.Listen }

// Members implements Target.
func (l *Local) Members(kind string) []string {
	var out []string
	for id, p := range l.procs {
		if p.sub == kind {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// DirectAddr implements Target.
func (l *Local) DirectAddr(id string) string {
	if p := l.procs[id]; p != nil {
		return p.addr
	}
	return ""
}

// Links implements Target.
func (l *Local) Links() []*Link { return l.toxi.sorted() }

// Supports implements Target: the local target can do everything.
func (l *Local) Supports(string) bool { return true }

// Topology implements Target: the newest topology any live coordinator
// applied (BATON.TOPOLOGY LOCAL, highest version), so a lagging or dead
// member does not hide a change.
func (l *Local) Topology(ctx context.Context) (Topology, error) {
	var best Topology
	var last error = errors.New("no coordinator answered")
	found := false
	for _, id := range l.Members(KindCoordinator) {
		if !l.procs[id].alive() {
			continue
		}
		s, err := l.clients[id].Do(ctx, "BATON.TOPOLOGY", "LOCAL").Text()
		if err != nil {
			last = fmt.Errorf("%s: %w", id, err)
			continue
		}
		var t Topology
		if err := json.Unmarshal([]byte(s), &t); err != nil {
			last = fmt.Errorf("%s: BATON.TOPOLOGY %q: %w", id, s, err)
			continue
		}
		if !found || t.Version > best.Version {
			best, found = t, true
		}
	}
	if !found {
		return best, last
	}
	return best, nil
}

// RaftLeader implements Target: the leader every live coordinator's
// BATON.MEMBERS agrees on.
func (l *Local) RaftLeader(ctx context.Context) (string, error) {
	leader := ""
	for _, id := range l.Members(KindCoordinator) {
		if !l.procs[id].alive() {
			continue
		}
		lines, err := l.clients[id].Do(ctx, "BATON.MEMBERS").StringSlice()
		if err != nil {
			return "", fmt.Errorf("%s: BATON.MEMBERS: %w", id, err)
		}
		seen := ""
		for _, line := range lines {
			if f := strings.Fields(line); len(f) == 4 && f[3] == "leader" {
				seen = f[0]
			}
		}
		if seen == "" || (leader != "" && seen != leader) {
			return "", fmt.Errorf("no agreed Raft leader (%s sees %q, others %q)", id, seen, leader)
		}
		leader = seen
	}
	if leader == "" {
		return "", errors.New("no live coordinator")
	}
	return leader, nil
}

// CoordinatorDo implements Target: the live coordinators in turn,
// following -REDIRECT (internal/coordapi), each call bounded by timeout.
func (l *Local) CoordinatorDo(ctx context.Context, timeout time.Duration, args ...any) (any, error) {
	var addrs []string
	for _, id := range l.Members(KindCoordinator) {
		if l.procs[id].alive() {
			addrs = append(addrs, l.procs[id].addr)
		}
	}
	if len(addrs) == 0 {
		return nil, errors.New("no live coordinator")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return coordapi.LeaderDo(ctx, addrs, localSecret, 30, args...)
}

// proc returns the process id, or an error naming it.
func (l *Local) proc(id string) (*process, error) {
	if p := l.procs[id]; p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("no member %q", id)
}

// Kill9 implements Target.
func (l *Local) Kill9(id string) error {
	p, err := l.proc(id)
	if err != nil {
		return err
	}
	return p.kill9()
}

// Restart implements Target. A port taken meanwhile by an outgoing
// connection makes the start fail: it is retried a few times.
func (l *Local) Restart(ctx context.Context, id string) error {
	p, err := l.proc(id)
	if err != nil {
		return err
	}
	if p.alive() {
		return fmt.Errorf("%s is running", id)
	}
	for attempt := 0; ; attempt++ {
		err = p.start(ctx)
		if err == nil || attempt == 4 || ctx.Err() != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// Stop implements Target.
func (l *Local) Stop(id string) error {
	p, err := l.proc(id)
	if err != nil {
		return err
	}
	return p.stop(15 * time.Second)
}

// Signal implements Target.
func (l *Local) Signal(id string, sig syscall.Signal) error {
	p, err := l.proc(id)
	if err != nil {
		return err
	}
	return p.signal(sig)
}

// HealAll implements Target.
func (l *Local) HealAll() error { return l.toxi.heal() }

// LeaseWindows implements Target.
func (l *Local) LeaseWindows() ([]check.LeaseWindow, error) {
	var all []byte
	for _, id := range l.Members(KindNode) {
		b, err := os.ReadFile(l.leaseLog(id))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		all = append(all, b...)
		if len(b) > 0 && b[len(b)-1] != '\n' {
			all = append(all, '\n')
		}
	}
	return check.ParseLeaseLog(bytes.NewReader(all))
}

// Close implements Target: every process gets SIGTERM (SIGKILL after
// 10 s), then the links close and the data directories are removed (logs
// and lease logs stay). Later calls return the first call's result.
func (l *Local) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.close() })
	return l.closeErr
}

// close is Close's work.
func (l *Local) close() error {
	var wg sync.WaitGroup
	errs := make([]error, len(l.procs))
	i := 0
	for _, p := range l.procs {
		wg.Add(1)
		go func(i int, p *process) {
			defer wg.Done()
			errs[i] = p.stop(10 * time.Second)
		}(i, p)
		i++
	}
	wg.Wait()
	if l.toxi != nil {
		l.toxi.close()
	}
	for _, c := range l.clients {
		c.Close()
	}
	if l.entry != nil {
		l.entry.Close()
	}
	errs = append(errs, os.RemoveAll(filepath.Join(l.cfg.Dir, "data")))
	return errors.Join(errs...)
}
