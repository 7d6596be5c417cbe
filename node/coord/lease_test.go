package coord

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/batonkv/baton/coordapi"
)

// fakeClock is a manually advanced clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func Test_Lease_RenewTimedFromSend(t *testing.T) {
	h := newLease()
	h.Claim(5)
	clk := &fakeClock{t: time.Now()}
	t0 := clk.t
	// The renewal takes 2 s to come back (a slow network): the lease
	// still ends at t0 + L, not at receipt + L.
	d, err := h.renew(5, clk.now, func() (time.Duration, error) {
		clk.t = clk.t.Add(2 * time.Second)
		return 3 * time.Second, nil
	})
	if err != nil || d != 3*time.Second {
		t.Fatalf("renew = %v, %v", d, err)
	}
	if g := h.cur.Load(); g == nil || !g.until.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("lease = %v, want until t0+3s", g)
	}
	if !h.Valid(5, t0.Add(2999*time.Millisecond)) {
		t.Errorf("lease invalid just before t0+L")
	}
	if h.Valid(5, t0.Add(3*time.Second)) {
		t.Errorf("lease valid at t0+L")
	}
	if h.Valid(6, t0) {
		t.Errorf("lease of epoch 5 valid for epoch 6")
	}
	if _, iv, _ := h.wanted(); iv != time.Second {
		t.Errorf("renewal interval = %v, want lease/3 = 1s", iv)
	}
	if left, e := h.Left(t0.Add(time.Second)); left != 2*time.Second || e != 5 {
		t.Errorf("left = %v, %d; want 2s, 5", left, e)
	}
	if left, e := h.Left(t0.Add(time.Hour)); left != 0 || e != 5 {
		t.Errorf("left after expiry = %v, %d; want 0, 5", left, e)
	}
}

func Test_Lease_Errors(t *testing.T) {
	h := newLease()
	h.Claim(5)
	clk := &fakeClock{t: time.Now()}
	t0 := clk.t
	ok := func() (time.Duration, error) { return 3 * time.Second, nil }
	if _, err := h.renew(5, clk.now, ok); err != nil {
		t.Fatal(err)
	}
	// A timeout keeps the old lease: it expires on its own.
	clk.t = t0.Add(time.Second)
	timeout := errors.New("i/o timeout")
	if _, err := h.renew(5, clk.now, func() (time.Duration, error) { return 0, timeout }); !errors.Is(err, timeout) {
		t.Fatalf("renew error = %v", err)
	}
	if g := h.cur.Load(); g == nil || !g.until.Equal(t0.Add(3*time.Second)) {
		t.Fatalf("a failed renewal changed the lease: %v", g)
	}
	// NOTPRIMARY drops it at once, and the interval goes back to the
	// first one.
	notPrimary := fmt.Errorf("%w: epoch 5 is not current", coordapi.ErrNotPrimary)
	if _, err := h.renew(5, clk.now, func() (time.Duration, error) { return 0, notPrimary }); !errors.Is(err, coordapi.ErrNotPrimary) {
		t.Fatalf("renew error = %v", err)
	}
	if h.Valid(5, clk.t) || h.cur.Load() != nil {
		t.Fatalf("lease kept after NOTPRIMARY")
	}
	if _, iv, _ := h.wanted(); iv != leaseFirstInterval {
		t.Errorf("interval after NOTPRIMARY = %v", iv)
	}
}

func Test_Lease_RoleChanges(t *testing.T) {
	h := newLease()
	now := time.Now()
	if h.Grant(0, now, time.Hour) {
		t.Fatalf("a grant for epoch 0 (no role) was accepted")
	}
	if h.Grant(5, now, time.Hour) {
		t.Fatalf("a grant without the primary role was accepted")
	}
	_, _, changed := h.wanted()
	h.Claim(5)
	select {
	case <-changed:
	default:
		t.Fatalf("claim did not wake the renewer")
	}
	if !h.Grant(5, now, time.Hour) || !h.Valid(5, now) {
		t.Fatalf("grant for the claimed epoch refused")
	}
	// A new epoch voids the old lease; a late reply for the old epoch
	// cannot revive it.
	h.Claim(6)
	if h.cur.Load() != nil {
		t.Fatalf("lease of epoch 5 kept after claiming 6")
	}
	if h.Grant(5, now, time.Hour) {
		t.Fatalf("a late grant for epoch 5 was accepted")
	}
	h.Grant(6, now, time.Hour)
	_, _, changed = h.wanted()
	h.Release()
	select {
	case <-changed:
	default:
		t.Fatalf("release did not wake the renewer")
	}
	if h.cur.Load() != nil {
		t.Fatalf("lease kept after release")
	}
	if h.Grant(6, now, time.Hour) {
		t.Fatalf("a renewal in flight at release revived the lease")
	}
}

// Granted outlives revocation and release (they stop writes early; the
// coordinators still count the lease until its end) but not the lease's
// end, and only for the lease's epoch.
func Test_Lease_GrantedOutlivesRevocation(t *testing.T) {
	h := newLease()
	now := time.Now()
	if h.Granted(5, now) {
		t.Fatal("granted before any grant")
	}
	h.Claim(5)
	h.Grant(5, now, time.Second)
	h.revoke(5)
	if h.Valid(5, now) || !h.Granted(5, now) {
		t.Fatalf("after revoke: valid %v, granted %v; want false, true", h.Valid(5, now), h.Granted(5, now))
	}
	h.Release()
	if !h.Granted(5, now) {
		t.Fatal("release ended the granted lease")
	}
	if h.Granted(5, now.Add(time.Second)) || h.Granted(6, now) {
		t.Fatal("granted past the lease's end, or for another epoch")
	}
}
