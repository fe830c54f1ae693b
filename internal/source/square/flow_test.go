package square

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inventory"
	sqsim "github.com/tillsync/tillsync/internal/sim/square"
)

// simBundle is a simulated Square seller, its API on a real port, and a
// Square source endpoint (on another real port) writing to a fake log.
type simBundle struct {
	seller   *sqsim.Seller
	api      *httptest.Server
	endpoint *httptest.Server
	log      *fakeLog
	cfg      Config
}

const (
	locSF  = "L88917AVBK2S5"
	locOAK = "LQ4B3Z8K2N1PX"
)

func setupSim(t *testing.T, tweak func(*Config, *sqsim.Options)) *simBundle {
	t.Helper()
	opt := sqsim.Options{SignatureKey: testKey, NotificationURL: testURL, AccessToken: testToken,
		Versions: []string{DefaultSquareVersion}, RequireVersion: true, Seed: 7}
	cfg := testConfig("")
	cfg.Locations = map[string]string{locSF: "store-sf", locOAK: "store-oakland"}
	cfg.SKUs = nil
	if tweak != nil {
		tweak(&cfg, &opt)
	}
	b := &simBundle{seller: sqsim.New(opt), log: newFakeLog()}
	b.api = httptest.NewServer(b.seller.API())
	t.Cleanup(b.api.Close)
	cfg.APIBaseURL = b.api.URL
	b.cfg = cfg
	h, err := NewHandler(cfg, Deps{Submit: b.log, HTTP: b.api.Client(), Now: func() time.Time { return time.Date(2026, 11, 27, 9, 5, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	b.endpoint = httptest.NewServer(h)
	t.Cleanup(b.endpoint.Close)
	for _, it := range []sqsim.Item{
		{CatalogObjectID: "MUGBLUE000000000000000AA", Name: "Mug", Variation: "Blue", Price: 1200, TaxBP: 725},
		{CatalogObjectID: "BEANS00000000000000000KG", Name: "Coffee beans", Variation: "per kg", Price: 2490, TaxBP: 725},
		{CatalogObjectID: "TOTEBAG00000000000000000", Name: "Tote bag", Price: 900},
	} {
		b.seller.AddItem(it)
	}
	return b
}

func (b *simBundle) deliver(t *testing.T, ns []sqsim.Notification) []int {
	t.Helper()
	st, err := b.seller.Deliver(context.Background(), b.endpoint.Client(), b.endpoint.URL, ns)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func count(evs []*event.Event, typ event.Type) int {
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// A rate-limited RetrieveOrder is retried with back-off: two 429s, then
// the order, all within one delivery.
func TestRetrieveOrderRetriesRateLimit(t *testing.T) {
	t.Parallel()
	b := setupSim(t, nil)
	id, err := b.seller.Sell(sqsim.Sale{LocationID: locSF, Lines: []sqsim.Line{{CatalogObjectID: "MUGBLUE000000000000000AA", Quantity: "2"}}, Tip: 100})
	if err != nil {
		t.Fatal(err)
	}
	var updated []sqsim.Notification
	for _, n := range b.seller.Drain() {
		if n.Type == "order.updated" {
			updated = append(updated, n)
		}
	}
	b.seller.Throttle(2)
	if st := b.deliver(t, updated); st[0] != http.StatusOK {
		t.Fatalf("status %v", st)
	}
	s := b.seller.Stats()
	if s.Throttled != 2 || s.Served != 1 {
		t.Errorf("stats %+v: want 2 throttled, then 1 served", s)
	}
	evs := b.log.all()
	if len(evs) != 1 || evs[0].ID != "square:order:"+id {
		t.Fatalf("events %v", evs)
	}
	sale := evs[0].Body.(*event.Sale)
	// 2 × 12.00 + 7.25 % tax = 25.74, paid by card with a 1.00 tip.
	if len(sale.Tenders) != 1 || sale.Tenders[0].Amount != 2574 || sale.Tenders[0].Tip != 100 || sale.Tenders[0].Kind != event.TenderCard {
		t.Errorf("tenders %+v", sale.Tenders)
	}
	if c := sale.Tenders[0].Card; c == nil || c.Last4 != "1111" || c.Entry != "contactless" {
		t.Errorf("card %+v", c)
	}
}

// When Square keeps refusing, the endpoint answers 503 so Square
// redelivers; the redelivery succeeds once the limit lifts.
func TestRetrieveOrderGivesUpThenRedelivered(t *testing.T) {
	t.Parallel()
	b := setupSim(t, func(c *Config, _ *sqsim.Options) { c.Attempts = 3 })
	if _, err := b.seller.Sell(sqsim.Sale{LocationID: locSF, Lines: []sqsim.Line{{CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "1"}}, Tender: "CASH"}); err != nil {
		t.Fatal(err)
	}
	var pay []sqsim.Notification
	for _, n := range b.seller.Drain() {
		if n.Type == "payment.created" {
			pay = append(pay, n)
		}
	}
	b.seller.Throttle(3)
	if st := b.deliver(t, pay); st[0] != http.StatusServiceUnavailable {
		t.Fatalf("status %v, want 503", st)
	}
	if n := len(b.log.all()); n != 0 {
		t.Fatalf("%d events stored", n)
	}
	rounds, err := b.seller.Retry(context.Background(), b.endpoint.Client(), b.endpoint.URL, pay, 3)
	if err != nil || rounds != 1 {
		t.Fatalf("redelivery: %d rounds, %v", rounds, err)
	}
	if evs := b.log.all(); len(evs) != 1 || evs[0].Body.(*event.Sale).Tenders[0].Kind != event.TenderCash {
		t.Fatalf("events %v", evs)
	}
}

// A wrong access token or Square-Version makes RetrieveOrder fail for
// good: 503 (Square keeps the notification for 72 hours), nothing stored.
func TestRetrieveOrderRefused(t *testing.T) {
	t.Parallel()
	for name, tweak := range map[string]func(*Config, *sqsim.Options){
		"token":   func(c *Config, _ *sqsim.Options) { c.AccessToken = "revoked" },
		"version": func(c *Config, _ *sqsim.Options) { c.SquareVersion = "2019-01-01" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setupSim(t, tweak)
			if _, err := b.seller.Sell(sqsim.Sale{LocationID: locSF, Lines: []sqsim.Line{{CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "1"}}}); err != nil {
				t.Fatal(err)
			}
			ns := b.seller.Drain()
			for i, st := range b.deliver(t, ns) {
				if ns[i].Type == "order.updated" && st != http.StatusServiceUnavailable {
					t.Errorf("order.updated: status %d, want 503", st)
				}
			}
			if s := b.seller.Stats(); s.Unauthorized+s.BadVersion == 0 || s.Served != 0 {
				t.Errorf("stats %+v", s)
			}
			if n := count(b.log.all(), event.TypeSale); n != 0 {
				t.Errorf("%d sales stored", n)
			}
		})
	}
}

// scenario runs a day at two stores: counts, card and cash sales (one
// weighed), tips, a sale whose payment notification arrives while the
// order is still open, and an itemized return with its refund.
func scenario(t *testing.T, s *sqsim.Seller) (sales, returns int) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, loc := range []string{locSF, locOAK} {
		must(s.SetStock(loc, "MUGBLUE000000000000000AA", "20"))
		must(s.SetStock(loc, "BEANS00000000000000000KG", "10.5"))
		must(s.SetStock(loc, "TOTEBAG00000000000000000", "5"))
	}
	sell := func(sale sqsim.Sale) string {
		id, err := s.Sell(sale)
		must(err)
		sales++
		return id
	}
	first := sell(sqsim.Sale{LocationID: locSF, Lines: []sqsim.Line{{CatalogObjectID: "MUGBLUE000000000000000AA", Quantity: "3"}, {CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "1"}}, Tip: 150})
	sell(sqsim.Sale{LocationID: locSF, Lines: []sqsim.Line{{CatalogObjectID: "BEANS00000000000000000KG", Quantity: "0.75"}}, Tender: "CASH"})
	sell(sqsim.Sale{LocationID: locOAK, Lines: []sqsim.Line{{CatalogObjectID: "BEANS00000000000000000KG", Quantity: "2.125"}, {CatalogObjectID: "MUGBLUE000000000000000AA", Quantity: "1"}}})
	open, err := s.Open(sqsim.Sale{LocationID: locOAK, Lines: []sqsim.Line{{CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "2"}}})
	must(err)
	must(s.Pay(open))
	sales++
	_, refund, err := s.Return(first, []sqsim.Line{{CatalogObjectID: "MUGBLUE000000000000000AA", Quantity: "1"}}, "Chipped")
	must(err)
	must(s.SettleRefund(refund))
	returns++
	sell(sqsim.Sale{LocationID: locSF, Lines: []sqsim.Line{{CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "1"}}})
	return sales, returns
}

// Delivered in order, shuffled, or shuffled with redeliveries, the same
// notifications yield the same events — one Sale per sale, one Return per
// return — and the ledger ends in the same positions.
func TestDeliveryOrderAndDuplicates(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, perturb func([]sqsim.Notification) []sqsim.Notification) (*simBundle, int, int) {
		b := setupSim(t, nil)
		sales, returns := scenario(t, b.seller)
		ns := perturb(b.seller.Drain())
		for i, st := range b.deliver(t, ns) {
			if st != http.StatusOK {
				t.Fatalf("%s %s: status %d", ns[i].Type, ns[i].EventID, st)
			}
		}
		return b, sales, returns
	}
	inOrder, sales, returns := run(t, func(ns []sqsim.Notification) []sqsim.Notification { return ns })
	want := inOrder.log.positions()
	if len(want) == 0 {
		t.Fatal("no positions")
	}
	evs := inOrder.log.all()
	if got := count(evs, event.TypeSale); got != sales {
		t.Errorf("%d sales recorded, want %d", got, sales)
	}
	if got := count(evs, event.TypeReturn); got != returns {
		t.Errorf("%d returns recorded, want %d", got, returns)
	}
	// Square's own stock ends where the ledger does.
	for k, p := range want {
		var sq string
		for sqLoc, loc := range inOrder.cfg.Locations {
			if loc == k.Location {
				sq = inOrder.seller.Stock(sqLoc, k.SKU)
			}
		}
		if p.OnHand().String() != sq {
			t.Errorf("%s@%s: ledger %s, Square %s", k.SKU, k.Location, p.OnHand(), sq)
		}
	}
	for seed := range uint64(4) {
		t.Run(fmt.Sprintf("shuffled-%d", seed), func(t *testing.T) {
			t.Parallel()
			b, _, _ := run(t, func(ns []sqsim.Notification) []sqsim.Notification {
				return sqsim.Shuffle(sqsim.Duplicate(ns, 0.5, seed), seed)
			})
			if d := inventory.Diff(b.log.ledger, want); len(d) > 0 {
				t.Errorf("positions differ from in-order delivery:\n%s", strings.Join(d, "\n"))
			}
			got := b.log.all()
			if count(got, event.TypeSale) != sales || count(got, event.TypeReturn) != returns || len(got) != len(evs) {
				t.Errorf("%d events (%d sales, %d returns), want %d (%d, %d)", len(got), count(got, event.TypeSale),
					count(got, event.TypeReturn), len(evs), sales, returns)
			}
		})
	}
}

// Notifications about an order that is already recorded are answered
// without fetching it again; a redelivered notification is recognized by
// its event_id.
func TestRecordedOrderNotFetchedAgain(t *testing.T) {
	t.Parallel()
	b := setupSim(t, nil)
	if _, err := b.seller.Sell(sqsim.Sale{LocationID: locSF, Lines: []sqsim.Line{{CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "1"}}}); err != nil {
		t.Fatal(err)
	}
	ns := b.seller.Drain()
	b.deliver(t, ns)
	b.deliver(t, ns)
	if s := b.seller.Stats(); s.Requests != 1 {
		t.Errorf("%d RetrieveOrder calls for one order, want 1", s.Requests)
	}
}

// A payment that completed while its order still shows OPEN (Square has
// not caught up) is refused with 503 for a while, so Square redelivers it;
// once the order completes, the redelivery records the sale.
func TestCompletedPaymentOnOpenOrder(t *testing.T) {
	t.Parallel()
	b := setupSim(t, nil)
	id, err := b.seller.Open(sqsim.Sale{LocationID: locSF, Lines: []sqsim.Line{{CatalogObjectID: "TOTEBAG00000000000000000", Quantity: "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	var pay sqsim.Notification
	for _, n := range b.seller.Drain() {
		if n.Type == "payment.created" {
			pay = n
		}
	}
	// The notification Square sends once the payment completes, delivered
	// before the order reflects it.
	var env map[string]any
	if err := json.Unmarshal(pay.Body, &env); err != nil {
		t.Fatal(err)
	}
	env["type"], env["event_id"] = "payment.updated", "5f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
	env["data"].(map[string]any)["object"].(map[string]any)["payment"].(map[string]any)["status"] = "COMPLETED"
	if pay.Body, err = json.Marshal(env); err != nil {
		t.Fatal(err)
	}
	if st := b.deliver(t, []sqsim.Notification{pay}); st[0] != http.StatusServiceUnavailable {
		t.Fatalf("payment completed on an open order: status %v, want 503", st)
	}
	if err := b.seller.Pay(id); err != nil {
		t.Fatal(err)
	}
	if st := b.deliver(t, []sqsim.Notification{pay}); st[0] != http.StatusOK || count(b.log.all(), event.TypeSale) != 1 {
		t.Fatalf("redelivery: status %v, events %v", st, b.log.all())
	}
}
