package quarantine

import (
	"github.com/tillsync/tillsync/internal/event"
	"github.com/tillsync/tillsync/internal/mapping"
	"github.com/tillsync/tillsync/internal/store"
)

// line points into one line of an event body: its SKU, the code as
// scanned, and the description the till printed (priced lines only).
type line struct {
	sku  *string
	code *string
	desc string
}

// lines returns every SKU line of an event, in order; events without
// lines (voids, drawer counts, cancels) have none.
func lines(e *event.Event) []line {
	sale := func(ls []event.SaleLine) []line {
		out := make([]line, len(ls))
		for i := range ls {
			out[i] = line{sku: &ls[i].SKU, code: &ls[i].Code, desc: ls[i].Description}
		}
		return out
	}
	plain := func(ls []event.Line) []line {
		out := make([]line, len(ls))
		for i := range ls {
			out[i] = line{sku: &ls[i].SKU, code: &ls[i].Code}
		}
		return out
	}
	switch b := e.Body.(type) {
	case *event.Sale:
		return sale(b.Lines)
	case *event.Return:
		return sale(b.Lines)
	case *event.OnlineOrder:
		return sale(b.Lines)
	case *event.Adjustment:
		return plain(b.Lines)
	case *event.Receipt:
		return plain(b.Lines)
	case *event.TransferOut:
		return plain(b.Lines)
	case *event.TransferIn:
		return plain(b.Lines)
	case *event.StockCount:
		return plain(b.Lines)
	case *event.Fulfilment:
		return plain(b.Lines)
	}
	return nil
}

// rewrite is what resolving an event's codes decided.
type rewrite struct {
	// unresolved are the codes no SKU was sure enough for.
	unresolved []store.UnresolvedCode
	// repairs are the automatic repairs to record.
	repairs []store.Repair
	// sets are the line changes apply makes.
	sets []set
}

type set struct {
	l         line
	sku, code string
}

// apply rewrites the resolved lines: the catalog SKU, and the code as
// scanned alongside it.
func (rw *rewrite) apply() {
	for _, s := range rw.sets {
		*s.l.sku, *s.l.code = s.sku, s.code
	}
}

// quiet evidence needs no repair record: the code is a catalog SKU, or
// the source's configured mapping says what it is.
func quiet(evidence string) bool { return evidence == "exact" || evidence == "source_map" }

// resolve decides every line's SKU with r, changing nothing in e until
// apply, so a quarantined event keeps the form it arrived in.
func resolve(r *mapping.Resolver, e *event.Event) rewrite {
	var rw rewrite
	cat := r.Catalog()
	for i, l := range lines(e) {
		code := *l.sku
		if *l.code != "" {
			// Already rewritten once (a released event offered again):
			// resolve what the till sent, not what a rule made of it.
			code = *l.code
		}
		if _, ok := cat.Item(code); ok {
			if *l.sku != code || *l.code != "" {
				rw.sets = append(rw.sets, set{l: l, sku: code})
			}
			continue
		}
		s := r.Suggest(code, l.desc, e.Source)
		best, ok := s.Best()
		if !s.AutoApply || !ok {
			rw.unresolved = append(rw.unresolved, store.UnresolvedCode{Line: i, Code: code, Description: l.desc})
			continue
		}
		if !quiet(best.Evidence) {
			who := "tillsync:" + best.Evidence
			if best.Evidence == "rule" {
				who = "rule"
			}
			rw.repairs = append(rw.repairs, store.Repair{EventID: e.ID, Line: i, Source: e.Source, Code: code, SKU: best.SKU,
				Confidence: best.Confidence, Evidence: best.Evidence, Detail: best.Detail, Who: who})
		}
		rw.sets = append(rw.sets, set{l: l, sku: best.SKU, code: code})
	}
	return rw
}
