package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/batonkv/baton/chaos/check"
)

// Name implements Target.
func (l *Local) Name() string { return "local" }

// ClientAddrs implements Target: the client→proxy links.
func (l *Local) ClientAddrs() []string {
	var out []string
	for _, lk := range l.clientLinks {
		out = append(out, lk.Listen)
	}
	return out
}

// Links implements Target.
func (l *Local) Links() []*Link { return l.toxi.sorted() }

// Supports implements Target: the local target can do everything.
func (l *Local) Supports(string) bool { return true }

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
	var paths []string
	for _, id := range l.Members(KindNode) {
		paths = append(paths, l.leaseLog(id))
	}
	return readLeaseLogs(paths)
}

// WriteWindows implements Target.
func (l *Local) WriteWindows() ([]check.WriteWindow, error) {
	var paths []string
	for _, id := range l.Members(KindNode) {
		paths = append(paths, l.writeLog(id))
	}
	return readWriteLogs(paths)
}

// readWriteLogs parses the executed-writes logs at paths as one log; a
// missing file is a node that never wrote as a primary.
func readWriteLogs(paths []string) ([]check.WriteWindow, error) {
	all, err := concatFiles(paths)
	if err != nil {
		return nil, err
	}
	return check.ParseWriteLog(bytes.NewReader(all))
}

// readLeaseLogs parses the lease logs at paths as one log; a missing
// file is a node that never held a lease.
func readLeaseLogs(paths []string) ([]check.LeaseWindow, error) {
	all, err := concatFiles(paths)
	if err != nil {
		return nil, err
	}
	return check.ParseLeaseLog(bytes.NewReader(all))
}

// concatFiles returns the files at paths one after the other, each ending
// in a newline; a missing file is empty.
func concatFiles(paths []string) ([]byte, error) {
	var all []byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
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
	return all, nil
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
	for _, d := range l.demuxes {
		errs = append(errs, d.close())
	}
	if l.toxi != nil {
		l.toxi.close()
	}
	l.closeClients()
	errs = append(errs, os.RemoveAll(filepath.Join(l.cfg.Dir, "data")))
	return errors.Join(errs...)
}
