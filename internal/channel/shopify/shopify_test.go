package shopify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/availability"
	"github.com/tillsync/tillsync/internal/channel/shopify"
	"github.com/tillsync/tillsync/internal/event"
	et "github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/sim/shopifyadmin"
)

// TestCASStaleCompare is the core race: a sale in Shopify itself lands
// between tillsync's last confirmed write and its next one. The compare
// fails, tillsync re-reads and writes a value that keeps the other sale —
// never the ledger's value on top of it — and once the offset settles
// Shopify holds exactly the ledger's available-to-promise.
func TestCASStaleCompare(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"2025-10", "2026-01", "2026-10"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			b := setup(t, shopifyadmin.Config{})
			b.variant(10, "JKT")
			var once sync.Once
			b.sim.BeforeMutation(func(m shopifyadmin.Mutation) {
				once.Do(func() { b.sim.AdjustAvailable(b.items["JKT"], b.loc, -2) }) // two sold on Shopify POS
			})
			clk := &fakeClock{t: time.Now()}
			cfg := b.config()
			cfg.APIVersion = version
			cfg.SettleAfter = time.Minute
			d, _ := b.start(t, cfg, clk.Now)

			// First contact: Shopify already holds the ledger's 10;
			// nothing to write.
			b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10))))
			if got := b.sets("JKT"); len(got) != 0 {
				t.Fatalf("writes %v on first contact with an equal value", got)
			}
			// A till sells one: tillsync writes 9 expecting 10, but Shopify
			// sold two meanwhile (8). Stale → re-read → 10-1-2 = 7.
			b.waitCursor(t, b.appendEvents(t, et.Sale("sale-1", "s1", at(1), et.L("JKT", 1))))
			if got := b.available(t, "JKT"); got != 7 {
				t.Fatalf("Shopify holds %d after the race, want 7 (9 would erase the Shopify sale)", got)
			}
			if s := b.sim.Stats(); s.StaleCompares != 1 {
				t.Errorf("stale compares %d, want 1", s.StaleCompares)
			}
			if s := d.Stats(); s.Stale != 1 || s.Reads != 2 {
				t.Errorf("destination stats %+v: want 1 stale, 2 reads (first contact, after the stale compare)", s)
			}
			// The Shopify sale reaches the ledger through its webhook: ATP
			// 7. Until the offset settles Shopify is kept at most 7-2.
			b.waitCursor(t, b.appendEvents(t, et.Sale("shopify-pos-1", "s1", at(2), et.L("JKT", 2))))
			if got := b.available(t, "JKT"); got > 7 {
				t.Fatalf("Shopify holds %d, above the ledger's 7", got)
			}
			clk.Add(2 * time.Minute)
			b.notify.Broadcast()
			waitFor(t, "the offset to settle at the ledger's 7", func() bool { return b.available(t, "JKT") == 7 })
			for _, q := range b.sets("JKT") {
				if q > 9 {
					t.Errorf("tillsync wrote %d, above any ATP the ledger had", q)
				}
			}
			if got := b.sets("JKT"); got[0] != 7 {
				t.Errorf("first write %d, want 7: the stale compare must never be followed by 9", got[0])
			}
			if got := b.gauge(t, "tillsync_shopify_stale_compares_total", map[string]string{"destination": "shop"}); got != 1 {
				t.Errorf("stale metric %v", got)
			}
		})
	}
}

// TestCASFirstContactIsConservative: Shopify shows less than the ledger —
// perhaps sales the ledger has not heard of yet. tillsync does not raise
// it before SettleAfter; it lowers it at once when it shows more.
func TestCASFirstContactIsConservative(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(3, "LOW")
	b.variant(50, "HIGH")
	clk := &fakeClock{t: time.Now()}
	b.start(t, b.config(), clk.Now)
	b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("LOW", 10), et.L("HIGH", 10))))
	if lo, hi := b.available(t, "LOW"), b.available(t, "HIGH"); lo != 3 || hi != 10 {
		t.Fatalf("LOW %d HIGH %d, want 3 (not raised yet) and 10 (lowered at once)", lo, hi)
	}
	clk.Add(time.Hour + time.Second)
	b.notify.Broadcast()
	waitFor(t, "LOW to settle at 10", func() bool { return b.available(t, "LOW") == 10 })
}

