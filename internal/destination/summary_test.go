package destination_test

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tillsync/tillsync/internal/destination"
	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/event/eventtest"
	"github.com/tillsync/tillsync/internal/store"
)

// till is one POS document as the summary should count it: sign -1 for a
// refund or a void.
type till struct {
	id, loc string
	at      time.Time
	withB   bool // a second line: 2 × SKU-B at 10.00, 7 % included
	method  event.TenderKind
	brand   string
}

func (s till) event() *event.Event {
	lines := []event.Line{eventtest.L("SKU-A", 1)}
	if s.withB {
		lines = append(lines, eventtest.L("SKU-B", 2))
	}
	e := eventtest.Sale(s.id, s.loc, s.at, lines...)
	b := e.Body.(*event.Sale)
	b.Lines[0].Taxes = []event.Tax{{Code: "DE19", RateBP: 1900, Amount: 160, Included: true}}
	if s.withB {
		b.Lines[1].Taxes = []event.Tax{{Code: "DE7", RateBP: 700, Amount: 131, Included: true}}
	}
	b.Tenders[0].Kind = s.method
	if s.method == event.TenderCard {
		b.Tenders[0].Card.Brand = s.brand
	} else {
		b.Tenders[0].Card = nil
	}
	return e
}

// totals is an independent tally of what a summary must say.
type totals struct {
	payments map[[2]string]int64
	taxes    map[string]int64
	lines    map[string]*erp.Line
	events   []string
}

func newTotals() *totals {
	return &totals{payments: map[[2]string]int64{}, taxes: map[string]int64{}, lines: map[string]*erp.Line{}}
}

func (x *totals) line(sku, code string, sign, units, amount, tax int64) {
	l := x.lines[sku]
	if l == nil {
		l = &erp.Line{SKU: sku, TaxCode: code}
		x.lines[sku] = l
	}
	l.Quantity += event.Units(sign * units)
	l.Amount += sign * amount
	l.Tax += sign * tax
}

// sale counts a sale (sign 1) or its void (sign -1).
func (x *totals) sale(s till, sign int64, eventID string) {
	total := int64(1000)
	x.line("SKU-A", "DE19", sign, 1, 1000, 160)
	x.taxes["DE19"] += sign * 160
	if s.withB {
		total += 2000
		x.line("SKU-B", "DE7", sign, 2, 2000, 131)
		x.taxes["DE7"] += sign * 131
	}
	x.payments[[2]string{string(s.method), s.brand}] += sign * total
	x.events = append(x.events, eventID)
}

func (x *totals) check(t *testing.T, doc erp.Document) {
	t.Helper()
	var pays []erp.Payment
	for k, v := range x.payments {
		pays = append(pays, erp.Payment{Method: k[0], Brand: k[1], Amount: v})
	}
	sort.Slice(pays, func(i, j int) bool {
		if pays[i].Method != pays[j].Method {
			return pays[i].Method < pays[j].Method
		}
		return pays[i].Brand < pays[j].Brand
	})
	if !reflect.DeepEqual(doc.Payments, pays) {
		t.Errorf("%s payments = %+v, want %+v", doc.ExternalID, doc.Payments, pays)
	}
	var taxes []erp.TaxLine
	for code, v := range x.taxes {
		rate := map[string]int64{"DE19": 1900, "DE7": 700}[code]
		taxes = append(taxes, erp.TaxLine{Code: code, RateBP: rate, Amount: v})
	}
	sort.Slice(taxes, func(i, j int) bool { return taxes[i].Code < taxes[j].Code })
	if !reflect.DeepEqual(doc.Taxes, taxes) {
		t.Errorf("%s taxes = %+v, want %+v", doc.ExternalID, doc.Taxes, taxes)
	}
	var lines []erp.Line
	for _, l := range x.lines {
		lines = append(lines, *l)
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].SKU < lines[j].SKU })
	if !reflect.DeepEqual(doc.Lines, lines) {
		t.Errorf("%s lines = %+v, want %+v", doc.ExternalID, doc.Lines, lines)
	}
	if !equal(sorted(doc.EventIDs), sorted(x.events)) {
		t.Errorf("%s carries %d events, want %d: %v", doc.ExternalID, len(doc.EventIDs), len(x.events), doc.EventIDs)
	}
}

