package integration

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Test_ProxySwitch_PinnedClientsFollowThePrimary: clients pinned to a
// backend connection through `baton proxy` keep working across a
// coordinated failover (BATON.FAILOVER): a BLPOP waiting on the old
// primary is re-established on the new one and served by a push made after
// the switch, a subscriber keeps receiving, a named connection keeps its
// name, and writes held during the switch complete on the new primary.
// Then the primary is killed (-9) with a write in flight on the named
// connection, made deterministic by stopping the replicas the write waits
// for (--sync-replicas 1): that write gets the ambiguous-write error, and
// the connection goes on with the next primary.
func Test_ProxySwitch_PinnedClientsFollowThePrimary(t *testing.T) {
	c := startCluster(t, clusterOpts{syncReplicas: 1})
	px := startClusterProxy(t, c)
	ctx := context.Background()
	client := func() *redis.Client {
		cl := redis.NewClient(&redis.Options{Addr: px.addr, MaxRetries: -1, PoolSize: 1, Protocol: 2,
			DisableIdentity: true, ReadTimeout: 10 * time.Second})
		t.Cleanup(func() { cl.Close() })
		return cl
	}
	old := c.clusterPrimary()

	named := client().Conn()
	defer named.Close()
	if err := named.ClientSetName(ctx, "app-1").Err(); err != nil {
		t.Fatal(err)
	}
	pub := client()
	sub := subscribeRaw(t, px.addr, "news")
	sub.receive(t, pub, "m-before")

	popped := make(chan []string, 1)
	popErr := make(chan error, 1)
	go func() {
		v, err := client().BLPop(ctx, 15*time.Second, "jobs").Result()
		popped <- v
		popErr <- err
	}()
	waitFor(t, "the BLPOP to wait on "+old.id, func() (bool, string) {
		n := blockedOn(t, old)
		return n == 1, fmt.Sprintf("blocked_clients %d", n)
	})
	w := startHeldWriter(client())

	leader, _ := c.raftLeader()
	if err := leader.client.Do(ctx, "BATON.FAILOVER").Err(); err != nil {
		t.Fatalf("BATON.FAILOVER on %s: %v", leader.id, err)
	}
	np := c.clusterPrimary(old.id)
	waitFor(t, "the BLPOP to wait on the new primary "+np.id, func() (bool, string) {
		n := blockedOn(t, np)
		return n == 1, fmt.Sprintf("blocked_clients %d", n)
	})
	if err := pub.RPush(ctx, "jobs", "j1").Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := <-popped, <-popErr; err != nil || len(v) != 2 || v[1] != "j1" {
		t.Fatalf("BLPOP across the failover = %v, %v; want [jobs j1]", v, err)
	}
	sub.receive(t, pub, "m-after")
	if name, err := named.ClientGetName(ctx).Result(); err != nil || name != "app-1" {
		t.Fatalf("CLIENT GETNAME after the failover = %q, %v", name, err)
	}
	w.stopAndVerify(t, np)

	// A write in flight when the primary dies: its replicas are stopped,
	// so the primary applies it and waits for an acknowledgement.
	keysBefore := keyCount(t, np)
	var replicas []*member
	for _, m := range c.nodes {
		if m != np {
			replicas = append(replicas, m)
			c.signal(m, syscall.SIGSTOP)
		}
	}
	setErr := make(chan error, 1)
	go func() { setErr <- named.Set(ctx, "inflight", "x", 0).Err() }()
	// Applied, waiting for its ack: a read there is refused (no dirty
	// reads under --sync-replicas), so look at the key count instead.
	waitFor(t, "the in-flight write to be applied on "+np.id, func() (bool, string) {
		n := keyCount(t, np)
		return n == keysBefore+1, fmt.Sprintf("%d keys, %d before", n, keysBefore)
	})
	c.kill9(np)
	for _, m := range replicas {
		c.signal(m, syscall.SIGCONT)
	}
	if err := <-setErr; err == nil || !strings.Contains(err.Error(), "may or may not have been applied") {
		t.Fatalf("write in flight at kill -9: %v; want the ambiguous-write error", err)
	}
	c.clusterPrimary(np.id)
	if name, err := named.ClientGetName(ctx).Result(); err != nil || name != "app-1" {
		t.Fatalf("CLIENT GETNAME after the kill = %q, %v", name, err)
	}
	if err := named.Set(ctx, "after-kill", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

// blockedOn is INFO clients' blocked_clients of m.
func blockedOn(t *testing.T, m *member) int64 {
	t.Helper()
	return infoInt(t, m.client, "clients", "blocked_clients")
}

// rawSubscriber is one raw client connection subscribed through the proxy
// (go-redis would quietly reconnect and resubscribe).
type rawSubscriber struct {
	msgs chan string
}

// subscribeRaw subscribes a raw connection to channel; the connection is
// closed when the test ends.
func subscribeRaw(t *testing.T, addr, channel string) *rawSubscriber {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &rawSubscriber{msgs: make(chan string, 64)}
	done := make(chan struct{})
	t.Cleanup(func() {
		nc.Close()
		<-done
	})
	fmt.Fprintf(nc, "*2\r\n$9\r\nSUBSCRIBE\r\n$%d\r\n%s\r\n", len(channel), channel)
	go func() {
		defer close(done)
		defer close(s.msgs)
		r := bufio.NewReader(nc)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			// Message payloads are the only bulks starting with "m-".
			if strings.HasPrefix(line, "m-") {
				select {
				case s.msgs <- strings.TrimSpace(line):
				default: // the test no longer reads
				}
			}
		}
	}()
	return s
}

// receive publishes want (through pub) until the subscriber receives it:
// right after a switch it is subscribed again on the new primary a moment
// later.
func (s *rawSubscriber) receive(t *testing.T, pub *redis.Client, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		pub.Publish(context.Background(), "news", want)
		select {
		case m, ok := <-s.msgs:
			if !ok {
				t.Fatal("the proxy closed the subscriber's connection")
			}
			if m == want {
				return
			}
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("the subscriber never received %q", want)
		}
	}
}