func TestBatchesOfAtMost250(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		batch, want int
	}{{0, 3}, {100, 6}} {
		t.Run(fmt.Sprint(tc.batch), func(t *testing.T) {
			t.Parallel()
			b := setup(t, shopifyadmin.Config{})
			var lines []event.Line
			for i := range 600 {
				sku := fmt.Sprintf("SKU-%03d", i)
				b.variant(100, sku)
				lines = append(lines, et.L(sku, 5))
			}
			cfg := b.config()
			cfg.BatchSize = tc.batch
			d, _ := b.start(t, cfg, nil)
			b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), lines...)))
			s := b.sim.Stats()
			limit := max(tc.batch, 0)
			if limit == 0 {
				limit = 250
			}
			if s.MaxBatch > limit || s.QuantitySets != 600 || s.Mutations != int64(tc.want) {
				t.Errorf("sim %+v: want %d mutations of at most %d quantities", s, tc.want, limit)
			}
			if ds := d.Stats(); ds.Quantities != 600 || ds.Mutations != int64(tc.want) {
				t.Errorf("destination %+v", ds)
			}
			if got := b.available(t, "SKU-599"); got != 5 {
				t.Errorf("SKU-599 at %d, want 5", got)
			}
		})
	}
	if err := (&shopify.Config{BatchSize: 251}).Validate(); err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Errorf("batch size 251: %v", err)
	}
}

// TestCoalescesWhileAWriteIsInFlight: ten sales arrive while a write is
// held up; Shopify gets the latest value once, not the nine in between.
func TestCoalescesWhileAWriteIsInFlight(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(0, "JKT")
	b.variant(20, "HAT")
	release := make(chan struct{})
	var held atomic.Bool
	b.sim.BeforeMutation(func(shopifyadmin.Mutation) {
		if held.CompareAndSwap(false, true) {
			<-release
		}
	})
	cfg := b.config()
	cfg.SettleAfter = -1 // keep JKT's first-contact offset: this test watches HAT
	b.start(t, cfg, nil)
	b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("HAT", 15), et.L("JKT", 1)))
	waitFor(t, "the first write to be held", held.Load)
	var head int64
	for i := range 10 {
		head = b.appendEvents(t, et.Sale(fmt.Sprintf("sale-%d", i), "s1", at(1+i), et.L("HAT", 1)))
	}
	close(release)
	b.waitCursor(t, head)
	if got := b.sets("HAT"); len(got) != 2 || got[0] != 15 || got[1] != 5 {
		t.Errorf("HAT writes %v, want [15 5]: the latest value, coalesced", got)
	}
	if got := b.sets("JKT"); len(got) != 0 {
		t.Errorf("JKT writes %v: Shopify's 0 is below the ledger's 1 and must not be raised before it settles", got)
	}
}

func TestUnmappedSKUsAndLocations(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(9, "JKT")
	d, _ := b.start(t, b.config(), nil)
	b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("GHOST", 3), et.L("JKT", 4))))
	b.appendEvents(t, et.Receive("rcv-2", "s9", at(1), et.L("JKT", 2)))
	head := b.appendEvents(t, et.Sale("sale-1", "s1", at(2), et.L("GHOST", 1)))
	b.waitCursor(t, head)
	if got := b.available(t, "JKT"); got != 4 {
		t.Errorf("JKT %d, want 4: an unmapped SKU must not hold back others", got)
	}
	s := d.Stats()
	if s.Unmapped["sku"] != 1 || s.Unmapped["location"] != 1 {
		t.Errorf("unmapped %v, want one SKU and one location", s.Unmapped)
	}
	if got := b.gauge(t, "tillsync_shopify_unmapped", map[string]string{"kind": "sku"}); got != 1 {
		t.Errorf("unmapped gauge %v", got)
	}
	if got := b.gauge(t, "tillsync_shopify_skipped_total", map[string]string{"kind": "sku"}); got != 2 {
		t.Errorf("skipped counter %v, want 2 (two changes of GHOST)", got)
	}
	if n := strings.Count(b.logs.String(), "GHOST"); n != 1 {
		t.Errorf("GHOST logged %d times, want once:\n%s", n, b.logs)
	}
}

func TestLookupBySKU(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(9, "JKT")
	b.sim.AddVariant("DUP", b.loc)
	b.sim.AddVariant("DUP", b.loc)
	b.sim.AddVariant(`ODD "SKU"`, b.loc)
	cfg := b.config()
	cfg.Items, cfg.LookupSKUs = nil, true
	d, _ := b.start(t, cfg, nil)
	b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 4), et.L("DUP", 1), et.L("NOPE", 1), et.L(`ODD "SKU"`, 0))))
	b.waitCursor(t, b.appendEvents(t, et.Sale("sale-1", "s1", at(1), et.L("JKT", 1), et.L("NOPE", 1), et.L("DUP", 1))))
	if got := b.available(t, "JKT"); got != 3 {
		t.Errorf("JKT %d, want 3", got)
	}
	if s := b.sim.Stats(); s.Lookups != 1 {
		t.Errorf("%d lookups, want 1: found and missing SKUs are cached", s.Lookups)
	}
	if u := d.Stats().Unmapped; u["ambiguous-sku"] != 1 || u["sku"] != 2 {
		t.Errorf("unmapped %v, want DUP ambiguous, DUP and NOPE unmapped", u)
	}
}