// summaryID is the external ID the summary of a store's period must have.
func summaryID(loc string, start time.Time, part int) string {
	berlin, err := time.LoadLocation(eventtest.Zone)
	if err != nil {
		panic(err)
	}
	return fmt.Sprintf("SUM-erp-%s-%s-%d", loc, start.In(berlin).Format("20060102T1504"), part)
}

type summaryDay struct {
	events []*event.Event
	// p0 is the hour most events fall in; berlin0 its berlin totals.
	p0      time.Time
	berlin0 *totals
	// ids are the summaries and detail documents the ERP must hold.
	ids []string
	// documents and events the destination must record as delivered.
	docs, evs int64
}

// summaryMix is a closed hour of 300 sales at berlin (three tenders, two
// tax codes), a refund and a void in it, an adjustment and a drawer count;
// the same hour at hamburg; and the next hour at berlin.
func summaryMix() summaryDay {
	p0 := time.Now().UTC().Truncate(time.Hour).Add(-3 * time.Hour)
	d := summaryDay{p0: p0, berlin0: newTotals()}
	tills := map[string]till{}
	for i := range 300 {
		s := till{id: fmt.Sprintf("sale-%03d", i), loc: "berlin", at: p0.Add(time.Duration(i) * 10 * time.Second), withB: i%2 == 1}
		switch i % 3 {
		case 0:
			s.method, s.brand = event.TenderCard, "visa"
		case 1:
			s.method, s.brand = event.TenderCard, "mastercard"
		default:
			s.method = event.TenderCash
		}
		tills[s.id] = s
		d.events = append(d.events, s.event())
		d.berlin0.sale(s, 1, s.id)
	}
	// A refund of one SKU-A for cash, and a post-void of a whole sale.
	d.events = append(d.events,
		eventtest.Return("ret-1", "berlin", p0.Add(55*time.Minute), "sale-001", eventtest.L("SKU-A", 1)),
		eventtest.Void("void-2", "berlin", p0.Add(56*time.Minute), "sale-002"),
		eventtest.Adjust("adj-1", "berlin", p0.Add(10*time.Minute), eventtest.L("SKU-B", -1)),
		eventtest.Drawer("drawer-1", "berlin", p0.Add(59*time.Minute), 50000),
	)
	d.berlin0.payments[[2]string{"cash", ""}] -= 1000
	d.berlin0.line("SKU-A", "DE19", -1, 1, 1000, 0)
	d.berlin0.events = append(d.berlin0.events, "ret-1")
	d.berlin0.sale(tills["sale-002"], -1, "void-2")

	for i := range 5 {
		s := till{id: fmt.Sprintf("ham-%d", i), loc: "hamburg", at: p0.Add(time.Duration(i) * time.Minute), method: event.TenderCard, brand: "amex"}
		d.events = append(d.events, s.event())
	}
	for i := range 3 {
		s := till{id: fmt.Sprintf("next-%d", i), loc: "berlin", at: p0.Add(time.Hour + time.Duration(i)*time.Minute), method: event.TenderCash}
		d.events = append(d.events, s.event())
	}
	d.ids = []string{summaryID("berlin", p0, 1), summaryID("hamburg", p0, 1), summaryID("berlin", p0.Add(time.Hour), 1), "adj-1"}
	d.docs, d.evs = 4, 302+5+3+1
	return d
}

func setupSummary(t *testing.T) *bundle {
	t.Helper()
	b := setup(t)
	b.cfg.Mode = destination.Summary
	b.cfg.Interval = time.Hour
	b.cfg.Grace = 0
	return b
}

