package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/access"
	"github.com/tillsync/tillsync/internal/config"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/inbox"
	"github.com/tillsync/tillsync/internal/store"
)

// The scale: pages must render in ≤ 200 ms of server time with
// 1,000 stores, 100,000 SKUs and 10,000 open exceptions.
const (
	benchStores     = 1000
	benchSKUs       = 100_000
	benchExceptions = 10_000
)

var (
	benchOnce   sync.Once
	benchBundle *bundle
	benchCookie *http.Cookie
	benchErr    error
)

// seedScale fills a dashboard's database once per benchmark run: 1,000
// configured stores reporting health (a tenth of them offline, some
// draining), 100,000 SKUs received at the first ten stores (10,000 per
// store) with sales of one SKU at every store, and 10,000 open exceptions
// spread over the stores, kinds and severities.
func seedScale(b *testing.B) (*bundle, *http.Cookie) {
	benchOnce.Do(func() {
		start := time.Now()
		var tb testing.TB = &onceTB{B: b}
		bu := setup(tb, func(o *Options) {
			o.Stores = nil
			for i := range benchStores {
				o.Stores = append(o.Stores, config.Store{ID: fmt.Sprintf("st%04d", i), Name: fmt.Sprintf("Store %d", i), Zone: "Europe/Berlin"})
			}
		})
		ctx := context.Background()
		now := bu.clock.now()
		at := now.Add(-2 * time.Hour)
		var evs []*event.Event
		flush := func() {
			if len(evs) == 0 {
				return
			}
			if _, err := bu.st.Append(ctx, evs, now); err != nil {
				benchErr = err
			}
			evs = evs[:0]
		}
		for i := range benchSKUs / 500 {
			loc := fmt.Sprintf("st%04d", i%10)
			body := &event.Receipt{}
			for j := range 500 {
				body.Lines = append(body.Lines, event.Line{SKU: fmt.Sprintf("SKU-%06d", i*500+j), Quantity: event.Units(20)})
			}
			evs = append(evs, &event.Event{ID: fmt.Sprintf("rcv-%d", i), Type: event.TypeReceipt, Location: loc, Source: "pos",
				OccurredAt: at, Zone: "Europe/Berlin", ReceivedAt: at, Body: body})
			if len(evs) == 20 {
				flush()
			}
		}
		for i := range benchStores {
			loc := fmt.Sprintf("st%04d", i)
			evs = append(evs, &event.Event{ID: fmt.Sprintf("rcv-hot-%d", i), Type: event.TypeReceipt, Location: loc, Source: "pos",
				OccurredAt: at, Zone: "Europe/Berlin", ReceivedAt: at, Body: &event.Receipt{Lines: []event.Line{{SKU: "SKU-HOT", Quantity: event.Units(50)}}}})
			sale := &event.Sale{Currency: "EUR", Register: "r1", ReceiptNumber: strconv.Itoa(i),
				Lines:   []event.SaleLine{{SKU: "SKU-HOT", Quantity: event.Units(1), UnitPrice: 1999}},
				Tenders: []event.Tender{{Kind: event.TenderCash, Amount: 1999}}}
			evs = append(evs, &event.Event{ID: fmt.Sprintf("sale-hot-%d", i), Type: event.TypeSale, Location: loc, Source: "pos",
				OccurredAt: at.Add(time.Minute), Zone: "Europe/Berlin", ReceivedAt: at.Add(time.Minute), Body: sale})
			if len(evs) >= 500 {
				flush()
			}
		}
		flush()
		kinds := []inbox.Kind{inbox.MappingUnknownSKU, inbox.Oversell, inbox.CashVariance, inbox.SettlementUnmatched, inbox.ERPMissing}
		if err := bu.st.Inbox(ctx, func(tx *store.InboxTx) error {
			for i := range benchExceptions {
				_, _, err := bu.in.RaiseTx(ctx, tx, inbox.Problem{Key: fmt.Sprintf("bench/%d", i), Kind: kinds[i%len(kinds)],
					Severity: inbox.Severities[i%len(inbox.Severities)], Location: fmt.Sprintf("st%04d", i%benchStores),
					Subject: fmt.Sprintf("SKU-%06d", i), Title: fmt.Sprintf("Problem %d", i),
					Evidence:    map[string]any{"n": i, "events": []string{fmt.Sprintf("sale-hot-%d", i%benchStores)}},
					Suggestions: []inbox.Suggestion{{Label: "Map it", Confidence: 0.8}, {Label: "Ignore", Confidence: 0.1}}, At: now})
				if err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			benchErr = err
		}
		health := make([]store.Health, benchStores)
		for i := range health {
			h := store.Health{Location: fmt.Sprintf("st%04d", i), LastContact: now.Add(-time.Second), EventsReceived: int64(i)}
			switch {
			case i%10 == 0:
				h.LastContact = now.Add(-time.Hour)
			case i%7 == 0:
				h.Backlog, h.OldestUnsyncedAt = int64(i), now.Add(-time.Minute)
			}
			health[i] = h
		}
		bu.health = health
		for i := range 200 {
			bu.parkDeadLetter(b, fmt.Sprintf("eid:dl-%d", i))
		}
		for range 2000 {
			bu.ui.audit(httptest.NewRequestWithContext(ctx, http.MethodGet, "/ui/x", nil), access.Actor{Name: "ada", Role: access.Admin}, "bench", "allowed", 200)
		}
		bu.ui.live.ensure(ctx)
		for range History {
			bu.ui.live.step(ctx)
		}
		id := bu.ui.sessions.create(access.Actor{Name: "ada", Role: access.Admin})
		benchBundle, benchCookie = bu, &http.Cookie{Name: bu.ui.cookieName(), Value: id} //nolint:gosec // a request cookie in a benchmark
		b.Logf("seeded %d stores, %d SKUs, %d open exceptions in %s", benchStores, benchSKUs, benchExceptions, time.Since(start).Round(time.Millisecond))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchBundle, benchCookie
}

// onceTB lets the seeding outlive the first benchmark that asks for it:
// cleanups run at process exit (never), the temporary directory is the
// OS's.
type onceTB struct{ *testing.B }

func (onceTB) Cleanup(func()) {}

// BenchmarkPages reports each page's server time (handler in, full body
// out) at the scale; the target is ≤ 200 ms.
func BenchmarkPages(b *testing.B) {
	bu, cookie := seedScale(b)
	x, err := bu.in.List(context.Background(), inbox.Filter{State: inbox.StateActive, Limit: 1, After: benchExceptions / 2})
	if err != nil || len(x.Exceptions) == 0 {
		b.Fatal("no exception to show", err)
	}
	pages := []struct{ name, path string }{
		{"overview", "/ui/"},
		{"stores", "/ui/stores"},
		{"inventory", "/ui/inventory?sku=SKU-HOT"},
		{"inventory-cold", "/ui/inventory?sku=SKU-054321"},
		{"destinations", "/ui/destinations"},
		{"dead-letters", "/ui/destinations/netsuite"},
		{"inbox", "/ui/inbox"},
		{"inbox-filtered", "/ui/inbox?" + url.Values{"state": {"open"}, "kind": {"oversell"}, "store": {"st0421"}}.Encode()},
		{"inbox-last-page", "/ui/inbox?after=" + strconv.Itoa(benchExceptions-50)},
		{"exception", "/ui/inbox/" + strconv.FormatInt(x.Exceptions[0].ID, 10)},
		{"reconcile", "/ui/reconcile?store=st0005"},
		{"audit", "/ui/audit"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, p.path, nil)
				req.AddCookie(cookie)
				rec := httptest.NewRecorder()
				bu.ui.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s answered %d: %.300s", p.path, rec.Code, rec.Body.String())
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
			b.ReportMetric(float64(size), "bytes/page")
			if strings.Contains(p.path, "stores") {
				b.ReportMetric(float64(benchStores), "stores")
			}
		})
	}
}

// BenchmarkLiveStep is the cost of one live update: a sample of the hub
// and every widget rendered once, shared by all viewers. It runs once a
// second whatever the load, so this is the stream's whole server cost.
func BenchmarkLiveStep(b *testing.B) {
	bu, _ := seedScale(b)
	ctx := context.Background()
	for b.Loop() {
		bu.ui.live.step(ctx)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/update")
}