func TestCursorAdvancesOnlyAfterShopifyConfirmed(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(10, "JKT")
	cfg := b.config()
	b.start(t, cfg, nil)
	first := b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10)))
	b.waitCursor(t, first)

	var seen []int64
	var mu sync.Mutex
	b.sim.BeforeMutation(func(shopifyadmin.Mutation) {
		mu.Lock()
		seen = append(seen, b.cursor(t))
		mu.Unlock()
	})
	b.sim.FailNext(http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusInternalServerError)
	b.sim.DropNext(1) // executed, answer lost: the retry must not move Shopify twice
	head := b.appendEvents(t, et.Sale("sale-1", "s1", at(1), et.L("JKT", 3)))
	b.waitCursor(t, head)
	mu.Lock()
	defer mu.Unlock()
	for i, c := range seen {
		if c != first {
			t.Errorf("mutation %d saw the cursor at %d: it may move only after Shopify confirmed", i, c)
		}
	}
	if got := b.available(t, "JKT"); got != 7 {
		t.Errorf("JKT %d, want 7", got)
	}
	if s := b.sim.Stats(); s.Injected != 3 || s.Dropped != 1 || s.QuantitySets != 1 || s.Replays != 1 {
		t.Errorf("sim %+v: want 3 failures, 1 dropped answer, 1 set replayed by its idempotency key", s)
	}
}

// TestLostAnswerWithoutIdempotency: before 2026-01 there is no @idempotent;
// the retry of a write whose answer was lost fails its compare, the
// re-read finds the value already written, and nothing is written twice.
func TestLostAnswerWithoutIdempotency(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(10, "JKT")
	cfg := b.config()
	cfg.APIVersion = "2025-10"
	d, _ := b.start(t, cfg, nil)
	b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10))))
	b.sim.DropNext(1)
	b.waitCursor(t, b.appendEvents(t, et.Sale("sale-1", "s1", at(1), et.L("JKT", 4))))
	if got := b.available(t, "JKT"); got != 6 {
		t.Errorf("JKT %d, want 6", got)
	}
	if s := b.sim.Stats(); s.QuantitySets != 1 || s.StaleCompares != 1 {
		t.Errorf("sim %+v: want one write, one stale retry", s)
	}
	if s := d.Stats(); s.Stale != 1 || s.Reads != 2 {
		t.Errorf("destination %+v: want the lost write found by one re-read", s)
	}
}

func TestAuthFailureIsClear(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(1, "JKT")
	cfg := b.config()
	cfg.AccessToken = "shpat_revoked"
	d, err := shopify.New(cfg, b.deps(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = d.Check(context.Background())
	if !errors.Is(err, shopify.ErrUnauthorized) || !strings.Contains(err.Error(), "access token") {
		t.Fatalf("Check: %v, want ErrUnauthorized naming the token", err)
	}
	_, r := b.start(t, cfg, nil)
	b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 1)))
	select {
	case <-r.done:
		if !errors.Is(r.err, shopify.ErrUnauthorized) || !strings.Contains(r.err.Error(), "shopify shop") {
			t.Errorf("Run: %v", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run kept going with a refused token")
	}
	if c := b.cursor(t); c != 0 {
		t.Errorf("cursor %d after a refused token", c)
	}
}

func TestAdjustMode(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(10, "JKT")
	cfg := b.config()
	cfg.Mode = shopify.ModeAdjust
	d, _ := b.start(t, cfg, nil)
	b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 12))))
	// Baseline: first contact goes through compare-and-set (10 < 12 is
	// held until it settles: nothing written).
	b.sim.AdjustAvailable(b.items["JKT"], b.loc, 2) // the merchant fixes it in Shopify: 12
	b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-2", "s1", at(1), et.L("JKT", 3))))
	// Ledger 15; the set path (offset pending) writes min(15, 15-2) = 13
	// expecting 10, goes stale (12), re-reads: offset min(0,-2+2)=0 → 15.
	if got := b.available(t, "JKT"); got != 15 {
		t.Fatalf("JKT %d, want 15", got)
	}
	b.sim.AdjustAvailable(b.items["JKT"], b.loc, -1) // a Shopify sale, concurrent with…
	b.sim.DropNext(1)                                // …a delta whose answer is lost
	b.waitCursor(t, b.appendEvents(t, et.Sale("sale-1", "s1", at(2), et.L("JKT", 4))))
	// The delta -4 applies once, on top of the Shopify sale: 15-1-4.
	if got := b.available(t, "JKT"); got != 10 {
		t.Errorf("JKT %d, want 10", got)
	}
	if s := b.sim.Stats(); s.Adjustments != 1 || s.Replays != 1 {
		t.Errorf("sim %+v: want one adjustment, replayed once", s)
	}
	if s := d.Stats(); s.Quantities != 2 {
		t.Errorf("destination %+v", s)
	}
	if err := (&shopify.Config{Mode: shopify.ModeAdjust, APIVersion: "2025-10"}).Validate(); err == nil || !strings.Contains(err.Error(), "@idempotent") {
		t.Errorf("adjust on 2025-10: %v", err)
	}
}