func TestSummaryTotalsPerStoreAndPeriod(t *testing.T) {
	t.Parallel()
	b := setupSummary(t)
	ctx := context.Background()
	day := summaryMix()
	head := b.add(t, day.events...)
	b.run(t)
	b.waitCursor(t, head)

	assertOnce(t, b.fake, day.ids)
	sum, _ := b.fake.Document(day.ids[0])
	day.berlin0.check(t, sum)
	berlin, _ := time.LoadLocation(eventtest.Zone)
	if sum.Kind != erp.Summary || sum.Location != "berlin" || sum.Currency != "EUR" ||
		!sum.PeriodStart.Equal(day.p0) || !sum.PeriodEnd.Equal(day.p0.Add(time.Hour)) ||
		sum.LocalDate != day.p0.In(berlin).Format("2006-01-02") || !strings.Contains(sum.Memo, "302 POS documents") {
		t.Errorf("summary header %s %s %s %s–%s %s %q, want berlin's EUR summary of the hour %s with 302 documents",
			sum.Kind, sum.Location, sum.Currency, sum.PeriodStart, sum.PeriodEnd, sum.LocalDate, sum.Memo, day.p0)
	}
	if ham, _ := b.fake.Document(day.ids[1]); len(ham.EventIDs) != 5 || len(ham.Payments) != 1 || ham.Payments[0] != (erp.Payment{Method: "card", Brand: "amex", Amount: 5000}) {
		t.Errorf("hamburg summary %+v, want 5 sales, 50.00 on amex", ham)
	}
	if next, _ := b.fake.Document(day.ids[2]); len(next.EventIDs) != 3 {
		t.Errorf("berlin's next hour carries %d events, want 3", len(next.EventIDs))
	}
	if adj, _ := b.fake.Document("adj-1"); adj.Kind != erp.InventoryAdjustment {
		t.Errorf("adj-1 posted as %s, want an inventory adjustment in detail", adj.Kind)
	}

	// Every POS document traces to its summary.
	for id, want := range map[string]string{"sale-000": day.ids[0], "sale-299": day.ids[0], "ret-1": day.ids[0], "void-2": day.ids[0],
		"ham-4": day.ids[1], "next-0": day.ids[2], "adj-1": "", "drawer-1": ""} {
		got, err := b.st.SummaryOf(ctx, b.cfg.Name, id)
		if err != nil || got != want {
			t.Errorf("SummaryOf(%s) = %q, %v; want %q", id, got, err, want)
		}
	}
	// Hundreds of events per request.
	calls, _, _ := b.fake.Stats()
	docs, events, err := b.st.DeliveryCounts(ctx, b.cfg.Name)
	if err != nil || docs != day.docs || events != day.evs {
		t.Errorf("DeliveryCounts = %d, %d (%v); want %d documents carrying %d events", docs, events, err, day.docs, day.evs)
	}
	if calls != day.docs {
		t.Errorf("%d calls to the ERP for %d events, want %d", calls, day.evs, day.docs)
	}
}