// heldWriter SETs keys through the proxy in a loop; every write must
// succeed: a graceful switch only refuses writes (-TRYAGAIN), which the
// proxy holds and replays.
type heldWriter struct {
	cl    *redis.Client
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	acked []string
	err   error
}

// startHeldWriter starts the writer; stopAndVerify stops it.
func startHeldWriter(cl *redis.Client) *heldWriter {
	w := &heldWriter{cl: cl, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := 0; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			k := fmt.Sprintf("held:%d", i)
			err := cl.Set(context.Background(), k, i, 0).Err()
			w.mu.Lock()
			if err != nil {
				w.err = fmt.Errorf("SET %s: %w", k, err)
			} else {
				w.acked = append(w.acked, k)
			}
			w.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return w
}

// stopAndVerify stops the writer and checks that no write failed and every
// one is on m.
func (w *heldWriter) stopAndVerify(t *testing.T, m *member) {
	t.Helper()
	close(w.stop)
	<-w.done
	if w.err != nil {
		t.Fatalf("a write through the proxy failed across the switch: %v", w.err)
	}
	if len(w.acked) == 0 {
		t.Fatal("the writer wrote nothing")
	}
	n, err := m.client.Exists(context.Background(), w.acked...).Result()
	if err != nil || n != int64(len(w.acked)) {
		t.Fatalf("%d of %d acknowledged writes on %s (%v)", n, len(w.acked), m.id, err)
	}
	t.Logf("%d writes through the switch, all acknowledged and on %s", len(w.acked), m.id)
}

// keyCount is the node's key count from INFO keyspace (an admin command:
// it does not wait for replication as a read would).
func keyCount(t *testing.T, m *member) int {
	t.Helper()
	info, err := m.client.Info(context.Background(), "keyspace").Result()
	if err != nil {
		t.Fatalf("INFO keyspace on %s: %v", m.id, err)
	}
	_, rest, ok := strings.Cut(info, "keys=")
	if !ok {
		return 0
	}
	n, _ := strconv.Atoi(strings.SplitN(rest, ",", 2)[0])
	return n
}