// TestThrottledIsRetried: the governor starts from the plan's bucket, but
// the shop's is far smaller (another process of the same app spent it).
// Shopify refuses with THROTTLED; the governor adopts the reported bucket
// and paces the rest.
func TestThrottledIsRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{RestoreRate: 200, BucketSize: 25})
	var lines []event.Line
	for i := range 40 {
		sku := fmt.Sprintf("SKU-%02d", i)
		b.variant(9, sku)
		lines = append(lines, et.L(sku, 3))
	}
	cfg := b.config()
	cfg.BatchSize = 4 // 10 mutations of 10 points, 40 reads of 3 (the bucket fits 8 items)
	b.start(t, cfg, nil)
	b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), lines...)))
	s := b.sim.Stats()
	if s.QuantitySets != 40 {
		t.Errorf("%d quantities set, want 40", s.QuantitySets)
	}
	if s.Throttled < 1 || s.Throttled > 2 {
		t.Errorf("%d throttled of %d requests: want the first refusal(s) only, then pacing", s.Throttled, s.Requests)
	}
	if got := b.gauge(t, "tillsync_shopify_throttled_total", map[string]string{"destination": "shop"}); got != float64(s.Throttled) {
		t.Errorf("throttled metric %v, sim %d", got, s.Throttled)
	}
	if got := b.gauge(t, "tillsync_shopify_bucket_size_points", nil); got != 25 {
		t.Errorf("bucket size gauge %v, want Shopify's 25", got)
	}
}

func TestRejectedLevelIsRecordedNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(5, "JKT")
	b.items["GONE"] = "gid://shopify/InventoryItem/999999" // deleted in Shopify
	b.items["ELSEWHERE"] = b.sim.AddVariant("ELSEWHERE")   // not stocked at s1
	d, _ := b.start(t, b.config(), nil)
	b.waitCursor(t, b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 2), et.L("GONE", 1), et.L("ELSEWHERE", 1))))
	if got := b.available(t, "JKT"); got != 2 {
		t.Errorf("JKT %d", got)
	}
	if u := d.Stats().Unmapped; u["item"] != 1 || u["level"] != 1 {
		t.Errorf("unmapped %v", u)
	}
}

func TestChannelBufferAndLocations(t *testing.T) {
	t.Parallel()
	b := setup(t, shopifyadmin.Config{})
	b.variant(100, "JKT")
	cfg := b.config()
	cfg.Channel = availability.Channel{Name: "web", Buffer: event.Units(2), Locations: map[string]bool{"s1": true}}
	cfg.Locations["s2"] = b.sim.AddLocation()
	b.start(t, cfg, nil)
	b.appendEvents(t, et.Receive("rcv-1", "s1", at(0), et.L("JKT", 10)))
	b.appendEvents(t, et.Receive("rcv-2", "s2", at(1), et.L("JKT", 10))) // a location the channel does not sell from
	b.waitCursor(t, b.appendEvents(t, et.Order("ord-1", "s1", at(2), "o-1", "web", et.L("JKT", 3))))
	// 10 on hand, 3 reserved, buffer 2.
	if got := b.available(t, "JKT"); got != 5 {
		t.Errorf("JKT %d, want 10-3-2 = 5", got)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.changes {
		if c.Location != b.loc {
			t.Errorf("wrote %+v: s2 is not sold by the channel", c)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	err := (&shopify.Config{Name: "shop", Shop: "shop.example.com", Mode: "blind", Reason: "because",
		Locations: map[string]string{"s1": "42"}, APIVersion: "2026-13", Plan: "gold"}).Validate()
	for _, field := range []string{"shop:", "access_token", "channel", "locations.s1", "items", "mode", "reason", "api_version", "plan"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Validate did not name %s: %v", field, err)
		}
	}
}