// A restarted or rewound summary destination does not post the same
// events again; a late event for a period already posted goes into the
// period's next part.
func TestSummaryNeverPostsEventsTwice(t *testing.T) {
	t.Parallel()
	b := setupSummary(t)
	ctx := context.Background()
	day := summaryMix()
	head := b.add(t, day.events...)
	stop := b.run(t)
	b.waitCursor(t, head)
	assertOnce(t, b.fake, day.ids)
	stop()

	b.run(t)
	if err := b.st.RequestRewind(ctx, b.cfg.Name, 0); err != nil {
		t.Fatal(err)
	}
	// The rewind re-posts the detail document; summaries are not rebuilt.
	eventually(t, 10*time.Second, func() (bool, string) {
		st, err := b.st.GetDestinationState(ctx, b.cfg.Name)
		return err == nil && st.ReplayFrom == -1 && b.fake.Posts()["adj-1"] == 2, fmt.Sprintf("state %+v, adj-1 posted %d times", st, b.fake.Posts()["adj-1"])
	})
	b.waitCursor(t, head)
	time.Sleep(1200 * time.Millisecond) // periods close by the clock, about once a second
	assertOnce(t, b.fake, day.ids)
	for _, id := range day.ids[:3] {
		if n := b.fake.Posts()[id]; n != 1 {
			t.Errorf("%s posted %d times, want once", id, n)
		}
	}

	late := till{id: "sale-late", loc: "berlin", at: day.p0.Add(30 * time.Minute), method: event.TenderCash}
	head = b.add(t, late.event())
	b.waitCursor(t, head)
	part2 := summaryID("berlin", day.p0, 2)
	assertOnce(t, b.fake, append(day.ids, part2))
	want := newTotals()
	want.sale(late, 1, "sale-late")
	doc, _ := b.fake.Document(part2)
	want.check(t, doc)
	if got, _ := b.st.SummaryOf(ctx, b.cfg.Name, "sale-late"); got != part2 {
		t.Errorf("SummaryOf(sale-late) = %q, want %q", got, part2)
	}
	if got, _ := b.st.SummaryOf(ctx, b.cfg.Name, "sale-000"); got != day.ids[0] {
		t.Errorf("SummaryOf(sale-000) = %q, want part 1 %q", got, day.ids[0])
	}
}

// A summary the ERP refuses is parked like any document and keeps its part
// number: a late event of its period, even after a restart, goes into a
// new part behind it instead of reusing (and overwriting) the parked one.
func TestSummaryParkedKeepsItsPart(t *testing.T) {
	t.Parallel()
	b := setupSummary(t)
	ctx := context.Background()
	day := summaryMix()
	part1 := day.ids[0]
	b.fake.FailNext(part1, -1, erp.Permanent, "Accounting period Nov 2026 is closed")
	head := b.add(t, day.events...)
	stop := b.run(t)
	b.waitCursor(t, head)
	stop()
	if d := b.dead(t, store.DeadParked)[part1]; d.Kind != string(erp.Summary) || !strings.Contains(d.Error, "period Nov 2026 is closed") {
		t.Fatalf("parked summary %+v, want %s with the ERP's error", d, part1)
	}

	b.run(t)
	late := till{id: "sale-late", loc: "berlin", at: day.p0.Add(30 * time.Minute), method: event.TenderCash}
	head = b.add(t, late.event())
	b.waitCursor(t, head)
	part2 := summaryID("berlin", day.p0, 2)
	parked := b.dead(t, store.DeadParked)
	if d, ok := parked[part2]; !ok || !strings.Contains(d.Error, "waiting behind dead letter "+part1) {
		t.Fatalf("parked %v, want %s waiting behind %s", keys(parked), part2, part1)
	}
	if d := parked[part1]; !strings.Contains(d.Error, "period Nov 2026 is closed") {
		t.Errorf("%s error became %q, want the ERP's", part1, d.Error)
	}

	b.fake.FailNext(part1, 0, 0, "") // the period is reopened
	if _, err := b.st.RequestReplay(ctx, b.cfg.Name, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() (bool, string) {
		r := b.dead(t, store.DeadResolved)
		return len(r) == 2, fmt.Sprintf("resolved %v", keys(r))
	})
	assertOnce(t, b.fake, append(day.ids, part2))
	assertBefore(t, b.fake, [][2]string{{part1, part2}})
	doc, _ := b.fake.Document(part1)
	day.berlin0.check(t, doc)
	for id, want := range map[string]string{"sale-000": part1, "sale-late": part2} {
		if got, _ := b.st.SummaryOf(ctx, b.cfg.Name, id); got != want {
			t.Errorf("SummaryOf(%s) = %q, want %q", id, got, want)
		}
	}
	berlin, _ := time.LoadLocation(eventtest.Zone)
	if n, err := b.st.SummaryParts(ctx, b.cfg.Name, "berlin/"+day.p0.In(berlin).Format("20060102T1504")); err != nil || n != 2 {
		t.Errorf("SummaryParts of berlin's hour = %d, %v; want 2", n, err)
	}
}
