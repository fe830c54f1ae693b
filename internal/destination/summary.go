package destination

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tillsync/tillsync/internal/erp"
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/store"
)

// summarizer gathers a summary destination's financial documents (sales,
// refunds, voids) into one summary per store and period: totals by tender,
// tax code and SKU — sanitized aggregates only — posted once the period has
// ended and its grace passed. Each summary lists the events inside it, so
// every total traces back to its POS documents. Stock documents still go
// in detail, in the stock lane, ahead of summaries.
type summarizer struct {
	d       *ERPDestination
	buckets map[string]*bucket
	// nextPart numbers a period's summaries: late events after a period's
	// summary was posted go into the next part.
	nextPart map[string]int
}

type bucket struct {
	key        string
	doc        erp.Document
	seqs       []int64
	end        time.Time
	payments   map[[2]string]*erp.Payment
	taxes      map[string]*erp.TaxLine
	lines      map[string]*erp.Line
	currencies map[string]bool
}

func newSummarizer(d *ERPDestination) *summarizer {
	return &summarizer{d: d, buckets: map[string]*bucket{}, nextPart: map[string]int{}}
}

// takes reports whether a document goes into a summary.
func (s *summarizer) takes(doc *erp.Document) bool {
	return doc.Kind == erp.CashSale || doc.Kind == erp.CashRefund
}

// period returns the store-local period an event falls in.
func (s *summarizer) period(e *event.Event) (start, end time.Time) {
	local := e.LocalTime()
	midnight := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	iv := s.d.cfg.Interval
	if iv >= 24*time.Hour {
		return midnight, midnight.AddDate(0, 0, 1)
	}
	start = midnight.Add(local.Sub(midnight) / iv * iv)
	return start, start.Add(iv)
}

func (s *summarizer) add(st *store.Stored, doc *erp.Document) {
	e := st.Event
	start, end := s.period(e)
	key := e.Location + "/" + start.Format("20060102T1504")
	b := s.buckets[key]
	if b == nil {
		b = &bucket{key: key, end: end, payments: map[[2]string]*erp.Payment{}, taxes: map[string]*erp.TaxLine{},
			lines: map[string]*erp.Line{}, currencies: map[string]bool{},
			doc: erp.Document{Kind: erp.Summary, Location: e.Location, Date: start.UTC(), LocalDate: start.Format("2006-01-02"),
				PeriodStart: start.UTC(), PeriodEnd: end.UTC()}}
		s.buckets[key] = b
	}
	sign := int64(1)
	if doc.Kind == erp.CashRefund {
		sign = -1
	}
	b.currencies[doc.Currency] = true
	b.doc.Currency = doc.Currency
	for _, p := range doc.Payments {
		k := [2]string{p.Method, p.Brand}
		t := b.payments[k]
		if t == nil {
			t = &erp.Payment{Method: p.Method, Brand: p.Brand}
			b.payments[k] = t
		}
		t.Amount += sign * p.Amount
		t.Tip += sign * p.Tip
	}
	for _, x := range doc.Taxes {
		t := b.taxes[x.Code]
		if t == nil {
			t = &erp.TaxLine{Code: x.Code, RateBP: x.RateBP}
			b.taxes[x.Code] = t
		}
		t.Amount += sign * x.Amount
	}
	for _, l := range doc.Lines {
		t := b.lines[l.SKU]
		if t == nil {
			t = &erp.Line{SKU: l.SKU, TaxCode: l.TaxCode}
			b.lines[l.SKU] = t
		}
		t.Quantity += event.Qty(sign) * l.Quantity
		t.Amount += sign * l.Amount
		t.Discount += sign * l.Discount
		t.Tax += sign * l.Tax
	}
	b.seqs = append(b.seqs, st.Seq)
	b.doc.EventIDs = append(b.doc.EventIDs, e.ID)
}

// closeDue turns every bucket whose period ended (plus grace) into a
// summary document in the financial lane.
func (s *summarizer) closeDue(now time.Time) {
	var keys []string
	for k, b := range s.buckets {
		if !now.Before(b.end.Add(s.d.cfg.Grace)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		b := s.buckets[k]
		delete(s.buckets, k)
		if len(b.currencies) > 1 {
			// Totals in two currencies cannot be one record: park it for a
			// human rather than add euros to dollars.
			it := &item{doc: b.doc, seqs: b.seqs, thread: "summary:" + k, first: now, periodKey: k, part: s.part(k)}
			it.doc.ExternalID = s.externalID(k, it.part)
			s.d.park(it, erp.Permanent, fmt.Sprintf("summary %s mixes currencies %v", k, keysOf(b.currencies)))
			continue
		}
		part := s.part(k)
		doc := b.doc
		doc.ExternalID = s.externalID(k, part)
		doc.Payments = sortedPayments(b.payments)
		doc.Taxes = sortedTaxes(b.taxes)
		doc.Lines = sortedLines(b.lines)
		doc.Memo = fmt.Sprintf("tillsync summary of %d POS documents, %s to %s", len(doc.EventIDs),
			doc.PeriodStart.Format(time.RFC3339), doc.PeriodEnd.Format(time.RFC3339))
		s.d.enqueue(&item{doc: doc, seqs: b.seqs, thread: "summary:" + k, first: now, periodKey: k, part: part})
	}
}

// part returns the next part number of a period's summary.
func (s *summarizer) part(key string) int {
	n, ok := s.nextPart[key]
	if !ok {
		posted, err := s.d.store.SummaryParts(context.Background(), s.d.cfg.Name, key)
		if err != nil {
			s.d.log.Warn("read summary parts", "period", key, "err", err)
		}
		n = posted + 1
	}
	s.nextPart[key] = n + 1
	return n
}

// externalID names a summary: destination, store, period and part —
// deterministic, so a re-post after a crash updates the same ERP record.
func (s *summarizer) externalID(key string, part int) string {
	return fmt.Sprintf("SUM-%s-%s-%d", s.d.cfg.Name, strings.ReplaceAll(key, "/", "-"), part)
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedPayments(m map[[2]string]*erp.Payment) []erp.Payment {
	out := make([]erp.Payment, 0, len(m))
	for _, p := range m {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Method != out[j].Method {
			return out[i].Method < out[j].Method
		}
		return out[i].Brand < out[j].Brand
	})
	return out
}

func sortedTaxes(m map[string]*erp.TaxLine) []erp.TaxLine {
	out := make([]erp.TaxLine, 0, len(m))
	for _, t := range m {
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

func sortedLines(m map[string]*erp.Line) []erp.Line {
	out := make([]erp.Line, 0, len(m))
	for _, l := range m {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	return out
}
