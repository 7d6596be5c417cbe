package chaos

import (
	"context"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/batonkv/baton/coordapi"
	"github.com/redis/go-redis/v9"
)

// hungNemesis opens connections straight to the primary (or to a proxy)
// that send a pipeline of GETs of a large value and never read the
// replies: the node blocks writing to them, as behind a hung application
// (Dragonfly #3322); through a proxy, the proxy must keep them from
// stalling the clients that share its backend connections (issue 17).
// Heal closes whatever the server has not closed itself.
type hungNemesis struct {
	env *Env
	// via is the role the clients connect to: RolePrimary or RoleProxy.
	via   string
	conns []net.Conn
}

// hungValue is the size of the value every hung GET asks for; 16 of them
// per connection overflow any socket buffer.
const hungValue = 512 << 10

// HungClients returns the hung-clients nemesis.
func HungClients(env *Env) Nemesis { return &hungNemesis{env: env, via: RolePrimary} }

// HungClientsProxy returns the hung-clients nemesis whose clients connect
// to a proxy (its own address, not through the client link).
func HungClientsProxy(env *Env) Nemesis { return &hungNemesis{env: env, via: RoleProxy} }

// Name implements Nemesis.
func (n *hungNemesis) Name() string {
	if n.via == RoleProxy {
		return "hung-clients-proxy"
	}
	return "hung-clients"
}

// Available implements Nemesis.
func (n *hungNemesis) Available(t Target) error { return needs(t, n.Name(), CapDirect) }

// Inject implements Nemesis.
func (n *hungNemesis) Inject(ctx context.Context) (string, error) {
	count := between(n.env.Rand, 5, 30)
	id, _, err := n.env.pick(ctx, n.via)
	if err != nil {
		return "", err
	}
	addr := n.env.Target.DirectAddr(id)
	setup := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, Protocol: 2, DisableIdentity: true,
		DialTimeout: time.Second, ReadTimeout: 5 * time.Second})
	defer setup.Close()
	if err := setup.Set(ctx, "chaos:hung", strings.Repeat("x", hungValue), 0).Err(); err != nil {
		return "", fmt.Errorf("SET chaos:hung on %s: %w", id, err)
	}
	var pipeline []byte
	for range 16 {
		pipeline = append(pipeline, "*2\r\n$3\r\nGET\r\n$10\r\nchaos:hung\r\n"...)
	}
	for range count {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return "", err
		}
		c.(*net.TCPConn).SetReadBuffer(4096)
		n.conns = append(n.conns, c)
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if _, err := c.Write(pipeline); err != nil {
			return "", fmt.Errorf("hung client write: %w", err)
		}
	}
	return fmt.Sprintf("%d hung clients on %s (%s)", count, id, n.via), nil
}

// Heal implements Nemesis.
func (n *hungNemesis) Heal(context.Context) error {
	for _, c := range n.conns {
		c.Close()
	}
	n.conns = nil
	return nil
}

// takeoverNemesis runs a coordinated takeover (BATON.TAKEOVER) to a
// replica; nothing to heal. A takeover that rolls back is an outcome the
// report shows, not an error: the clients must not notice either way.
type takeoverNemesis struct {
	env *Env
}

// Takeover returns the coordinated-takeover nemesis.
func Takeover(env *Env) Nemesis { return &takeoverNemesis{env: env} }

// Name implements Nemesis.
func (n *takeoverNemesis) Name() string { return "takeover" }

// Available implements Nemesis.
func (n *takeoverNemesis) Available(Target) error { return nil }

// Inject implements Nemesis.
func (n *takeoverNemesis) Inject(ctx context.Context) (string, error) {
	to, _, err := n.env.pick(ctx, RoleReplica)
	if err != nil {
		return "", err
	}
	v, err := n.env.Target.CoordinatorDo(ctx, 15*time.Second, coordapi.CmdTakeover, "TO", to, "TIMEOUT", "5000")
	if err != nil {
		return fmt.Sprintf("takeover to %s refused: %v", to, err), nil
	}
	rep, err := coordapi.ReportFromReply(v)
	if err != nil {
		return "", err
	}
	d := fmt.Sprintf("takeover %s → %s: %s in %.0f ms (epoch %d, %d connections force-closed)",
		rep.From, rep.To, rep.Outcome, rep.TotalMs, rep.Epoch, rep.ForceClosed)
	if rep.Outcome != coordapi.OutcomeCommitted {
		d += fmt.Sprintf(" at %s: %s", rep.FailedStep, rep.Reason)
	}
	return d, nil
}

// Heal implements Nemesis.
func (n *takeoverNemesis) Heal(context.Context) error { return nil }
